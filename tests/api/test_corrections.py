"""Corrections at the window through HTTP (issue 15, DOMAIN rules 13-15): the five cases a new user met.

1. a voided or returned pickup-site dose is prepared again; 2. a withheld dose is re-opened the same day;
3. a no-show needs a reason while the window is ahead and can be undone; 4. Antabus only in its windows
(dispense and signing); 5. one opioid at a time at signing.
"""

from datetime import time, timedelta

import pytest

from dispensing.enums import Drug, Role, SiteKind
from dispensing.models import Dispense
from dispensing.services import labels, sites
from tests.api._helpers import MONDAY, Api, day, expect
from tests.conftest import PASSWORD

TUESDAY, WEDNESDAY, THURSDAY = day(1), day(2), day(3)
W = sites.WindowSpec


@pytest.fixture
def api(client, clock, factory) -> Api:
    return Api(client, clock, factory)


def code(r, status: int) -> str:
    return expect(r, status)["code"]


def witness_of(factory, role: Role = Role.NURSE, password: str = PASSWORD) -> dict:
    return {"username": factory.user(role).username, "password": password}


# --- 1. a voided or returned dose for a pickup site is prepared again ------------------------------


@pytest.fixture
def pharmacy(factory):
    return factory.site(SiteKind.PHARMACY, windows=[W(d, time(9), time(17)) for d in range(7)])


def _tokens(factory, session, dispense_id: int) -> list[str]:
    return [
        label.token for label in labels.build_labels(factory.ctx(factory.nurse), session.get(Dispense, dispense_id))
    ]


@pytest.mark.parametrize("undo", ["void", "return"])
def test_a_voided_or_returned_pickup_dose_is_prepared_again_and_the_old_label_stays_invalid(
    api, factory, session, pharmacy, undo
):
    order = factory.order(site=pharmacy, pickup_weekdays=(0, 3))
    slot = api.slot(pharmacy.id, MONDAY, order.patient_id)
    first = expect(api.post(f"/slots/{slot['slot_id']}/prepare", factory.nurse, json={}), 201)
    old_token = _tokens(factory, session, first["id"])[0]
    # while it is prepared, the slot cannot be prepared a second time
    expect(api.post(f"/slots/{slot['slot_id']}/prepare", factory.nurse, json={}), 409)

    if undo == "void":
        assert code(api.post(f"/dispenses/{first['id']}/void", factory.nurse, json={"reason": " "}), 422)
        gone = expect(api.post(f"/dispenses/{first['id']}/void", factory.nurse, json={"reason": "bottle broken"}), 200)
        assert gone["status"] == "void"
    else:
        gone = expect(
            api.post(f"/dispenses/{first['id']}/return", factory.nurse, json={"reason": "not collected"}), 200
        )
        assert gone["status"] == "returned"
    assert api.slot(pharmacy.id, MONDAY, order.patient_id)["status"] == "due"

    second = expect(api.post(f"/slots/{slot['slot_id']}/prepare", factory.nurse, json={}), 201)
    assert second["id"] != first["id"] and second["slot_id"] == slot["slot_id"]
    assert second["covers"] == first["covers"]
    assert api.slot(pharmacy.id, MONDAY, order.patient_id)["status"] == "prepared"

    old = expect(api.get("/labels/verify", factory.nurse, params={"token": old_token}), 200)
    assert old["dispense_id"] == first["id"] and old["status"] == ("void" if undo == "void" else "returned")
    new = expect(
        api.get("/labels/verify", factory.nurse, params={"token": _tokens(factory, session, second["id"])[0]}), 200
    )
    assert new["valid"] is True and new["dispense_id"] == second["id"] and new["status"] == "prepared"

    # the site's list keeps the history; the printed sheet and the handout are the new dose's
    staff = api.site_staff(pharmacy.id)
    listed = expect(api.get(f"/sites/{pharmacy.id}/deliveries", staff, params={"date": MONDAY.isoformat()}), 200)
    assert {d["id"] for d in listed if d["status"] == "prepared"} == {second["id"]}
    expect(api.post(f"/dispenses/{second['id']}/handout", staff), 200)
    assert api.slot(pharmacy.id, MONDAY, order.patient_id)["status"] == "dispensed"
    # a handed-out dose is in effect: no third preparation
    expect(api.post(f"/slots/{slot['slot_id']}/prepare", factory.nurse, json={}), 409)


# --- 2. a withheld dose is re-opened the same day ------------------------------------------------


def _withheld_methadone(api, factory, site):
    order = factory.order(site=site)
    slot = api.slot(site.id, MONDAY, order.patient_id)
    body = expect(api.dispense(slot["slot_id"], breath_alcohol_promille="0.90"), 200)
    assert body["status"] == "withheld"
    return order, slot["slot_id"]


def test_a_patient_sent_away_at_0_90_comes_back_sober_and_gets_the_dose_the_same_day(api, factory, clock):
    site = factory.site()
    order, slot_id = _withheld_methadone(api, factory, site)
    expect(api.dispense(slot_id, breath_alcohol_promille="0.00"), 409)  # not before a re-open
    # the doctor resolved the flag already: that alone re-opens nothing
    (alert,) = [a for a in expect(api.get("/alerts", factory.doctor), 200) if a["slot_id"] == slot_id]
    expect(api.post(f"/alerts/{alert['id']}/resolve", factory.doctor, json={"resolution": "seen"}), 200)
    expect(api.dispense(slot_id, breath_alcohol_promille="0.00"), 409)

    clock.set(MONDAY, time(9, 50))
    assert code(api.post(f"/slots/{slot_id}/reopen", factory.nurse, json={"reason": "sober"}), 403)
    assert code(api.post(f"/slots/{slot_id}/reopen", factory.doctor, json={"reason": "  "}), 422) == (
        "correction.reason_required"
    )
    body = expect(api.post(f"/slots/{slot_id}/reopen", factory.doctor, json={"reason": "Ædru ved ny test"}), 200)
    assert body["status"] == "due"
    assert api.slot(site.id, MONDAY, order.patient_id)["status"] == "due"
    # a second re-open has nothing to do
    assert code(api.post(f"/slots/{slot_id}/reopen", factory.doctor, json={"reason": "again"}), 409) == (
        "slot.reopen_already_due"
    )
    # a new breath reading, through the normal path: over the threshold again withholds again
    created = expect(api.dispense(slot_id, breath_alcohol_promille="0.10"), 201)
    assert created["covers"] == [MONDAY.isoformat()]
    actions = [e["action"] for e in api.audit(patient_id=order.patient_id)]
    assert "slot.reopen" in actions
    # the day was not missed
    clock.set(TUESDAY)
    assert api.slot(site.id, TUESDAY, order.patient_id)["missed_consecutive"] == 0


def test_a_withheld_dose_not_reopened_stays_a_missed_day(api, factory, clock):
    site = factory.site()
    order, _ = _withheld_methadone(api, factory, site)
    clock.set(TUESDAY)
    assert api.slot(site.id, TUESDAY, order.patient_id)["missed_consecutive"] == 1


def test_reopening_another_days_slot_or_a_dispensed_one_is_409_saying_why(api, factory, clock):
    site = factory.site()
    order, slot_id = _withheld_methadone(api, factory, site)
    clock.set(TUESDAY)
    r = api.post(f"/slots/{slot_id}/reopen", factory.doctor, json={"reason": "late"}, headers={"Accept-Language": "da"})
    body = expect(r, 409)
    assert body["code"] == "slot.reopen_other_day" and body["params"]["slot_date"] == MONDAY.isoformat()
    assert "samme dag" in body["detail"]

    tuesday = api.slot(site.id, TUESDAY, order.patient_id)
    expect(api.dispense(tuesday["slot_id"]), 201)
    r = api.post(f"/slots/{tuesday['slot_id']}/reopen", factory.doctor, json={"reason": "more"})
    assert code(r, 409) == "slot.reopen_dispensed"
    missing = api.post("/slots/999999/reopen", factory.doctor, json={"reason": "x"})
    expect(missing, 404)


def test_a_dose_spilt_at_the_window_is_voided_before_a_witness_and_replaced_by_the_doctor(api, factory, session):
    site = factory.site()
    order = factory.order(site=site)
    slot_id = api.slot(site.id, MONDAY, order.patient_id)["slot_id"]
    first = expect(api.dispense(slot_id), 201)
    path = f"/dispenses/{first['dispense_id']}/void"
    spilt = {"reason": "Kastede op"}
    assert code(api.post(path, factory.nurse, json=spilt), 422) == "dispense.void_witness_required"
    wrong = {**spilt, "witness": witness_of(factory, password="not-the-password")}
    assert code(api.post(path, factory.nurse, json=wrong), 422) == "auth.witness_refused"
    site_staff = {**spilt, "witness": {"username": api.site_staff().username, "password": PASSWORD}}
    assert code(api.post(path, factory.nurse, json=site_staff), 422) == "auth.witness_refused"
    me = {**spilt, "witness": {"username": factory.nurse.username, "password": PASSWORD}}
    assert code(api.post(path, factory.nurse, json=me), 422) == "auth.witness_is_actor"
    assert api.slot(site.id, MONDAY, order.patient_id)["status"] == "dispensed"  # nothing changed

    witness = witness_of(factory)
    voided = expect(api.post(path, factory.nurse, json={**spilt, "witness": witness}), 200)
    assert voided["status"] == "void" and voided["void_witness_id"] is not None
    # the dose was taken at the window: the slot stays dispensed until the doctor decides on a replacement
    assert api.slot(site.id, MONDAY, order.patient_id)["status"] == "dispensed"
    expect(api.dispense(slot_id), 409)
    expect(api.post(f"/slots/{slot_id}/reopen", factory.doctor, json={"reason": "Erstatning efter opkast"}), 200)
    second = expect(api.dispense(slot_id), 201)
    assert second["dispense_id"] != first["dispense_id"]
    in_effect = [d for d in session.query(Dispense).filter(Dispense.slot_id == slot_id) if d.in_effect]
    assert [d.id for d in in_effect] == [second["dispense_id"]]


# --- 3. no-show: a reason while the window is ahead, and an undo the same day ----------------------


@pytest.fixture
def afternoon(factory):
    """A clinic whose only window is 13:00-14:00."""
    return factory.site(windows=[W(d, time(13), time(14)) for d in range(7)])


def test_a_no_show_while_the_window_is_ahead_needs_a_reason(api, factory, clock, afternoon):
    order = factory.order(site=afternoon)
    slot_id = api.slot(afternoon.id, MONDAY, order.patient_id)["slot_id"]
    clock.set(MONDAY, time(10, 5))
    r = api.post(f"/slots/{slot_id}/no-show", factory.nurse, headers={"Accept-Language": "da"})
    body = expect(r, 409)
    assert body["code"] == "slot.no_show_window_ahead" and "begrundelse" in body["detail"]
    assert api.slot(afternoon.id, MONDAY, order.patient_id)["status"] == "due"
    clock.set(MONDAY, time(14, 0))  # the end minute is still inside the window
    expect(api.post(f"/slots/{slot_id}/no-show", factory.nurse), 409)
    body = expect(api.post(f"/slots/{slot_id}/no-show", factory.nurse, json={"reason": "Meldte afbud"}), 200)
    assert body["status"] == "missed" and body["reason"] == "Meldte afbud"


def test_a_no_show_after_the_last_window_needs_no_reason(api, factory, clock, afternoon):
    order = factory.order(site=afternoon)
    slot_id = api.slot(afternoon.id, MONDAY, order.patient_id)["slot_id"]
    clock.set(MONDAY, time(14, 1))
    assert expect(api.post(f"/slots/{slot_id}/no-show", factory.nurse), 200)["status"] == "missed"


def test_the_nurse_undoes_a_no_show_the_same_day_and_the_missed_count_follows(api, factory, clock, afternoon):
    order = factory.order(site=afternoon)
    slot_id = api.slot(afternoon.id, MONDAY, order.patient_id)["slot_id"]
    clock.set(MONDAY, time(14, 30))
    expect(api.post(f"/slots/{slot_id}/no-show", factory.nurse), 200)
    assert code(api.post(f"/slots/{slot_id}/undo-no-show", factory.nurse, json={"reason": ""}), 422)
    assert code(api.post(f"/slots/{slot_id}/undo-no-show", factory.doctor, json={"reason": "kom"}), 403)
    body = expect(api.post(f"/slots/{slot_id}/undo-no-show", factory.nurse, json={"reason": "Kom alligevel"}), 200)
    assert body["status"] == "due"
    assert code(api.post(f"/slots/{slot_id}/undo-no-show", factory.nurse, json={"reason": "igen"}), 409) == (
        "slot.undo_no_show_not_missed"
    )
    assert "slot.no_show_undone" in [e["action"] for e in api.audit(patient_id=order.patient_id)]
    expect(api.dispense(slot_id, outside_window_reason="Kom efter lukketid, aftalt"), 201)
    clock.set(TUESDAY, time(14, 30))
    tuesday = api.slot(afternoon.id, TUESDAY, order.patient_id)
    assert tuesday["missed_consecutive"] == 0
    # Tuesday's no-show stands (not undone): Wednesday counts one missed day
    expect(api.post(f"/slots/{tuesday['slot_id']}/no-show", factory.nurse), 200)
    clock.set(WEDNESDAY, time(9))
    assert api.slot(afternoon.id, WEDNESDAY, order.patient_id)["missed_consecutive"] == 1
    # and it can no longer be undone
    r = api.post(f"/slots/{tuesday['slot_id']}/undo-no-show", factory.nurse, json={"reason": "for sent"})
    assert code(r, 409) == "slot.undo_no_show_other_day"


# --- 4. Antabus only in its own windows -------------------------------------------------------------


@pytest.fixture
def norddjurs(factory):
    """Opioids every morning; Antabus Mon 14:30-16:00, Thu 08:30-10:30 and 14:30-16:00 (seeds: Norddjurs)."""
    opioids = (Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE)
    return factory.site(
        windows=[W(d, time(8), time(10), opioids) for d in range(7)]
        + [
            W(0, time(14, 30), time(16), (Drug.DISULFIRAM,)),
            W(3, time(8, 30), time(10, 30), (Drug.DISULFIRAM,)),
            W(3, time(14, 30), time(16), (Drug.DISULFIRAM,)),
        ]
    )


def _antabus(factory, site, **kw):
    return factory.order(site=site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3), **kw)


def test_antabus_outside_its_windows_is_refused_naming_the_next_window(api, factory, clock, norddjurs):
    order = _antabus(factory, norddjurs)
    clock.set(MONDAY, time(20, 24))
    line = api.slot(norddjurs.id, MONDAY, order.patient_id, "disulfiram")
    assert line["outside_window"] is True
    r = api.post(
        f"/slots/{line['slot_id']}/dispense",
        factory.nurse,
        json={"supervised": True, "breath_alcohol_promille": "0.00"},
        headers={"Accept-Language": "da"},
    )
    body = expect(r, 409)
    assert body["code"] == "dispense.outside_window"
    assert body["params"]["next_day"] == THURSDAY.isoformat() and body["params"]["next_start"] == "08:30"
    assert "5. marts 2026" in body["detail"]
    assert api.slot(norddjurs.id, MONDAY, order.patient_id, "disulfiram")["status"] == "due"  # nothing recorded


def test_antabus_inside_its_window_needs_no_reason(api, factory, clock, norddjurs):
    order = _antabus(factory, norddjurs)
    clock.set(MONDAY, time(9))
    assert api.slot(norddjurs.id, MONDAY, order.patient_id, "disulfiram")["outside_window"] is True  # opioids' hour
    clock.set(MONDAY, time(14, 30))
    line = api.slot(norddjurs.id, MONDAY, order.patient_id, "disulfiram")
    assert line["outside_window"] is False
    created = expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00"), 201)
    assert expect(api.get("/reports/outside-window", factory.doctor), 200) == []
    assert created["covers"] == [MONDAY.isoformat()]


def test_a_dose_outside_the_window_with_a_reason_is_audited_and_listed_for_the_doctor(api, factory, clock, norddjurs):
    order = _antabus(factory, norddjurs)
    clock.set(MONDAY, time(20, 24))
    slot_id = api.slot(norddjurs.id, MONDAY, order.patient_id, "disulfiram")["slot_id"]
    reason = "Bussen var forsinket, aftalt i telefonen"
    created = expect(api.dispense(slot_id, breath_alcohol_promille="0.00", outside_window_reason=reason), 201)
    listed = expect(api.get("/reports/outside-window", factory.doctor), 200)
    assert [(x["dispense_id"], x["reason"], x["patient_id"]) for x in listed] == [
        (created["dispense_id"], reason, order.patient_id)
    ]
    assert expect(api.get("/reports/outside-window", factory.doctor, params={"from": TUESDAY.isoformat()}), 200) == []
    expect(api.get("/reports/outside-window", factory.nurse), 403)
    assert "dispense.outside_window" in [e["action"] for e in api.audit(patient_id=order.patient_id)]


def test_signing_an_order_due_on_a_weekday_without_its_window_is_422_naming_the_weekdays(api, factory, norddjurs):
    draft = factory.order(site=norddjurs, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 2, 4), sign=False)
    path = f"/prescriptions/{draft.id}/sign"
    r = api.post(path, factory.doctor, json={"password": PASSWORD}, headers={"Accept-Language": "da"})
    body = expect(r, 422)
    assert body["code"] == "order.no_window" and body["params"]["weekdays"] == [2, 4]
    assert "onsdag, fredag" in body["detail"]
    reason = "Patienten kommer onsdag og fredag efter aftale med sygeplejersken"
    signed = expect(api.post(path, factory.doctor, json={"password": PASSWORD, "window_override_reason": reason}), 200)
    assert signed["status"] == "active"
    assert signed["sign_overrides"] == [{"kind": "no_window", "reason": reason, "detail": {"weekdays": [2, 4]}}]
    assert expect(api.get(f"/prescriptions/{draft.id}", factory.doctor), 200)["sign_overrides"][0]["reason"] == reason


def test_take_home_days_need_no_window_only_the_pickup_days(api, factory):
    weekdays_only = factory.site(windows=[W(d, time(8), time(10)) for d in range(5)])
    draft = factory.order(site=weekdays_only, pickup_weekdays=(0, 3), sign=False)  # the weekend goes home
    expect(api.post(f"/prescriptions/{draft.id}/sign", factory.doctor, json={"password": PASSWORD}), 200)
    daily = factory.order(site=weekdays_only, sign=False)  # comes every day, also at the weekend
    r = api.post(f"/prescriptions/{daily.id}/sign", factory.doctor, json={"password": PASSWORD})
    assert expect(r, 422)["params"]["weekdays"] == [5, 6]


# --- 5. one opioid at a time ---------------------------------------------------------------------


def test_methadone_and_buprenorphine_in_force_the_same_day_are_refused_unless_a_planned_switch(api, factory):
    site = factory.site()
    patient = factory.patient()
    methadone = factory.order(patient, site)
    for drug in (Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE):
        draft = factory.order(patient, site, drug=drug, dose="8", sign=False)
        r = api.post(f"/prescriptions/{draft.id}/sign", factory.doctor, json={"password": PASSWORD})
        body = expect(r, 409)
        assert body["code"] == "order.opioid_overlap" and body["params"]["other_order_id"] == methadone.id
    reason = "Planlagt skift fra metadon til buprenorphin"
    signed = expect(
        api.post(
            f"/prescriptions/{draft.id}/sign",
            factory.doctor,
            json={"password": PASSWORD, "opioid_overlap_reason": reason},
        ),
        200,
    )
    assert [(o["kind"], o["reason"]) for o in signed["sign_overrides"]] == [("opioid_overlap", reason)]


def test_a_switch_without_overlapping_days_and_antabus_with_an_opioid_need_no_reason(api, factory):
    site = factory.site()
    patient = factory.patient()
    factory.order(patient, site, end_date=MONDAY + timedelta(days=2))
    after = factory.order(patient, site, drug=Drug.BUPRENORPHINE, dose="8", start=WEDNESDAY, sign=False)
    expect(api.post(f"/prescriptions/{after.id}/sign", factory.doctor, json={"password": PASSWORD}), 409)
    later = factory.order(patient, site, drug=Drug.BUPRENORPHINE, dose="8", start=THURSDAY, sign=False)
    assert (
        expect(api.post(f"/prescriptions/{later.id}/sign", factory.doctor, json={"password": PASSWORD}), 200)[
            "sign_overrides"
        ]
        == []
    )
    antabus = factory.order(patient, site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3), sign=False)
    expect(api.post(f"/prescriptions/{antabus.id}/sign", factory.doctor, json={"password": PASSWORD}), 200)
