"""Clinic policy (DOMAIN.md's *(policy)* numbers): defaults, who may change them, and that the window obeys."""

import pytest

from dispensing.enums import Drug, Role
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)


def policy(api, user) -> dict:
    return expect(api.get("/policy", user), 200)


def test_policy_shows_the_domain_defaults(api, factory):
    p = policy(api, factory.nurse)
    assert p["take_home_max_days"] == 14
    assert p["opioid_breath_threshold"] == "0.50"
    assert p["disulfiram_breath_threshold"] == "0.00"
    assert p["opioid_breath_required"] is False
    assert p["methadone_first_dose_max_mg"] == "30"
    assert p["methadone_step_max_mg"] == "10"
    assert p["methadone_weekly_increase_max_mg"] == "20"
    assert p["missed_days_block"] == 3


def test_policy_needs_a_login(api):
    expect(api.get("/policy"), 401)
    expect(api.put("/policy", json={"take_home_max_days": 7}), 401)


@pytest.mark.parametrize("role", [Role.NURSE, Role.SITE_STAFF])
def test_nurse_or_site_staff_cannot_change_policy(api, factory, role):
    user = api.site_staff() if role == Role.SITE_STAFF else factory.user(role)
    expect(api.put("/policy", user, json={"opioid_breath_required": True}), 403)
    assert policy(api, factory.doctor)["opioid_breath_required"] is False


def test_doctor_requires_breath_for_opioids_and_the_window_follows(api, factory):
    site = factory.site()
    order = factory.order(factory.patient(), site, drug=Drug.METHADONE)
    before = api.slot(site.id, MONDAY, order.patient_id)
    assert before["breathalyser_required"] is False

    body = expect(api.put("/policy", factory.doctor, json={"opioid_breath_required": True}), 200)
    assert body["opioid_breath_required"] is True
    assert body["take_home_max_days"] == 14  # the rest keep their values
    assert policy(api, factory.nurse)["opioid_breath_required"] is True

    line = api.slot(site.id, MONDAY, order.patient_id)
    assert line["breathalyser_required"] is True
    detail = expect(api.dispense(line["slot_id"]), 422)["detail"]
    assert "breath" in detail.lower()
    expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00"), 201)
    changes = [e for e in api.audit() if e["action"] == "policy.update"]
    assert changes and changes[0]["actor"] == factory.doctor.username


def test_lower_opioid_threshold_withholds_earlier(api, factory):
    expect(api.put("/policy", factory.doctor, json={"opioid_breath_threshold": "0.20"}), 200)
    assert policy(api, factory.nurse)["opioid_breath_threshold"] == "0.20"
    site = factory.site()
    order = factory.order(factory.patient(), site)
    line = api.slot(site.id, MONDAY, order.patient_id)
    assert expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.21"), 200)["status"] == "withheld"


def test_take_home_maximum_limits_the_span(api, factory):
    expect(api.put("/policy", factory.doctor, json={"take_home_max_days": 3}), 200)
    site = factory.site()
    order = factory.order(factory.patient(), site, pickup_weekdays=(0,))  # weekly pickup on Mondays
    line = api.slot(site.id, MONDAY, order.patient_id)
    assert line["take_home_days"] == 2  # 3 days per pickup, counting the day itself
    expect(api.dispense(line["slot_id"], take_home_days=3), 422)
    assert expect(api.dispense(line["slot_id"]), 201)["covers"] == [
        MONDAY.isoformat(),
        day(1).isoformat(),
        day(2).isoformat(),
    ]


def test_first_dose_limit_is_a_setting(api, factory):
    expect(api.put("/policy", factory.doctor, json={"methadone_first_dose_max_mg": "40"}), 200)
    patient, site = factory.patient(), factory.site()
    body = {
        "patient_id": patient.id,
        "drug": "methadone",
        "dose_mg": "40",
        "site_id": site.id,
        "start_date": MONDAY.isoformat(),
        "indication": "opioid dependence",
    }
    expect(api.post("/prescriptions", factory.doctor, json=body), 201)
    other = factory.patient()
    detail = expect(
        api.post("/prescriptions", factory.doctor, json=body | {"patient_id": other.id, "dose_mg": "45"}), 422
    )["detail"]
    assert "40 mg" in detail


@pytest.mark.parametrize(
    "change",
    [
        {"take_home_max_days": 0},
        {"take_home_max_days": "many"},
        {"opioid_breath_threshold": "abc"},
        {"opioid_breath_threshold": "-0.10"},
        {"missed_days_block": 0},
        {"no_such_setting": 1},
        {"take_home_max_days": 7, "opioid_breath_threshold": "abc"},  # one bad value: nothing changes
    ],
)
def test_invalid_policy_is_422_and_changes_nothing(api, factory, change):
    before = policy(api, factory.doctor)
    body = expect(api.put("/policy", factory.doctor, json=change), 422)
    assert any(key in body["detail"] for key in change)
    assert policy(api, factory.doctor) == before


def test_policy_body_must_be_an_object(api, factory):
    expect(api.put("/policy", factory.doctor, json=["take_home_max_days", 7]), 422)
