"""Doctor's orders: write, sign, revise, discontinue; doses as exact decimals; tamper evidence."""

from datetime import datetime

import pytest
from sqlalchemy import text

from dispensing.enums import Drug, Role
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)
from tests.conftest import PASSWORD


def order_body(patient_id: int, site_id: int, **kw) -> dict:
    return {
        "patient_id": patient_id,
        "drug": "methadone",
        "dose_mg": "30",
        "site_id": site_id,
        "start_date": MONDAY.isoformat(),
        "indication": "opioid dependence",
        "supervised": True,
    } | kw


def create(api, factory, patient=None, site=None, user=None, **kw):
    patient = patient or factory.patient()
    site = site or factory.site()
    return api.post("/prescriptions", user or factory.doctor, json=order_body(patient.id, site.id, **kw))


def sign(api, order_id: int, user, password: str = PASSWORD):
    return api.post(f"/prescriptions/{order_id}/sign", user, json={"password": password})


def signed(api, factory, **kw) -> dict:
    order = expect(create(api, factory, **kw), 201)
    return expect(sign(api, order["id"], factory.doctor), 200)


def revise(api, factory, order_id: int, effective, reason="titration", **changes):
    return api.post(
        f"/prescriptions/{order_id}/revise",
        factory.doctor,
        json={"effective_date": effective.isoformat(), "reason": reason} | changes,
    )


def read(api, factory, order_id: int) -> dict:
    return expect(api.get(f"/prescriptions/{order_id}", factory.doctor), 200)


# --- writing a draft ---------------------------------------------------------------------------


def test_doctor_writes_a_draft(api, factory):
    patient, site = factory.patient(), factory.site()
    body = expect(create(api, factory, patient, site), 201)
    assert isinstance(body["id"], int)
    assert body["status"] == "draft"
    assert body["patient_id"] == patient.id and body["site_id"] == site.id
    assert body["drug"] == "methadone"
    assert body["dose_mg"] == "30"
    assert body["weekdays"] == [0, 1, 2, 3, 4, 5, 6]
    assert body["pickup_weekdays"] == [0, 1, 2, 3, 4, 5, 6]  # default: no take-home
    assert body["take_home"] is False
    assert body["version"] == 1 and body["supersedes_id"] is None
    assert body["signed_by"] is None and body["signed_at"] is None and body["signature"] is None
    assert body["start_date"] == MONDAY.isoformat()
    # the draft is not yet an order the window hands out against
    assert expect(api.get(f"/sites/{site.id}/roster", factory.nurse, params={"date": MONDAY.isoformat()}), 200) == []


@pytest.mark.parametrize("role", [Role.NURSE, Role.ADMIN, Role.SITE_STAFF])
def test_only_a_doctor_writes_orders(api, factory, role):
    user = api.site_staff() if role == Role.SITE_STAFF else factory.user(role)
    patient = factory.patient()
    expect(create(api, factory, patient, user=user), 403)
    assert expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200) == []


def test_unknown_patient_or_site_is_404(api, factory):
    site, patient = factory.site(), factory.patient()
    expect(api.post("/prescriptions", factory.doctor, json=order_body(987654, site.id)), 404)
    body = expect(api.post("/prescriptions", factory.doctor, json=order_body(patient.id, 987654)), 404)
    assert "987654" in body["detail"]
    assert body["code"] == "record.not_found" and body["params"] == {"record": "Site", "id": "987654"}
    body = expect(api.get("/prescriptions/987654", factory.doctor), 404)
    assert body["code"] == "record.not_found" and body["params"] == {"record": "Order", "id": "987654"}


@pytest.mark.parametrize(
    "drug, product, dose_in, dose_out",
    [
        ("disulfiram", None, 400, "400"),
        ("disulfiram", None, "800", "800"),
        ("methadone", "methadone-oral-1", "2.5", "2.5"),
        ("methadone", "methadone-oral-1", 2.5, "2.5"),
        ("methadone", None, "30.000", "30"),
        ("buprenorphine", "subutex-sl", "0.4", "0.4"),
        ("buprenorphine", "subutex-sl", 1.2, "1.2"),  # 1.2 as a binary float is 1.1999999999999999556
        ("buprenorphine", "subutex-sl", 0.8, "0.8"),
        ("buprenorphine_naloxone", None, 16, "16"),
        ("acamprosate", None, 1998, "1998"),
    ],
)
def test_dose_accepts_number_or_decimal_string_and_returns_an_exact_decimal_string(
    api, factory, drug, product, dose_in, dose_out
):
    extra = {"product": product} if product else {}
    created = expect(create(api, factory, drug=drug, dose_mg=dose_in, **extra), 201)
    assert created["dose_mg"] == dose_out
    assert read(api, factory, created["id"])["dose_mg"] == dose_out
    signed_order = expect(sign(api, created["id"], factory.doctor), 200)
    assert signed_order["dose_mg"] == dose_out


def test_large_whole_dose_is_shown_without_exponent(api, factory):
    created = expect(
        create(
            api,
            factory,
            dose_mg=80,
            product="methadone-oral-1",
            override_reason="transfer from another centre at 80 mg",
        ),
        201,
    )
    assert created["dose_mg"] == "80"
    assert created["dose_ml"] == "80"  # 1 mg/ml solution
    assert '"dose_mg":"80"' in api.get(f"/prescriptions/{created['id']}", factory.doctor).text.replace(" ", "")


@pytest.mark.parametrize(
    "product, dose, words",
    [
        ("methadone-tab-5", "2.5", ["multiple of 5"]),
        ("methadone-oral-1", "0.3", ["multiple of 0.5"]),
        (None, "800", ["300"]),  # above the catalogue's sanity limit for methadone
        (None, "0", ["more than 0"]),
        (None, "-10", ["more than 0"]),
        ("no-such-product", "30", ["methadone-oral-1"]),
    ],
)
def test_dose_the_product_cannot_give_is_422(api, factory, product, dose, words):
    extra = {"product": product} if product else {}
    body = expect(create(api, factory, dose_mg=dose, override_reason="just testing", **extra), 422)
    for word in words:
        assert word in body["detail"]


@pytest.mark.parametrize("dose", ["abc", "", None, "NaN", "Infinity"])
def test_dose_that_is_not_a_number_is_422(api, factory, dose):
    expect(create(api, factory, dose_mg=dose), 422)


@pytest.mark.parametrize(
    "terms",
    [
        {"weekdays": [7]},
        {"weekdays": [-1, 2]},
        {"weekdays": []},
        {"weekdays": ["monday"]},
        {"weekdays": [0, 3], "pickup_weekdays": [0, 1]},
        {"weekdays": [0, 3], "pickup_weekdays": []},
        {"weekdays": [0, 3], "pickup_weekdays": [9]},
    ],
)
def test_bad_weekdays_are_422(api, factory, terms):
    patient = factory.patient()
    body = expect(create(api, factory, patient, **terms), 422)
    assert "weekday" in body["detail"].lower()
    assert expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200) == []


def test_start_date_in_the_past_is_422(api, factory):
    body = expect(create(api, factory, start_date=day(-1).isoformat()), 422)
    assert "past" in body["detail"]


def test_end_before_start_is_422(api, factory):
    expect(create(api, factory, start_date=day(3).isoformat(), end_date=day(2).isoformat()), 422)


def test_antabus_with_take_home_is_422(api, factory):
    body = expect(create(api, factory, drug="disulfiram", dose_mg="400", weekdays=[0, 3], pickup_weekdays=[0]), 422)
    assert "take-home" in body["detail"] or "supervised" in body["detail"]
    expect(create(api, factory, drug="disulfiram", dose_mg="400", weekdays=[0, 3], supervised=False), 422)
    ok = expect(create(api, factory, drug="disulfiram", dose_mg="400", weekdays=[0, 3]), 201)
    assert ok["take_home"] is False and ok["weekdays"] == [0, 3]


def test_take_home_order_shows_its_pickup_days(api, factory):
    body = expect(create(api, factory, weekdays=[0, 1, 2, 3, 4, 5, 6], pickup_weekdays=[3, 0]), 201)
    assert body["pickup_weekdays"] == [0, 3]
    assert body["take_home"] is True


# --- methadone titration ---------------------------------------------------------------------


def test_methadone_first_dose_30_is_allowed(api, factory):
    assert expect(create(api, factory, dose_mg=30), 201)["dose_mg"] == "30"


def test_methadone_first_dose_above_30_is_422_naming_the_limit(api, factory):
    patient = factory.patient()
    body = expect(create(api, factory, patient, dose_mg=35), 422)
    assert "30 mg" in body["detail"]
    assert "35" in body["detail"]
    assert "override" in body["detail"].lower()
    assert expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200) == []


def test_methadone_first_dose_above_30_with_override_reason_is_kept(api, factory):
    reason = "known tolerance: transferred from Aarhus at 35 mg"
    body = expect(create(api, factory, dose_mg=35, override_reason=reason), 201)
    assert body["override_reason"] == reason
    signed_order = expect(sign(api, body["id"], factory.doctor), 200)
    assert signed_order["status"] == "active"
    assert signed_order["override_reason"] == reason


def test_blank_override_reason_does_not_override(api, factory):
    expect(create(api, factory, dose_mg=35, override_reason="   "), 422)


# --- signing -----------------------------------------------------------------------------------


def test_signed_order_shows_signer_time_and_a_valid_signature(api, factory, clock):
    doctor = factory.doctor
    draft = expect(create(api, factory), 201)
    body = expect(sign(api, draft["id"], doctor), 200)
    assert body["status"] == "active"
    assert body["signed_by"] == doctor.full_name
    signed_at = datetime.fromisoformat(body["signed_at"])
    assert signed_at.utcoffset() is not None
    assert signed_at == clock()
    assert isinstance(body["signature"], str) and len(body["signature"]) >= 32
    assert body["signature_valid"] is True
    again = read(api, factory, draft["id"])
    assert again["signature"] == body["signature"] and again["signature_valid"] is True


def test_sign_with_wrong_password_is_422_and_the_order_stays_a_draft(api, factory):
    draft = expect(create(api, factory), 201)
    body = expect(sign(api, draft["id"], factory.doctor, password="wrong-password"), 422)
    assert "password" in body["detail"]
    after = read(api, factory, draft["id"])
    assert after["status"] == "draft" and after["signature"] is None
    refused = [e for e in api.audit(patient_id=draft["patient_id"]) if e["action"] == "prescription.sign_refused"]
    assert refused and refused[0]["entity_id"] == draft["id"]
    assert refused[0]["actor"] == factory.doctor.username


@pytest.mark.parametrize("role", [Role.NURSE, Role.ADMIN])
def test_only_a_doctor_signs(api, factory, role):
    draft = expect(create(api, factory), 201)
    expect(sign(api, draft["id"], factory.user(role)), 403)
    assert read(api, factory, draft["id"])["status"] == "draft"


def test_doctor_without_the_prescribing_right_cannot_sign_opioids_but_can_sign_antabus(api, factory):
    plain_doctor = factory.user(Role.DOCTOR, can_prescribe=False)
    patient = factory.patient()
    methadone = expect(create(api, factory, patient, user=plain_doctor), 201)
    body = expect(sign(api, methadone["id"], plain_doctor), 403)
    assert "§41" in body["detail"] or "prescribe" in body["detail"]
    assert read(api, factory, methadone["id"])["status"] == "draft"

    antabus = expect(
        create(api, factory, patient, user=plain_doctor, drug="disulfiram", dose_mg="400", weekdays=[0, 3]), 201
    )
    assert expect(sign(api, antabus["id"], plain_doctor), 200)["status"] == "active"

    bup = expect(create(api, factory, patient, user=plain_doctor, drug="buprenorphine", dose_mg="8"), 201)
    expect(sign(api, bup["id"], plain_doctor), 403)


def test_signing_twice_is_409(api, factory):
    order = signed(api, factory)
    body = expect(sign(api, order["id"], factory.doctor), 409)
    assert "draft" in body["detail"]
    assert read(api, factory, order["id"])["signed_at"] == order["signed_at"]


def test_unknown_order_sign_is_404(api, factory):
    expect(sign(api, 987654, factory.doctor), 404)


def test_second_order_for_the_same_drug_while_one_is_active_is_409(api, factory):
    patient, site = factory.patient(), factory.site()
    first = signed(api, factory, patient=patient, site=site)
    body = expect(create(api, factory, patient, site, start_date=day(7).isoformat()), 409)
    assert str(first["id"]) in body["detail"] and "revise" in body["detail"]
    # another drug for the same patient is fine
    expect(create(api, factory, patient, site, drug="disulfiram", dose_mg="400", weekdays=[0, 3]), 201)


def test_orders_of_a_patient_are_listed(api, factory):
    patient = factory.patient()
    order = signed(api, factory, patient=patient)
    listed = expect(api.get(f"/patients/{patient.id}/prescriptions", factory.nurse), 200)
    assert [o["id"] for o in listed] == [order["id"]]
    assert listed[0]["status"] == "active"
    expect(api.get("/patients/987654/prescriptions", factory.nurse), 404)


# --- revising ----------------------------------------------------------------------------------


def test_revise_makes_a_new_draft_version_that_supersedes_the_old_once_signed(api, factory):
    patient, site = factory.patient(), factory.site()
    old = signed(api, factory, patient=patient, site=site)
    wednesday = day(2)
    draft = expect(revise(api, factory, old["id"], wednesday, dose_mg=40, reason="still withdrawal symptoms"), 201)
    assert draft["status"] == "draft"
    assert draft["version"] == 2
    assert draft["supersedes_id"] == old["id"]
    assert draft["dose_mg"] == "40"
    assert draft["start_date"] == wednesday.isoformat()
    assert draft["revision_reason"] == "still withdrawal symptoms"
    assert read(api, factory, old["id"])["status"] == "active"  # nothing changes until it is signed

    new = expect(sign(api, draft["id"], factory.doctor), 200)
    assert new["status"] == "active"
    before = read(api, factory, old["id"])
    assert before["status"] == "superseded"
    assert before["superseded_on"] == wednesday.isoformat()
    assert before["signature_valid"] is True  # superseding does not touch the signed content

    # The window gives 30 mg until Tuesday and 40 mg from Wednesday.
    assert api.slot(site.id, day(1), patient.id)["dose_mg"] == "30"
    assert api.slot(site.id, wednesday, patient.id)["dose_mg"] == "40"
    versions = expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200)
    assert {(o["id"], o["version"], o["status"]) for o in versions} == {
        (old["id"], 1, "superseded"),
        (new["id"], 2, "active"),
    }


def test_revise_step_above_10_mg_is_422_unless_overridden(api, factory):
    old = signed(api, factory)
    body = expect(revise(api, factory, old["id"], day(2), dose_mg=45), 422)
    assert "10 mg" in body["detail"] and "15" in body["detail"]
    ok = expect(revise(api, factory, old["id"], day(2), dose_mg=45, override_reason="severe withdrawal, observed"), 201)
    assert ok["override_reason"] == "severe withdrawal, observed"
    assert expect(sign(api, ok["id"], factory.doctor), 200)["status"] == "active"


def test_weekly_increase_above_20_mg_is_422(api, factory):
    current = signed(api, factory)  # 30 mg from Monday
    for effective, dose in ((day(1), 40), (day(2), 50)):  # +10 Tuesday, +10 Wednesday: 20 in the week
        draft = expect(revise(api, factory, current["id"], effective, dose_mg=dose), 201)
        current = expect(sign(api, draft["id"], factory.doctor), 200)
    body = expect(revise(api, factory, current["id"], day(3), dose_mg=60), 422)  # +30 within 7 days
    assert "7" in body["detail"] and "20 mg" in body["detail"]
    assert "10 mg per change" not in body["detail"]  # the step itself (10 mg) is within its limit
    # a week later the same step is fine
    expect(revise(api, factory, current["id"], day(10), dose_mg=60), 201)


def test_lowering_the_dose_is_always_allowed(api, factory):
    old = signed(api, factory, dose_mg=35, override_reason="known tolerance")
    assert expect(revise(api, factory, old["id"], day(1), dose_mg=20), 201)["dose_mg"] == "20"


def test_revision_that_changes_pickup_days_records_the_reason(api, factory):
    old = signed(api, factory)
    reason = "stable for 3 months, negative urine tests"
    changed = expect(revise(api, factory, old["id"], day(3), reason=reason, pickup_weekdays=[0, 3]), 201)
    assert changed["pickup_weekdays"] == [0, 3]
    assert changed["take_home"] is True
    assert changed["pickup_change_reason"] == reason


def test_revision_of_the_dose_only_has_no_pickup_change_reason(api, factory):
    old = signed(api, factory, weekdays=[0, 1, 2, 3, 4, 5, 6], pickup_weekdays=[0, 3])
    changed = expect(revise(api, factory, old["id"], day(2), dose_mg=35), 201)
    assert changed["pickup_weekdays"] == [0, 3]  # unchanged terms are carried over
    assert changed["pickup_change_reason"] is None


def test_revise_with_a_past_effective_date_is_422(api, factory, clock):
    old = signed(api, factory)
    clock.advance(days=2)
    body = expect(revise(api, factory, old["id"], day(1), dose_mg=35), 422)
    assert "past" in body["detail"]


def test_revise_needs_a_reason_and_an_active_order(api, factory):
    draft = expect(create(api, factory), 201)
    expect(revise(api, factory, draft["id"], day(2), dose_mg=35), 409)
    active = expect(sign(api, draft["id"], factory.doctor), 200)
    expect(revise(api, factory, active["id"], day(2), reason="", dose_mg=35), 422)
    expect(api.post(f"/prescriptions/{active['id']}/revise", factory.doctor, json={"dose_mg": 35}), 422)
    expect(revise(api, factory, active["id"], day(2), drug="disulfiram"), 422)
    expect(revise(api, factory, 987654, day(2), dose_mg=35), 404)


def test_only_a_doctor_revises(api, factory):
    old = signed(api, factory)
    expect(
        api.post(
            f"/prescriptions/{old['id']}/revise",
            factory.nurse,
            json={"effective_date": day(2).isoformat(), "reason": "x", "dose_mg": 35},
        ),
        403,
    )


# --- discontinuing ----------------------------------------------------------------------------


def test_discontinue_stops_the_order(api, factory):
    patient, site = factory.patient(), factory.site()
    order = signed(api, factory, patient=patient, site=site)
    body = expect(
        api.post(
            f"/prescriptions/{order['id']}/discontinue",
            factory.doctor,
            json={"end_date": day(2).isoformat(), "reason": "patient moved to Odense"},
        ),
        200,
    )
    assert body["status"] == "discontinued"
    assert body["discontinued_on"] == day(2).isoformat()
    assert body["discontinue_reason"] == "patient moved to Odense"
    assert read(api, factory, order["id"])["status"] == "discontinued"
    # Wednesday is the last day; Thursday has nothing for this patient
    assert api.slot(site.id, day(2), patient.id)["status"] == "due"
    assert [i for i in api.roster(site.id, day(3)) if i["patient"]["id"] == patient.id] == []
    # a discontinued order cannot be revised or discontinued again
    expect(revise(api, factory, order["id"], day(2), dose_mg=35), 409)
    expect(
        api.post(
            f"/prescriptions/{order['id']}/discontinue",
            factory.doctor,
            json={"end_date": day(2).isoformat(), "reason": "again"},
        ),
        409,
    )


def test_discontinue_needs_a_doctor_and_a_reason(api, factory):
    order = signed(api, factory)
    url = f"/prescriptions/{order['id']}/discontinue"
    expect(api.post(url, factory.nurse, json={"end_date": day(2).isoformat(), "reason": "x"}), 403)
    expect(api.post(url, factory.doctor, json={"end_date": day(2).isoformat(), "reason": " "}), 422)
    expect(api.post(url, factory.doctor, json={"end_date": day(-5).isoformat(), "reason": "x"}), 422)
    assert read(api, factory, order["id"])["status"] == "active"


# --- tamper evidence ------------------------------------------------------------------------------


def test_a_signed_order_changed_in_the_database_is_flagged_and_blocks_the_window(api, factory, session):
    patient, site = factory.patient(), factory.site()
    order = signed(api, factory, patient=patient, site=site)
    slot = api.slot(site.id, MONDAY, patient.id)
    assert slot["blocked_reason"] is None

    session.execute(text("UPDATE prescriptions SET dose_mg = 60 WHERE id = :id"), {"id": order["id"]})

    after = read(api, factory, order["id"])
    assert after["dose_mg"] == "60"
    assert after["signature_valid"] is False
    line = api.slot(site.id, MONDAY, patient.id)
    assert line["blocked_reason"] and "signature" in line["blocked_reason"]
    body = expect(api.dispense(slot["slot_id"]), 409)
    assert "signature" in body["detail"]
    assert api.slot(site.id, MONDAY, patient.id)["status"] == "due"


def test_a_changed_pickup_arrangement_is_also_detected(api, factory, session):
    order = signed(api, factory, drug="disulfiram", dose_mg="400", weekdays=[0, 3])
    session.execute(text("UPDATE prescriptions SET weekdays = '0123456' WHERE id = :id"), {"id": order["id"]})
    assert read(api, factory, order["id"])["signature_valid"] is False


def test_drug_catalogue_lists_the_contract_codes(api, factory):
    drugs = {d["code"]: d for d in expect(api.get("/drugs", factory.nurse), 200)}
    assert set(drugs) == {d.value for d in Drug}
    assert drugs["disulfiram"]["breathalyser_required"] is True
    assert drugs["methadone"]["controlled"] is True and drugs["disulfiram"]["controlled"] is False
    steps = {p["code"]: p["dose_step_mg"] for p in drugs["buprenorphine"]["products"]}
    assert steps["subutex-sl"] == "0.4"


def test_missing_or_unknown_fields_are_422_naming_the_field(api, factory):
    patient, site = factory.patient(), factory.site()
    body = order_body(patient.id, site.id)
    for field in ("patient_id", "drug", "dose_mg", "site_id", "start_date", "indication"):
        detail = expect(
            api.post("/prescriptions", factory.doctor, json={k: v for k, v in body.items() if k != field}), 422
        )["detail"]
        assert field in detail
    detail = expect(api.post("/prescriptions", factory.doctor, json=body | {"dose": "30"}), 422)["detail"]
    assert "dose" in detail
    detail = expect(api.post("/prescriptions", factory.doctor, json=body | {"drug": "heroin"}), 422)["detail"]
    assert "drug" in detail
    detail = expect(api.post("/prescriptions", factory.doctor, json=body | {"start_date": "02-03-2026"}), 422)["detail"]
    assert "start_date" in detail
    detail = expect(api.post("/prescriptions", factory.doctor, json=body | {"indication": "  "}), 422)["detail"]
    assert "indication" in detail
    expect(api.post("/prescriptions/1/sign", factory.doctor, json={}), 422)
    assert expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200) == []


# --- more of the order lifecycle -------------------------------------------------------------------


def test_a_revision_takes_over_a_slot_opened_before_it_was_signed(api, factory):
    patient, site = factory.patient(), factory.site()
    old = signed(api, factory, patient=patient, site=site)
    assert api.slot(site.id, day(2), patient.id)["dose_mg"] == "30"  # the window looked ahead
    draft = expect(revise(api, factory, old["id"], day(2), dose_mg=40), 201)
    expect(sign(api, draft["id"], factory.doctor), 200)
    line = api.slot(site.id, day(2), patient.id)
    assert line["dose_mg"] == "40"
    assert line["prescription_id"] == draft["id"]


def test_two_revisions_of_the_same_order_cannot_both_be_signed(api, factory):
    old = signed(api, factory)
    first = expect(revise(api, factory, old["id"], day(2), dose_mg=35), 201)
    second = expect(revise(api, factory, old["id"], day(2), dose_mg=40), 201)
    expect(sign(api, first["id"], factory.doctor), 200)
    body = expect(sign(api, second["id"], factory.doctor), 409)
    assert str(old["id"]) in body["detail"]
    assert read(api, factory, second["id"])["status"] == "draft"


def test_a_draft_whose_start_has_passed_cannot_be_signed(api, factory, clock):
    draft = expect(create(api, factory), 201)  # starts Monday
    clock.set(day(1))
    body = expect(sign(api, draft["id"], factory.doctor), 409)
    assert "revise" in body["detail"] or "passed" in body["detail"]
    assert read(api, factory, draft["id"])["status"] == "draft"


def test_discontinue_warns_about_take_home_doses_already_handed_out(api, factory):
    patient, site = factory.patient(), factory.site()
    order = signed(api, factory, patient=patient, site=site, pickup_weekdays=[0, 3])
    slot = api.slot(site.id, MONDAY, patient.id)
    expect(api.post(f"/slots/{slot['slot_id']}/dispense", factory.nurse, json={"supervised": True}), 201)
    body = expect(
        api.post(
            f"/prescriptions/{order['id']}/discontinue",
            factory.doctor,
            json={"end_date": MONDAY.isoformat(), "reason": "admitted to hospital"},
        ),
        200,
    )
    assert body["status"] == "discontinued"
    warning = " ".join(body["warnings"])
    assert day(1).isoformat() in warning and day(2).isoformat() in warning


def test_a_draft_can_be_withdrawn(api, factory):
    patient = factory.patient()
    draft = expect(create(api, factory, patient=patient), 201)
    body = expect(
        api.post(
            f"/prescriptions/{draft['id']}/discontinue",
            factory.doctor,
            json={"end_date": MONDAY.isoformat(), "reason": "written by mistake"},
        ),
        200,
    )
    assert body["status"] == "withdrawn"  # never signed, so it never applied: not "discontinued"
    expect(sign(api, draft["id"], factory.doctor), 409)
    # a withdrawn draft is no dose history: the first real order still meets the first-day limit
    body = expect(create(api, factory, patient=patient, dose_mg=40), 422)
    assert "first-day" in body["detail"]


def test_after_four_missed_days_a_methadone_restart_is_capped_at_30_mg(api, factory, clock):
    patient, site = factory.patient(), factory.site()
    v1 = signed(api, factory, patient=patient, site=site)
    v2 = expect(sign(api, expect(revise(api, factory, v1["id"], day(1), dose_mg=40), 201)["id"], factory.doctor), 200)
    monday = api.slot(site.id, MONDAY, patient.id)
    expect(api.post(f"/slots/{monday['slot_id']}/dispense", factory.nurse, json={"supervised": True}), 201)

    saturday = day(5)  # Tuesday to Friday nobody came: 4 days
    clock.set(saturday)
    line = api.slot(site.id, saturday, patient.id)
    assert line["missed_consecutive"] == 4
    assert line["blocked_reason"] and "30 mg" in line["blocked_reason"]

    body = expect(revise(api, factory, v2["id"], saturday, dose_mg=35, reason="restart after missed days"), 422)
    assert "restart" in body["detail"].lower() and "30 mg" in body["detail"]
    restart = expect(revise(api, factory, v2["id"], saturday, dose_mg=30, reason="restart after missed days"), 201)
    expect(sign(api, restart["id"], factory.doctor), 200)

    line = api.slot(site.id, saturday, patient.id)
    assert line["dose_mg"] == "30"
    assert line["blocked_reason"] is None  # the doctor's new order is the review
    expect(api.post(f"/slots/{line['slot_id']}/dispense", factory.nurse, json={"supervised": True}), 201)


def test_moving_the_pickup_site_moves_the_patient_to_the_new_sites_roster(api, factory):
    patient, clinic, pharmacy = factory.patient(), factory.site(), factory.site()
    old = signed(api, factory, patient=patient, site=clinic)
    reason = "works days; pharmacy closer to home"
    draft = expect(revise(api, factory, old["id"], day(2), reason=reason, site_id=pharmacy.id), 201)
    assert draft["pickup_change_reason"] == reason
    expect(sign(api, draft["id"], factory.doctor), 200)
    assert api.slot(clinic.id, day(1), patient.id)["status"] == "due"
    assert [i for i in api.roster(clinic.id, day(2)) if i["patient"]["id"] == patient.id] == []
    assert api.slot(pharmacy.id, day(2), patient.id)["prescription_id"] == draft["id"]


def test_take_home_never_runs_past_the_orders_end(api, factory):
    patient, site = factory.patient(), factory.site()
    signed(api, factory, patient=patient, site=site, pickup_weekdays=[0, 3], end_date=day(1).isoformat())
    line = api.slot(site.id, MONDAY, patient.id)
    assert line["take_home_days"] == 1  # Tuesday is the last day
    body = expect(
        api.post(f"/slots/{line['slot_id']}/dispense", factory.nurse, json={"supervised": True, "take_home_days": 2}),
        422,
    )
    assert "end" in body["detail"]


def test_signing_a_revision_warns_about_take_home_doses_already_out_at_the_old_dose(api, factory, clock):
    from tests.conftest import auth

    site = factory.site()
    order = factory.order(site=site, dose="40", override="known tolerance", pickup_weekdays=[0, 3])
    nurse = auth(factory.nurse, clock)
    (slot,) = api.client.get(f"/sites/{site.id}/roster", headers=nurse).json()
    assert (
        api.client.post(f"/slots/{slot['slot_id']}/dispense", json={"supervised": True}, headers=nurse).status_code
        == 201
    )  # Tuesday and Wednesday go home
    draft = expect(revise(api, factory, order.id, day(1), dose_mg=30), 201)
    signed_revision = expect(sign(api, draft["id"], factory.doctor), 200)
    assert any(day(1).isoformat() in w and "old terms" in w for w in signed_revision["warnings"])
