"""Paper records entered afterwards: doses handed out from the contingency sheet while the system was down."""

import subprocess
from datetime import datetime, time
from zoneinfo import ZoneInfo

from dispensing.enums import Drug
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)
from tests.labels.factories import require_tool

TZ = ZoneInfo("Europe/Copenhagen")
TUESDAY, WEDNESDAY, THURSDAY = day(1), day(2), day(3)


def at(d, hh, mm=0) -> str:
    """The time on the sheet, as an ISO timestamp with the clinic's offset."""
    return datetime.combine(d, time(hh, mm), tzinfo=TZ).isoformat()


def methadone(factory, site, patient=None, **terms):
    return factory.order(patient or factory.patient(), site, drug=Drug.METHADONE, dose="30", **terms)


def test_a_dose_given_earlier_today_lands_with_both_times_and_its_take_home_days(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site, pickup_weekdays=(0, 3))  # every day, pickups Monday and Thursday
    clock.set(MONDAY, time(11, 30))  # the system is back at 11:30
    line = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(line["slot_id"], given_at=at(MONDAY, 8, 15), take_home_days=2), 201)
    assert body["covers"] == [MONDAY.isoformat(), TUESDAY.isoformat(), WEDNESDAY.isoformat()]
    assert datetime.fromisoformat(body["given_at"]) == datetime.combine(MONDAY, time(8, 15), tzinfo=TZ)
    assert datetime.fromisoformat(body["recorded_at"]) == datetime.combine(MONDAY, time(11, 30), tzinfo=TZ)
    assert body["recorded_by"]["id"] == factory.nurse.id
    assert body["recorded_afterwards"] is True
    assert body["label_url"]

    read = expect(api.get(f"/dispenses/{body['dispense_id']}", factory.nurse), 200)
    assert datetime.fromisoformat(read["given_at"]) < datetime.fromisoformat(read["recorded_at"])
    assert read["recorded_afterwards"] is True and read["recorded_by"]["username"] == factory.nurse.username

    today = api.slot(site.id, MONDAY, m.patient_id)
    assert today["status"] == "dispensed" and today["recorded_afterwards"] is True
    assert api.slot(site.id, TUESDAY, m.patient_id)["status"] == "covered"


def test_a_dose_given_at_the_window_is_not_marked_as_entered_afterwards(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    body = expect(api.dispense(api.slot(site.id, MONDAY, m.patient_id)["slot_id"]), 201)
    assert body["recorded_afterwards"] is False and body["given_at"] == body["recorded_at"]
    assert api.slot(site.id, MONDAY, m.patient_id)["recorded_afterwards"] is False


def test_a_slot_already_dispensed_is_409_and_the_doctor_sees_the_refused_paper_record(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    line = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(line["slot_id"]), 201)  # handed out at the window after all
    clock.set(MONDAY, time(12))
    r = api.dispense(line["slot_id"], given_at=at(MONDAY, 8, 40))
    expect(r, 409)
    alerts = [a for a in expect(api.get("/alerts", factory.doctor), 200) if a["slot_id"] == line["slot_id"]]
    assert [a["kind"] for a in alerts] == ["paper_record_refused"]
    assert "08:40" in alerts[0]["message"]
    assert "dispense.afterwards_refused" in [e["action"] for e in api.audit(patient_id=m.patient_id)]


def test_a_time_in_the_future_is_422_and_changes_nothing(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    clock.set(MONDAY, time(9))
    line = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(line["slot_id"], given_at=at(MONDAY, 9, 30)), 422)
    assert body["code"] == "paper.given_in_future"
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "due"
    assert [a for a in expect(api.get("/alerts", factory.doctor), 200) if a["slot_id"] == line["slot_id"]] == []


def test_a_time_on_another_day_or_without_a_zone_is_422(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    clock.set(TUESDAY, time(9))
    line = api.slot(site.id, TUESDAY, m.patient_id)
    assert expect(api.dispense(line["slot_id"], given_at=at(MONDAY, 8)), 422)["code"] == "paper.given_on_other_day"
    naive = datetime.combine(TUESDAY, time(8)).isoformat()
    assert expect(api.dispense(line["slot_id"], given_at=naive), 422)["code"] == "paper.given_at_without_zone"


def test_yesterdays_slot_marked_missed_takes_its_paper_record_and_the_day_counts_as_given(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site, start=MONDAY)
    clock.set(WEDNESDAY, time(9))  # down Monday and Tuesday; Monday's dose is lost, Tuesday's was given on paper
    tuesday = api.slot(site.id, TUESDAY, m.patient_id)
    assert tuesday["status"] == "missed"  # the day passed without a record
    assert api.slot(site.id, WEDNESDAY, m.patient_id)["missed_consecutive"] == 2

    body = expect(api.dispense(tuesday["slot_id"], given_at=at(TUESDAY, 8, 10)), 201)
    assert body["covers"] == [TUESDAY.isoformat()]
    line = api.slot(site.id, TUESDAY, m.patient_id)
    assert line["status"] == "dispensed" and line["recorded_afterwards"] is True
    assert api.slot(site.id, WEDNESDAY, m.patient_id)["missed_consecutive"] == 0


def test_two_days_later_the_paper_record_is_422(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    clock.set(WEDNESDAY, time(9))
    monday = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(monday["slot_id"], given_at=at(MONDAY, 8)), 422)
    assert body["code"] == "paper.entered_too_late"
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "missed"


def test_a_blocked_dose_given_on_paper_is_refused_and_flagged(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site, start=MONDAY)
    clock.set(THURSDAY, time(12))  # Monday-Wednesday missed: Thursday's dose is blocked
    line = api.slot(site.id, THURSDAY, m.patient_id)
    assert line["blocked_reason"]
    expect(api.dispense(line["slot_id"], given_at=at(THURSDAY, 8, 30)), 409)
    assert api.slot(site.id, THURSDAY, m.patient_id)["status"] == "due"
    kinds = {a["kind"] for a in expect(api.get("/alerts", factory.doctor), 200) if a["patient_id"] == m.patient_id}
    assert "paper_record_refused" in kinds


def test_a_breath_reading_over_the_threshold_on_paper_is_withheld(api, factory, clock):
    site = factory.site()
    a = factory.order(factory.patient(), site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    clock.set(MONDAY, time(12))
    line = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    r = api.dispense(line["slot_id"], given_at=at(MONDAY, 9), breath_alcohol_promille="0.10")
    assert expect(r, 200)["status"] == "withheld"
    alerts = [x for x in expect(api.get("/alerts", factory.doctor), 200) if x["slot_id"] == line["slot_id"]]
    assert [x["kind"] for x in alerts] == ["withheld_dose"] and "paper sheet at 09:00" in alerts[0]["message"]


def test_a_no_show_entered_afterwards(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    clock.set(TUESDAY, time(9))
    monday = api.slot(site.id, MONDAY, m.patient_id)
    r = api.post(f"/slots/{monday['slot_id']}/no-show", factory.nurse, json={"given_at": at(MONDAY, 11)})
    body = expect(r, 200)
    assert body["status"] == "missed" and body["reason"] == "no-show"
    entry = next(e for e in api.audit(patient_id=m.patient_id) if e["action"] == "slot.no_show")
    assert entry["detail"]["recorded_afterwards"] is True
    # a no-show in the future is refused like a dispense
    tuesday = api.slot(site.id, TUESDAY, m.patient_id)
    r = api.post(f"/slots/{tuesday['slot_id']}/no-show", factory.nurse, json={"given_at": at(TUESDAY, 10)})
    assert expect(r, 422)["code"] == "paper.given_in_future"
    # a paper no-show is judged against the windows at its own time, like one at the window
    r = api.post(f"/slots/{tuesday['slot_id']}/no-show", factory.nurse, json={"given_at": at(TUESDAY, 8, 30)})
    assert expect(r, 409)["code"] == "slot.no_show_window_ahead"
    r = api.post(
        f"/slots/{tuesday['slot_id']}/no-show",
        factory.nurse,
        json={"given_at": at(TUESDAY, 8, 30), "reason": "ringede"},
    )
    expect(r, 200)


def test_the_label_of_a_paper_record_is_dated_by_the_handout_and_says_entered_afterwards(api, factory, clock):
    require_tool("pdftotext")
    site = factory.site()
    m = methadone(factory, site, pickup_weekdays=(0, 3))
    clock.set(TUESDAY, time(10))  # Monday's handout entered on Tuesday
    monday = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(monday["slot_id"], given_at=at(MONDAY, 8, 5), take_home_days=1), 201)
    r = api.get(body["label_url"], factory.nurse)
    assert r.status_code == 200
    out = subprocess.run(["pdftotext", "-", "-"], input=r.content, capture_output=True, check=True).stdout.decode()
    text = " ".join(out.split())
    assert "registreret efterfølgende" in text
    assert MONDAY.strftime("%d.%m.%Y") in text


def test_the_window_is_judged_at_the_time_on_the_sheet_not_at_entry(api, factory, clock):
    site = factory.site()  # windows 08:00-10:00 every day
    m = methadone(factory, site)
    clock.set(MONDAY, time(15))  # entered in the afternoon, outside every window
    line = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(line["slot_id"], given_at=at(MONDAY, 12)), 409)  # given at noon: outside too
    assert body["code"] == "dispense.outside_window"
    body = expect(api.dispense(line["slot_id"], given_at=at(MONDAY, 12), outside_window_reason="sen bus"), 201)
    assert body["recorded_afterwards"] is True
