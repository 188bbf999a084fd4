"""Closed days (DOMAIN.md rule 17) through HTTP: Christmas 2026 and Easter 2027 at a clinic with
take-home, supervised-only and Antabus patients, and a site that keeps its holidays open."""

from datetime import date

from dispensing.enums import Drug
from tests.api._helpers import api, expect  # noqa: F401  (api is a fixture)

MON, THU = 0, 3


def methadone(factory, site, **terms):
    return factory.order(factory.patient(), site, drug=Drug.METHADONE, dose="30", **terms)


def antabus(factory, site, **terms):
    return factory.order(factory.patient(), site, drug=Drug.DISULFIRAM, dose="400", weekdays=(MON, THU), **terms)


def plan(api, site_id, first, last, user=None):
    r = api.get(
        f"/sites/{site_id}/closure-plan",
        user or api.factory.doctor,
        params={"from": first.isoformat(), "to": last.isoformat()},
    )
    return {(i["prescription_id"], i["date"]): i for i in expect(r, 200)}


def christmas_clinic(api, factory, clock):
    clock.set(date(2026, 12, 14))  # a Monday; the orders start on the Monday before Christmas
    site = factory.site()
    start = date(2026, 12, 21)
    take_home = methadone(factory, site, pickup_weekdays=(MON, THU), start=start)
    supervised = methadone(factory, site, start=start)
    disulfiram = antabus(factory, site, start=start)
    return site, take_home, supervised, disulfiram


def test_closed_days_list_the_danish_holidays_and_added_days(api, factory, clock):
    clock.set(date(2026, 12, 14))
    site = factory.site()
    body = [{"date": "2026-12-28", "reason": "Personaledag"}]
    expect(api.put(f"/sites/{site.id}/closures", factory.admin, json=body), 200)
    r = api.get(f"/sites/{site.id}/closures", factory.nurse, params={"from": "2026-12-20", "to": "2027-01-03"})
    days = {d["date"]: (d["reason"], d["source"]) for d in expect(r, 200)}
    assert days == {
        "2026-12-24": ("Juleaftensdag", "holiday"),
        "2026-12-25": ("Juledag", "holiday"),
        "2026-12-26": ("Anden juledag", "holiday"),
        "2026-12-28": ("Personaledag", "added"),
        "2027-01-01": ("Nytårsdag", "holiday"),
    }
    # only the admin closes a site; a nurse may read the days
    assert api.put(f"/sites/{site.id}/closures", factory.nurse, json=body).status_code == 403
    bad = api.put(f"/sites/{site.id}/closures", factory.admin, json=[{"date": "2026-12-01", "reason": "x"}])
    assert expect(bad, 422)["code"] == "closure.in_past"
    twice = api.put(f"/sites/{site.id}/closures", factory.admin, json=body + body)
    assert expect(twice, 422)["code"] == "closure.duplicate_day"


def test_christmas_plan_covers_take_home_and_leaves_supervised_and_antabus_to_the_doctor(api, factory, clock):
    site, take_home, supervised, disulfiram = christmas_clinic(api, factory, clock)
    items = plan(api, site.id, date(2026, 12, 20), date(2027, 1, 3))

    for day in ("2026-12-24", "2026-12-25", "2026-12-26"):
        th = items[(take_home.id, day)]
        assert (th["status"], th["pickup_date"]) == ("take_home", "2026-12-21")  # Thursday 24th is closed
        so = items[(supervised.id, day)]
        assert (so["status"], so["unresolved_reason"]) == ("unresolved", "supervised_only")
    assert items[(take_home.id, "2027-01-01")]["pickup_date"] == "2026-12-31"
    assert items[(disulfiram.id, "2026-12-24")]["unresolved_reason"] == "antabus"
    assert (disulfiram.id, "2026-12-25") not in items  # not due on a Friday

    # The doctor's desk: unresolved doses of the next 14 days (policy), not New Year yet.
    desk = expect(api.get("/closure-plan/unresolved", factory.doctor), 200)
    listed = {(i["prescription_id"], i["date"]) for i in desk}
    assert {(supervised.id, d) for d in ("2026-12-24", "2026-12-25", "2026-12-26")} <= listed
    assert (disulfiram.id, "2026-12-24") in listed
    assert not any(pid == take_home.id for pid, _ in listed)
    assert (supervised.id, "2027-01-01") not in listed
    assert api.get("/closure-plan/unresolved", factory.nurse).status_code == 403


def test_take_home_on_the_last_open_day_covers_the_closure_and_prints_labels(api, factory, clock):
    site, take_home, supervised, _ = christmas_clinic(api, factory, clock)
    clock.set(date(2026, 12, 21))
    line = api.slot(site.id, date(2026, 12, 21), take_home.patient_id)
    assert line["take_home_days"] == 6  # 22-27 December: Thursday's pickup is closed, next is Monday 28th
    done = expect(api.dispense(line["slot_id"]), 201)
    assert done["covers"][-1] == "2026-12-27" and len(done["covers"]) == 7
    pdf = api.get(f"/dispenses/{done['dispense_id']}/label.pdf", factory.nurse)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    items = plan(api, site.id, date(2026, 12, 24), date(2026, 12, 26))
    assert all(items[(take_home.id, d)]["done"] for d in ("2026-12-24", "2026-12-25", "2026-12-26"))

    # On Christmas Day the clinic's roster has nothing due; the covered dose shows as covered.
    clock.set(date(2026, 12, 25))
    roster = api.roster(site.id, date(2026, 12, 25))
    assert [(i["patient"]["id"], i["status"]) for i in roster] == [(take_home.patient_id, "covered")]


def test_supervised_only_patient_is_never_given_take_home_across_the_closure(api, factory, clock):
    site, _, supervised, _ = christmas_clinic(api, factory, clock)
    clock.set(date(2026, 12, 23))
    line = api.slot(site.id, date(2026, 12, 23), supervised.patient_id)
    assert line["take_home_days"] == 0
    r = api.dispense(line["slot_id"], take_home_days=1)
    assert r.status_code == 422


def test_the_doctor_moves_a_dose_to_an_open_site(api, factory, clock):
    site, _, supervised, _ = christmas_clinic(api, factory, clock)
    open_site = factory.site()
    expect(api.put(f"/sites/{open_site.id}/holiday-rule", factory.admin, json={"danish_public_holidays": False}), 200)
    body = {
        "prescription_id": supervised.id,
        "date": "2026-12-25",
        "site_id": open_site.id,
        "reason": "Daglig superviseret",
    }
    moved = expect(api.post("/closure-plan/moves", factory.doctor, json=body), 201)
    assert moved["to_site_id"] == open_site.id
    item = plan(api, site.id, date(2026, 12, 25), date(2026, 12, 25))[(supervised.id, "2026-12-25")]
    assert (item["status"], item["moved_to_site_id"]) == ("moved", open_site.id)

    # Only the doctor, only a closed day, only an open clinic.
    assert api.post("/closure-plan/moves", factory.nurse, json=body).status_code == 403
    open_day = dict(body, date="2026-12-22")
    assert (
        expect(api.post("/closure-plan/moves", factory.doctor, json=open_day), 409)["code"] == "closure.move_site_open"
    )
    closed_target = dict(body, date="2026-12-26", site_id=factory.site().id)
    assert expect(api.post("/closure-plan/moves", factory.doctor, json=closed_target), 409)["code"] == "site.closed"

    expect(api.post("/closure-plan/moves", factory.doctor, json=dict(body, date="2026-12-24")), 201)
    # Every day of the week before, and over Christmas, has its dose: supervised, at one site or the other.
    for d in range(21, 26):
        clock.set(date(2026, 12, d))
        here = site if d < 24 else open_site
        line = api.slot(here.id, date(2026, 12, d), supervised.patient_id)
        assert (line["status"], line["missed_consecutive"], line["blocked_reason"]) == ("due", 0, None)
        expect(api.dispense(line["slot_id"]), 201)
    assert all(i["patient"]["id"] != supervised.patient_id for i in api.roster(site.id, date(2026, 12, 25)))


def test_window_refuses_a_dose_at_a_site_on_its_added_closed_day(api, factory, clock):
    clock.set(date(2026, 12, 14))
    site = factory.site()
    order = methadone(factory, site)
    line = api.slot(site.id, date(2026, 12, 14), order.patient_id)  # the slot exists (the roster was opened)
    body = [{"date": "2026-12-14", "reason": "Strømsvigt"}]
    expect(api.put(f"/sites/{site.id}/closures", factory.admin, json=body), 200)
    refused = expect(api.dispense(line["slot_id"]), 409)
    assert refused["code"] == "site.closed" and refused["params"]["reason"] == "Strømsvigt"


def test_a_closure_on_a_day_with_doses_handed_out_is_refused(api, factory, clock):
    clock.set(date(2026, 12, 14))
    site = factory.site()
    patient = factory.patient(name="Jens Juhl")
    order = factory.order(patient, site, drug=Drug.METHADONE, dose="30")
    line = api.slot(site.id, date(2026, 12, 14), order.patient_id)
    expect(api.dispense(line["slot_id"]), 201)
    r = api.put(f"/sites/{site.id}/closures", factory.admin, json=[{"date": "2026-12-14", "reason": "Lukket"}])
    body = expect(r, 409)
    assert body["code"] == "closure.doses_handled"
    assert "Jens Juhl" in body["detail"]
    assert (
        api.get(f"/sites/{site.id}/closures", factory.nurse, params={"from": "2026-12-14", "to": "2026-12-14"}).json()
        == []
    )


def test_a_site_that_keeps_its_holidays_open(api, factory, clock):
    clock.set(date(2026, 12, 21))
    site = factory.site()
    expect(api.put(f"/sites/{site.id}/holiday-rule", factory.admin, json={"danish_public_holidays": False}), 200)
    assert api.get(f"/sites/{site.id}", factory.nurse).json()["danish_public_holidays"] is False
    order = methadone(factory, site, start=date(2026, 12, 24))
    r = api.get(f"/sites/{site.id}/closures", factory.nurse, params={"from": "2026-12-20", "to": "2027-01-03"})
    assert expect(r, 200) == []
    assert plan(api, site.id, date(2026, 12, 20), date(2027, 1, 3)) == {}
    for d in (24, 25):
        clock.set(date(2026, 12, d))
        line = api.slot(site.id, date(2026, 12, d), order.patient_id)
        expect(api.dispense(line["slot_id"]), 201)
    # Switching the holidays back on would close a day with a dose handed out: refused, naming it.
    back = api.put(f"/sites/{site.id}/holiday-rule", factory.admin, json={"danish_public_holidays": True})
    assert expect(back, 409)["code"] == "closure.doses_handled"


def test_easter_2027(api, factory, clock):
    clock.set(date(2027, 3, 22))  # Monday of Holy Week
    site = factory.site()
    daily = methadone(factory, site, supervised=False)  # collected every day, not supervised
    supervised = methadone(factory, site)
    disulfiram = antabus(factory, site)
    items = plan(api, site.id, date(2027, 3, 22), date(2027, 3, 31))
    assert {d for pid, d in items if pid == daily.id} == {"2027-03-25", "2027-03-26", "2027-03-28", "2027-03-29"}
    assert items[(daily.id, "2027-03-26")]["pickup_date"] == "2027-03-24"
    assert items[(daily.id, "2027-03-29")]["pickup_date"] == "2027-03-27"  # Easter Saturday is open
    assert all(items[(supervised.id, d)]["status"] == "unresolved" for d in ("2027-03-25", "2027-03-29"))
    assert {d for pid, d in items if pid == disulfiram.id} == {"2027-03-25", "2027-03-29"}

    clock.set(date(2027, 3, 24))
    assert api.slot(site.id, date(2027, 3, 24), daily.patient_id)["take_home_days"] == 2
    assert api.slot(site.id, date(2027, 3, 24), supervised.patient_id)["take_home_days"] == 0
    clock.set(date(2027, 3, 27))
    assert api.slot(site.id, date(2027, 3, 27), daily.patient_id)["take_home_days"] == 2  # Sunday and Monday


def test_closure_plan_input_errors(api, factory, clock):
    site = factory.site()
    r = api.get(f"/sites/{site.id}/closure-plan", factory.doctor, params={"from": "2026-12-31", "to": "2026-12-01"})
    assert expect(r, 422)["code"] == "calendar.range_reversed"
    r = api.get(f"/sites/{site.id}/closures", factory.doctor, params={"from": "2026-01-01", "to": "2028-01-01"})
    assert expect(r, 422)["code"] == "calendar.range_too_long"
    assert api.get("/sites/999999/closures", factory.doctor).status_code == 404
