"""The dispensing window through HTTP: roster, dispense, breathalyser, take-home, no-shows, missed-dose blocks."""

from datetime import time

import pytest

from dispensing.enums import Drug, Role
from dispensing.models import Site
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)

TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = (day(i) for i in range(1, 7))


def methadone(factory, site, patient=None, **terms):
    return factory.order(patient or factory.patient(), site, drug=Drug.METHADONE, dose="30", **terms)


def antabus(factory, site, patient=None, **terms):
    terms.setdefault("weekdays", (0, 3))
    return factory.order(patient or factory.patient(), site, drug=Drug.DISULFIRAM, dose="400", **terms)


# --- the roster ------------------------------------------------------------------------------------


def test_roster_lists_the_days_due_doses(api, factory):
    site = factory.site()
    pm, pa = factory.patient(), factory.patient()
    m = methadone(factory, site, pm)
    a = antabus(factory, site, pa)
    r = api.get(f"/sites/{site.id}/roster", factory.nurse, params={"date": MONDAY.isoformat()})
    lines = {i["drug"]: i for i in expect(r, 200)}
    assert set(lines) == {"methadone", "disulfiram"}

    meth, ant = lines["methadone"], lines["disulfiram"]
    assert isinstance(meth["slot_id"], int) and meth["slot_id"] != ant["slot_id"]
    assert meth["patient"]["id"] == m.patient_id
    assert meth["patient"]["cpr_masked"] == f"{pm.cpr[:6]}-XXXX"
    assert meth["patient"]["name"] == pm.name
    assert meth["dose_mg"] == "30" and ant["dose_mg"] == "400"
    assert meth["window"] == {"start": "08:00", "end": "10:00"}
    assert meth["status"] == "due" and ant["status"] == "due"
    assert meth["breathalyser_required"] is False
    assert ant["breathalyser_required"] is True
    assert meth["missed_consecutive"] == 0 and meth["blocked_reason"] is None
    assert meth["take_home_days"] == 0 and ant["take_home_days"] == 0
    assert isinstance(meth["urine_sample_due"], bool)
    # full CPR numbers never appear on the roster
    for p in (pm, pa):
        assert p.cpr not in r.text and f"{p.cpr[:6]}-{p.cpr[6:]}" not in r.text

    # Antabus is due Monday and Thursday only
    tuesday = api.roster(site.id, TUESDAY)
    assert [(i["patient"]["id"], i["drug"]) for i in tuesday] == [(m.patient_id, "methadone")]
    assert a.patient_id in [i["patient"]["id"] for i in api.roster(site.id, THURSDAY)]


def test_roster_shows_the_drug_limited_window(api, factory, session):
    admin = factory.admin
    site = expect(api.post("/sites", admin, json={"name": f"Antabus-klinik {factory.cpr()}", "kind": "clinic"}), 201)
    expect(
        api.put(
            f"/sites/{site['id']}/windows",
            admin,
            json=[
                {"weekday": 0, "start": "08:00", "end": "10:00", "drugs": ["methadone", "buprenorphine"]},
                {"weekday": 0, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
                {"weekday": 3, "start": "08:30", "end": "10:30", "drugs": ["disulfiram"]},
            ],
        ),
        200,
    )

    S = session.get(Site, site["id"])
    m, a = methadone(factory, S, weekdays=(0,)), antabus(factory, S)
    assert api.slot(S.id, MONDAY, m.patient_id, "methadone")["window"] == {"start": "08:00", "end": "10:00"}
    assert api.slot(S.id, MONDAY, a.patient_id, "disulfiram")["window"] == {"start": "14:30", "end": "16:00"}
    assert api.slot(S.id, THURSDAY, a.patient_id, "disulfiram")["window"] == {"start": "08:30", "end": "10:30"}


def test_site_staff_cannot_open_the_roster(api, factory):
    site = factory.site()
    methadone(factory, site)
    expect(api.get(f"/sites/{site.id}/roster", api.site_staff(site.id), params={"date": MONDAY.isoformat()}), 403)


def test_roster_of_an_unknown_site_is_404(api, factory):
    expect(api.get("/sites/987654/roster", factory.nurse, params={"date": MONDAY.isoformat()}), 404)


def test_roster_with_a_bad_date_is_422(api, factory):
    site = factory.site()
    expect(api.get(f"/sites/{site.id}/roster", factory.nurse, params={"date": "2026-02-30"}), 422)


def test_roster_defaults_to_today(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    lines = expect(api.get(f"/sites/{site.id}/roster", factory.nurse), 200)
    assert [(i["patient"]["id"], i["date"]) for i in lines] == [(m.patient_id, MONDAY.isoformat())]


# --- dispensing and take-home ---------------------------------------------------------------


def test_take_home_days_follow_the_pickup_days(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site, pickup_weekdays=(0, 3))  # every day, pickups Monday and Thursday
    monday = api.slot(site.id, MONDAY, m.patient_id)
    assert monday["take_home_days"] == 2  # Tuesday, Wednesday
    assert api.slot(site.id, THURSDAY, m.patient_id)["take_home_days"] == 3  # Friday, Saturday, Sunday

    body = expect(api.dispense(monday["slot_id"]), 201)
    assert body["status"] == "dispensed"
    assert isinstance(body["dispense_id"], int)
    assert body["covers"] == [MONDAY.isoformat(), TUESDAY.isoformat(), WEDNESDAY.isoformat()]
    assert body["label_url"]  # take-home bottles get labels
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "dispensed"
    for d in (TUESDAY, WEDNESDAY):
        line = api.slot(site.id, d, m.patient_id)
        assert line["status"] == "covered"
        assert line["take_home_days"] == 0

    # On Tuesday the patient has the dose at home: the window must not hand it out again.
    clock.set(TUESDAY)
    tuesday = api.slot(site.id, TUESDAY, m.patient_id)
    assert tuesday["status"] == "covered"
    assert tuesday["missed_consecutive"] == 0
    expect(api.dispense(tuesday["slot_id"]), 409)

    clock.set(THURSDAY)
    thursday = api.slot(site.id, THURSDAY, m.patient_id)
    assert thursday["status"] == "due" and thursday["missed_consecutive"] == 0
    body = expect(api.dispense(thursday["slot_id"], take_home_days=3), 201)
    assert body["covers"] == [d.isoformat() for d in (THURSDAY, FRIDAY, SATURDAY, SUNDAY)]
    assert api.slot(site.id, SUNDAY, m.patient_id)["status"] == "covered"


def test_fewer_take_home_days_than_allowed(api, factory):
    site = factory.site()
    m = methadone(factory, site, pickup_weekdays=(0, 3))
    slot = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(slot["slot_id"], take_home_days=1), 201)
    assert body["covers"] == [MONDAY.isoformat(), TUESDAY.isoformat()]
    assert api.slot(site.id, WEDNESDAY, m.patient_id)["status"] == "due"


def test_take_home_without_a_take_home_order_is_422(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(slot["slot_id"], take_home_days=1), 422)
    assert "take_home_days" in body["detail"]
    body = expect(api.dispense(slot["slot_id"]), 201)
    assert body["covers"] == [MONDAY.isoformat()]
    assert body["label_url"] is None


def test_more_take_home_days_than_allowed_is_422_naming_the_rule(api, factory):
    site = factory.site()
    m = methadone(factory, site, pickup_weekdays=(0, 3))
    slot = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(slot["slot_id"], take_home_days=3), 422)
    assert "take_home_days" in body["detail"]
    assert "2" in body["detail"]  # what is allowed
    assert "pickup" in body["detail"]  # and why
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "due"
    assert api.slot(site.id, TUESDAY, m.patient_id)["status"] == "due"
    expect(api.dispense(slot["slot_id"], take_home_days=-1), 422)
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "due"


def test_a_slot_is_dispensed_only_once(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(slot["slot_id"]), 201)
    body = expect(api.dispense(slot["slot_id"]), 409)
    assert "dispensed" in body["detail"]
    expect(api.dispense(slot["slot_id"], factory.user(Role.NURSE)), 409)  # another nurse neither


def test_dispensing_a_slot_of_another_day_is_409(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    tomorrow = api.slot(site.id, TUESDAY, m.patient_id)
    body = expect(api.dispense(tomorrow["slot_id"]), 409)
    assert TUESDAY.isoformat() in body["detail"]
    assert api.slot(site.id, TUESDAY, m.patient_id)["status"] == "due"

    yesterday = api.slot(site.id, MONDAY, m.patient_id)
    clock.set(TUESDAY)
    expect(api.dispense(yesterday["slot_id"]), 409)


def test_unknown_slot_is_404(api, factory):
    expect(api.dispense(987654), 404)
    expect(api.post("/slots/987654/no-show", factory.nurse), 404)


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.ADMIN])
def test_only_nurses_dispense(api, factory, role):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(slot["slot_id"], factory.user(role)), 403)
    expect(api.post(f"/slots/{slot['slot_id']}/no-show", factory.user(role)), 403)
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "due"


def test_site_staff_cannot_dispense_at_the_window(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(slot["slot_id"], api.site_staff(site.id)), 403)


def test_unsupervised_intake_of_a_supervised_order_is_422(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(slot["slot_id"], supervised=False), 422)
    assert "supervised" in body["detail"]
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "due"


def test_unsupervised_order_may_be_handed_out_unsupervised(api, factory):
    site = factory.site()
    m = methadone(factory, site, supervised=False)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(slot["slot_id"], supervised=False), 201)


def test_dispense_without_the_supervised_field_is_422(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.post(f"/slots/{slot['slot_id']}/dispense", factory.nurse, json={}), 422)
    assert "supervised" in body["detail"]


# --- breathalyser ----------------------------------------------------------------------------


def test_antabus_without_a_breath_reading_is_422_and_nothing_is_recorded(api, factory):
    site = factory.site()
    a = antabus(factory, site)
    slot = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    body = expect(api.dispense(slot["slot_id"]), 422)
    assert "breath" in body["detail"].lower()
    assert api.slot(site.id, MONDAY, a.patient_id, "disulfiram")["status"] == "due"
    actions = [e["action"] for e in api.audit(patient_id=a.patient_id)]
    assert not [a for a in actions if a.startswith("dispense.")]  # neither dispensed nor withheld

    body = expect(api.dispense(slot["slot_id"], breath_alcohol_promille="0.00"), 201)
    assert body["covers"] == [MONDAY.isoformat()]
    assert body["dose_mg"] == "400"
    assert api.slot(site.id, MONDAY, a.patient_id, "disulfiram")["status"] == "dispensed"


@pytest.mark.parametrize("reading", [0, "0", "0,00", "0.00 ‰"])
def test_antabus_zero_reading_in_other_spellings_is_accepted(api, factory, reading):
    site = factory.site()
    a = antabus(factory, site)
    slot = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    expect(api.dispense(slot["slot_id"], breath_alcohol_promille=reading), 201)


def test_antabus_with_any_alcohol_is_withheld_and_the_doctor_alerted(api, factory):
    site = factory.site()
    a = antabus(factory, site)
    slot = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    r = api.dispense(slot["slot_id"], breath_alcohol_promille="0.01")
    body = expect(r, 200)
    assert body["status"] == "withheld"
    assert "0.01" in body["reason"]
    assert "dispense_id" not in body

    line = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    assert line["status"] == "withheld"
    expect(api.dispense(slot["slot_id"], breath_alcohol_promille="0.00"), 409)  # no second try today

    alerts = expect(api.get("/alerts", factory.doctor), 200)
    mine = [x for x in alerts if x["slot_id"] == slot["slot_id"]]
    assert len(mine) == 1
    assert mine[0]["patient_id"] == a.patient_id
    assert mine[0]["kind"] == "withheld_dose" and mine[0]["drug"] == "disulfiram"
    assert mine[0]["resolved_at"] is None
    expect(api.get("/alerts", factory.nurse), 403)
    assert "dispense.withheld" in [e["action"] for e in api.audit(patient_id=a.patient_id)]


def test_methadone_breath_threshold_is_0_50(api, factory):
    site = factory.site()
    sober, drunk = methadone(factory, site), methadone(factory, site)
    ok = api.slot(site.id, MONDAY, sober.patient_id)
    expect(api.dispense(ok["slot_id"], breath_alcohol_promille="0.50"), 201)

    over = api.slot(site.id, MONDAY, drunk.patient_id)
    body = expect(api.dispense(over["slot_id"], breath_alcohol_promille="0.51"), 200)
    assert body["status"] == "withheld" and "0.51" in body["reason"]
    assert api.slot(site.id, MONDAY, drunk.patient_id)["status"] == "withheld"
    assert [x["kind"] for x in expect(api.get("/alerts", factory.doctor), 200) if x["slot_id"] == over["slot_id"]] == [
        "withheld_dose"
    ]


def test_methadone_needs_no_breath_reading_by_default(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    expect(api.dispense(api.slot(site.id, MONDAY, m.patient_id)["slot_id"]), 201)


@pytest.mark.parametrize("reading", ["abc", "-1", "-0.01", "9", "5.01", "0.001", "1.2.3", True])
def test_invalid_breath_reading_is_422_and_changes_nothing(api, factory, reading):
    site = factory.site()
    a = antabus(factory, site)
    slot = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    body = expect(api.dispense(slot["slot_id"], breath_alcohol_promille=reading), 422)
    assert "breath" in body["detail"].lower()
    assert api.slot(site.id, MONDAY, a.patient_id, "disulfiram")["status"] == "due"
    assert expect(api.get("/alerts", factory.doctor), 200) == []


# --- no-shows and missed doses -----------------------------------------------------------------


def test_no_show_marks_the_slot_missed(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    clock.set(MONDAY, time(10, 1))  # the patient's window (08:00-10:00) has ended
    body = expect(api.post(f"/slots/{slot['slot_id']}/no-show", factory.nurse), 200)
    assert body["status"] == "missed"
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "missed"
    expect(api.dispense(slot["slot_id"]), 409)
    expect(api.post(f"/slots/{slot['slot_id']}/no-show", factory.nurse), 409)


def test_no_show_for_a_day_that_has_not_come_is_409(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, TUESDAY, m.patient_id)
    expect(api.post(f"/slots/{slot['slot_id']}/no-show", factory.nurse), 409)
    assert api.slot(site.id, TUESDAY, m.patient_id)["status"] == "due"


def test_three_no_shows_in_a_row_block_the_next_dose_until_a_doctor_releases_it(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    for i, d in enumerate((MONDAY, TUESDAY, WEDNESDAY)):
        clock.set(d, time(11))  # after the day's window
        line = api.slot(site.id, d, m.patient_id)
        assert line["missed_consecutive"] == i
        assert line["blocked_reason"] is None  # 1-2 missed days: no change
        expect(api.post(f"/slots/{line['slot_id']}/no-show", factory.nurse), 200)

    clock.set(THURSDAY)
    line = api.slot(site.id, THURSDAY, m.patient_id)
    assert line["status"] == "due"
    assert line["missed_consecutive"] == 3
    assert line["blocked_reason"] and "3" in line["blocked_reason"]
    body = expect(api.dispense(line["slot_id"]), 409)
    assert "doctor" in body["detail"]
    blocks = [
        x
        for x in expect(api.get("/alerts", factory.doctor), 200)
        if x["patient_id"] == m.patient_id and x["kind"] == "missed_dose_block"
    ]
    assert len(blocks) == 1

    release = {"drug": "methadone", "reason": "seen by doctor, dose kept"}
    expect(api.post(f"/patients/{m.patient_id}/missed-dose-release", factory.nurse, json=release), 403)
    assert api.slot(site.id, THURSDAY, m.patient_id)["blocked_reason"]
    expect(api.post(f"/patients/{m.patient_id}/missed-dose-release", factory.doctor, json=release), 201)

    line = api.slot(site.id, THURSDAY, m.patient_id)
    assert line["blocked_reason"] is None
    assert line["missed_consecutive"] == 3  # the window still sees the run
    expect(api.dispense(line["slot_id"]), 201)
    assert [
        x
        for x in expect(api.get("/alerts", factory.doctor), 200)
        if x["patient_id"] == m.patient_id and x["kind"] == "missed_dose_block"
    ] == []


def test_days_nobody_came_count_as_missed_without_any_no_show(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    clock.set(THURSDAY)
    line = api.slot(site.id, THURSDAY, m.patient_id)
    assert line["missed_consecutive"] == 3
    assert line["blocked_reason"]
    expect(api.dispense(line["slot_id"]), 409)
    # the past day's roster shows the dose as missed
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "missed"


def test_a_dose_taken_breaks_the_run_of_missed_days(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    expect(api.dispense(api.slot(site.id, MONDAY, m.patient_id)["slot_id"]), 201)
    clock.set(THURSDAY)
    line = api.slot(site.id, THURSDAY, m.patient_id)
    assert line["missed_consecutive"] == 2  # Tuesday and Wednesday
    assert line["blocked_reason"] is None
    expect(api.dispense(line["slot_id"]), 201)


def test_missed_antabus_days_do_not_block(api, factory, clock):
    site = factory.site()
    a = antabus(factory, site, weekdays=(0, 1, 2, 3, 4, 5, 6))
    clock.set(THURSDAY)
    line = api.slot(site.id, THURSDAY, a.patient_id, "disulfiram")
    assert line["blocked_reason"] is None
    expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00"), 201)


def test_release_needs_a_reason_and_a_known_patient(api, factory):
    patient = factory.patient()
    expect(
        api.post(
            f"/patients/{patient.id}/missed-dose-release", factory.doctor, json={"drug": "methadone", "reason": " "}
        ),
        422,
    )
    expect(
        api.post(
            "/patients/987654/missed-dose-release", factory.doctor, json={"drug": "methadone", "reason": "reviewed"}
        ),
        404,
    )
    expect(
        api.post(
            f"/patients/{patient.id}/missed-dose-release", factory.doctor, json={"drug": "heroin", "reason": "reviewed"}
        ),
        422,
    )


def test_discontinued_order_gives_nothing_after_its_last_day(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    tuesday = api.slot(site.id, TUESDAY, m.patient_id)  # opened before the order was stopped
    expect(
        api.post(
            f"/prescriptions/{m.id}/discontinue",
            factory.doctor,
            json={"end_date": MONDAY.isoformat(), "reason": "treatment ended"},
        ),
        200,
    )
    assert [i for i in api.roster(site.id, TUESDAY) if i["patient"]["id"] == m.patient_id] == []
    clock.set(TUESDAY)
    expect(api.dispense(tuesday["slot_id"]), 409)


def test_unknown_dispense_fields_are_422_naming_the_field(api, factory):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    body = expect(api.dispense(slot["slot_id"], breath="0.00"), 422)
    assert "breath" in body["detail"]
    body = expect(api.dispense(slot["slot_id"], take_home_days="two"), 422)
    assert "take_home_days" in body["detail"]
    assert api.slot(site.id, MONDAY, m.patient_id)["status"] == "due"


def test_antabus_never_goes_home(api, factory):
    site = factory.site()
    a = antabus(factory, site)
    slot = api.slot(site.id, MONDAY, a.patient_id, "disulfiram")
    expect(api.dispense(slot["slot_id"], breath_alcohol_promille="0.00", take_home_days=1), 422)
    assert api.slot(site.id, MONDAY, a.patient_id, "disulfiram")["status"] == "due"


@pytest.mark.parametrize("reading, status", [(0.5, 201), (0.51, 200), ("0,51", 200)])
def test_breath_reading_as_json_number_or_with_decimal_comma(api, factory, reading, status):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(slot["slot_id"], breath_alcohol_promille=reading), status)


def test_a_withheld_dose_counts_as_a_missed_day(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    slot = api.slot(site.id, MONDAY, m.patient_id)
    expect(api.dispense(slot["slot_id"], breath_alcohol_promille="1.20"), 200)
    clock.set(TUESDAY)
    assert api.slot(site.id, TUESDAY, m.patient_id)["missed_consecutive"] == 1


def test_the_clinics_day_follows_copenhagen_time(api, factory, clock):
    site = factory.site()
    m = methadone(factory, site)
    clock.set(TUESDAY, time(0, 30))  # 23:30 UTC on Monday, already Tuesday in Copenhagen
    lines = expect(api.get(f"/sites/{site.id}/roster", factory.nurse), 200)
    assert [(i["patient"]["id"], i["date"]) for i in lines] == [(m.patient_id, TUESDAY.isoformat())]
    expect(api.dispense(lines[0]["slot_id"], outside_window_reason="nattevagt"), 201)
