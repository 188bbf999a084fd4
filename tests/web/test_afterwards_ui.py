"""The web UI around downtime: the sheet from the roster, the badge, and the doctor's list of paper records."""

from datetime import date, datetime, time, timedelta

from api.web import i18n
from dispensing.models import Dispense
from dispensing.services import dispense as window
from dispensing.services.roster import build_roster
from tests.conftest import TZ
from tests.web._ui import ui  # noqa: F401  (a fixture)

MONDAY = date(2026, 3, 2)


def paper_dispense(factory, clock, site, patient_id):
    """A dose given at 08:20 from the sheet, entered at the clock's time."""
    ctx = factory.ctx(factory.nurse)
    slot = next(e.slot for e in build_roster(ctx, site.id, MONDAY) if e.patient.id == patient_id)
    given = datetime.combine(MONDAY, time(8, 20), tzinfo=TZ)
    result = window.dispense(ctx, slot.id, breath_promille=None, supervised=True, take_home_days=0, given_at=given)
    factory.session.commit()
    return result.dispense


def test_the_roster_links_the_sheet_and_marks_a_dose_entered_afterwards(ui, factory, clock):
    i18n.MISSING.clear()
    site = factory.site()
    order = factory.order(factory.patient(name="Åse Højgaard"), site)
    clock.set(MONDAY, time(11))
    d = paper_dispense(factory, clock, site, order.patient_id)
    ui.login(factory.nurse)
    roster = ui.page(f"/ui/roster?site_id={site.id}&date={MONDAY.isoformat()}")
    assert "Udskriv nødliste" in roster.text and "Registreret efterfølgende" in roster.text
    sheet = ui.page(f"/ui/sites/{site.id}/contingency.pdf?date={MONDAY.isoformat()}")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    page = ui.page(f"/ui/dispenses/{d.id}")
    assert "Fra nødlisten, indtastet" in page.text and "08:20" in page.text
    assert i18n.MISSING == set()


def test_the_doctors_desk_lists_todays_records_entered_afterwards(ui, factory, clock):
    i18n.MISSING.clear()
    site = factory.site()
    paper = factory.order(factory.patient(name="Papir Patient"), site)
    at_window = factory.order(factory.patient(name="Luge Patient"), site)
    clock.set(MONDAY, time(9, 35))  # the system is back inside the window
    paper_dispense(factory, clock, site, paper.patient_id)
    ctx = factory.ctx(factory.nurse)
    slot = next(e.slot for e in build_roster(ctx, site.id, MONDAY) if e.patient.id == at_window.patient_id)
    window.dispense(ctx, slot.id, breath_promille=None, supervised=True, take_home_days=0)
    factory.session.commit()
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor").text
    section = desk[desk.index('id="entered-afterwards"') :]
    assert "Papir Patient" in section and "08:20" in section and "09:35" in section
    assert "Luge Patient" not in section
    assert i18n.MISSING == set()


def test_the_nurse_enters_a_paper_record_on_the_doses_page(ui, factory, clock, session):
    """The system was down at 08:00: back at 11:00, the nurse enters the sheet's 08:15 on the dose's page."""
    i18n.MISSING.clear()
    site = factory.site()
    order = factory.order(factory.patient(name="Nød Nielsen"), site)
    clock.set(MONDAY, time(11))
    slot = next(e.slot for e in build_roster(factory.ctx(factory.nurse), site.id, MONDAY))
    factory.session.commit()
    ui.login(factory.nurse)
    page = ui.page(f"/ui/slots/{slot.id}")
    assert "Indtast fra nødlisten (systemet var nede)" in page.text and 'action="/ui/slots/' in page.text

    later = ui.post(f"/ui/slots/{slot.id}/paper", {"given_time": "11:30", "supervised": "1", "take_home_days": "0"})
    assert later.status_code == 422 and "ligger efter nu" in later.text  # the sheet's time is never ahead
    assert 'value="11:30"' in later.text  # what the nurse typed stays on the page
    unreadable = ui.post(f"/ui/slots/{slot.id}/paper", {"given_time": "kvart over", "take_home_days": "0"})
    assert unreadable.status_code == 422 and "TT:MM" in unreadable.text

    r = ui.post(f"/ui/slots/{slot.id}/paper", {"given_time": "08:15", "supervised": "1", "take_home_days": "0"})
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/dispenses/")
    d = session.get(Dispense, int(r.headers["location"].split("/")[-1].split("?")[0]))
    assert d.dispensed_at == datetime.combine(MONDAY, time(8, 15), tzinfo=TZ) and d.recorded_afterwards
    assert d.prescription_id == order.id and d.recorded_by_id == factory.nurse.id
    assert "Fra nødlisten, indtastet" in ui.page(f"/ui/dispenses/{d.id}").text
    assert "Indtast fra nødlisten" not in ui.page(f"/ui/slots/{slot.id}").text  # handled: no second record
    assert i18n.MISSING == set()


def test_yesterdays_dose_the_day_marked_missed_takes_its_paper_record_today_and_no_later(ui, factory, clock):
    site = factory.site()
    factory.order(factory.patient(name="Går Gammel"), site)
    clock.set(MONDAY, time(7))
    slot = next(e.slot for e in build_roster(factory.ctx(factory.nurse), site.id, MONDAY))
    factory.session.commit()
    clock.set(MONDAY + timedelta(days=1), time(9))
    build_roster(factory.ctx(factory.nurse), site.id, MONDAY)  # the day passed: "not collected"
    factory.session.commit()
    ui.login(factory.nurse)
    assert "Indtast fra nødlisten" in ui.page(f"/ui/slots/{slot.id}").text
    clock.set(MONDAY + timedelta(days=2), time(9))
    ui.login(factory.nurse)
    assert "Indtast fra nødlisten" not in ui.page(f"/ui/slots/{slot.id}").text  # two days on: the doctor's
