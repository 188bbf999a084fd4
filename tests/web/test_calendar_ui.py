"""Closed days in the browser, in Danish: the admin's closed days, the doctor's closure plan and
desk, the nurse's roster on a closed day, and dose steps on the order form."""

from datetime import date

from api.web import i18n
from dispensing.enums import Drug
from tests.web._ui import ui  # noqa: F401


def test_admin_closes_a_day_and_switches_the_holiday_rule(ui, factory, clock):
    clock.set(date(2026, 12, 14))
    site = factory.site()
    ui.login(factory.admin)
    page = ui.page(f"/ui/calendar?site_id={site.id}&first=2026-12-20&last=2027-01-03")
    assert page.status_code == 200
    assert "Juledag" in page.text and "Lukket på danske helligdage" in page.text
    r = ui.post(f"/ui/calendar/{site.id}/closures", {"days": "2026-12-28 Personaledag"})
    assert r.status_code == 303
    page = ui.page(f"/ui/calendar?site_id={site.id}&first=2026-12-20&last=2027-01-03")
    assert "Personaledag" in page.text and "Lukket af administrator" in page.text
    bad = ui.post(f"/ui/calendar/{site.id}/closures", {"days": "28-12-2026 Personaledag"})
    assert bad.status_code == 422 and "kan ikke læses" in bad.text
    r = ui.post(f"/ui/calendar/{site.id}/holiday-rule", {})  # unchecked: open on holidays
    assert r.status_code == 303
    assert "Åbent på danske helligdage" in ui.page(f"/ui/calendar?site_id={site.id}").text


def test_doctor_sees_unresolved_doses_and_moves_one(ui, factory, clock):
    clock.set(date(2026, 12, 14))
    site, other = factory.site(), factory.site()
    order = factory.order(factory.patient(name="Bodil Bæk"), site, drug=Drug.METHADONE, dose="30")
    ui.login(factory.admin)
    ui.page(f"/ui/calendar?site_id={other.id}")
    ui.post(f"/ui/calendar/{other.id}/holiday-rule", {})
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor")
    assert "Lukkedage: doser uden dækning" in desk.text and "Bodil Bæk" in desk.text
    assert "Kun superviseret indtagelse" in desk.text
    plan = ui.page(f"/ui/calendar?site_id={site.id}&first=2026-12-24&last=2026-12-26")
    assert plan.text.count("Flyt dosen") == 3
    r = ui.post(
        "/ui/calendar/moves",
        {
            "prescription_id": order.id,
            "day": "2026-12-25",
            "site_id": site.id,
            "to_site_id": other.id,
            "reason": "superviseret",
        },
    )
    assert r.status_code == 303
    plan = ui.page(f"/ui/calendar?site_id={site.id}&first=2026-12-24&last=2026-12-26")
    assert f"Flyttet til {other.name}" in plan.text and plan.text.count("Flyt dosen") == 2
    # a move on an open day is refused in Danish
    r = ui.post(
        "/ui/calendar/moves",
        {"prescription_id": order.id, "day": "2026-12-22", "site_id": site.id, "to_site_id": other.id, "reason": "x"},
    )
    assert r.status_code == 409 and "har åbent" in r.text


def test_nurse_roster_on_a_closed_day_says_so(ui, factory, clock):
    clock.set(date(2026, 12, 25))
    site = factory.site()
    ui.login(factory.nurse)
    page = ui.page(f"/ui/roster?site_id={site.id}")
    assert "Lukket i dag" in page.text and "Juledag" in page.text


def test_order_form_takes_dose_steps(ui, factory, clock):
    site, patient = factory.site(), factory.patient()
    ui.login(factory.doctor)
    form = {
        "patient_id": patient.id,
        "drug": "methadone",
        "product": "",
        "dose": "30",
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "supervised": "on",
        "site_id": site.id,
        "start_date": "2026-03-02",
        "indication": "opioidafhængighed",
        "steps": "2026-03-09 35\n2026-03-16 40",
    }
    r = ui.post("/ui/doctor/orders", form)
    assert r.status_code == 303
    desk = ui.page("/ui/doctor")
    assert "Dosistrin" in desk.text and "40 mg" in desk.text
    bad = ui.post("/ui/doctor/orders", form | {"steps": "2026-03-09 35\n2026-03-09 40"})
    assert bad.status_code == 422 and "To trin begynder" in bad.text
    unreadable = ui.post("/ui/doctor/orders", form | {"steps": "2026-03-09 35\nmandag 40"})
    assert unreadable.status_code == 422 and "mandag 40" in unreadable.text  # the line it could not read


def test_every_calendar_word_is_danish(ui, factory, clock):
    i18n.MISSING.clear()
    clock.set(date(2026, 12, 14))
    site = factory.site()
    factory.order(factory.patient(), site, drug=Drug.METHADONE, dose="30", pickup_weekdays=(0, 3))
    factory.order(factory.patient(), site, drug=Drug.METHADONE, dose="30")
    factory.order(factory.patient(), site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    for user in (factory.admin, factory.doctor, factory.nurse):
        ui.login(user)
        assert ui.page(f"/ui/calendar?site_id={site.id}&first=2026-12-20&last=2027-01-03").status_code == 200
    ui.login(factory.doctor)
    ui.page("/ui/doctor")
    clock.set(date(2026, 12, 25))
    ui.login(factory.nurse)
    ui.page(f"/ui/roster?site_id={site.id}")
    assert i18n.MISSING == set()


def test_order_form_takes_a_split_dose_and_the_roster_shows_the_parts(ui, factory, clock):
    from dispensing.models import Prescription
    from dispensing.services import prescriptions
    from tests.conftest import PASSWORD

    site, patient = factory.site(), factory.patient(name="Signe Split")
    ui.login(factory.doctor)
    form = {
        "patient_id": patient.id,
        "drug": "methadone",
        "product": "",
        "dose": "30",
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "supervised": "on",
        "site_id": site.id,
        "start_date": "2026-03-02",
        "indication": "gravid uge 34",
        "doses": "08:00 20 S\n20:00 10 H",
    }
    bad = ui.post("/ui/doctor/orders", form | {"doses": "08:00 20 S\n20:00 5 H"})
    assert bad.status_code == 422 and "giver tilsammen 25 mg" in bad.text
    unreadable = ui.post("/ui/doctor/orders", form | {"doses": "08:00 20 X"})
    assert unreadable.status_code == 422 and "kan ikke læses" in unreadable.text
    assert ui.post("/ui/doctor/orders", form).status_code == 303
    order = factory.session.query(Prescription).filter_by(patient_id=patient.id).one()
    prescriptions.sign_order(factory.ctx(factory.doctor), order.id, PASSWORD)
    factory.session.commit()
    ui.login(factory.nurse)
    roster = ui.page(f"/ui/roster?site_id={site.id}").text
    assert roster.count("Signe Split") == 2
    assert "Del: kl. 08:00, superviseret" in roster and "Del: kl. 20:00, hjemmedosis" in roster
    # The take-home part's dispense page does not ask for supervised intake; the morning part's does.
    import re

    slots = re.findall(r'href="/ui/slots/(\d+)"', roster)
    pages = [ui.page(f"/ui/slots/{s}").text for s in slots]
    checked = ['id="supervised" name="supervised" value="1" checked' in p for p in pages]
    assert sorted(checked) == [False, True]
