"""Urine tests through HTTP (DOMAIN.md rule 7): the roster flag, results, refusals, doctor's orders, roles."""

from datetime import date, timedelta

import pytest

from dispensing.enums import Drug, Role
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)

NEG = {
    k: "neg"
    for k in (
        "opioids",
        "methadone",
        "buprenorphine",
        "benzodiazepines",
        "cannabis",
        "cocaine",
        "amphetamine",
        "alcohol_etg",
    )
}


def in_treatment(factory, site=None, *, children: bool = True, drug: Drug = Drug.METHADONE):
    patient = factory.patient(children_at_home=children)
    factory.order(patient, site or factory.site(), drug=drug, dose="30" if drug == Drug.METHADONE else "8")
    return patient


def urine_url(patient) -> str:
    return f"/patients/{patient.id}/urine-tests"


def view(api, patient, user) -> dict:
    return expect(api.get(urine_url(patient), user), 200)


def collect(api, patient, on: date | None = None, user=None, **results):
    body = {"collected_on": (on or api.clock.today).isoformat(), "results": NEG | results}
    return api.post(urine_url(patient), user or api.factory.nurse, json=body)


def goto(api, on: date) -> None:
    api.clock.set(on)


def flag(api, site, patient) -> bool:
    return api.slot(site.id, api.clock.today, patient.id)["urine_sample_due"]


# --- the roster --------------------------------------------------------------------------------------


def test_the_roster_shows_a_sample_due_only_on_a_due_day(api, factory):
    site = factory.site()
    # The randomly drawn test day may be a public holiday, when a clinic's roster is empty (rule 17).
    expect(api.put(f"/sites/{site.id}/holiday-rule", factory.admin, json={"danish_public_holidays": False}), 200)
    tested, untested = in_treatment(factory, site), in_treatment(factory, site, children=False)
    assert flag(api, site, tested) is True, "treatment start is a test day"
    assert flag(api, site, untested) is False

    expect(collect(api, tested), 201)
    assert flag(api, site, tested) is False, "the sample answered today's test"

    upcoming = [d["date"] for d in view(api, tested, factory.doctor)["planned_days"]]
    nxt = date.fromisoformat(upcoming[0])
    goto(api, nxt - timedelta(days=1))
    assert flag(api, site, tested) is False, "the day before a test day shows nothing"
    goto(api, nxt)
    assert flag(api, site, tested) is True
    assert flag(api, site, untested) is False


def test_a_missed_due_test_stays_due_on_the_next_visit(api, factory):
    site = factory.site()
    patient = in_treatment(factory, site)
    assert flag(api, site, patient) is True
    goto(api, day(1))
    assert flag(api, site, patient) is True
    assert view(api, patient, factory.nurse)["due_since"] == MONDAY.isoformat()


def test_children_at_home_switched_on_puts_the_patient_into_the_programme(api, factory):
    site = factory.site()
    patient = in_treatment(factory, site, children=False)
    before = view(api, patient, factory.nurse)
    assert before["in_programme"] is False and before["sample_due_today"] is False
    expect(api.call("PATCH", f"/patients/{patient.id}", factory.nurse, json={"children_at_home": True}), 200)
    after = view(api, patient, factory.nurse)
    assert after["in_programme"] is True and after["rules"] == ["children_at_home"]
    assert after["sample_due_today"] is True and after["max_gap_days"] == 92
    assert flag(api, site, patient) is True


def test_without_children_or_a_doctors_order_no_sample_is_ever_due(api, factory):
    site = factory.site()
    patient = in_treatment(factory, site, children=False)
    for offset in (0, 30, 93, 200):
        goto(api, day(offset))
        assert flag(api, site, patient) is False
    assert view(api, patient, factory.doctor)["planned_days"] == []


# --- who sees the schedule -----------------------------------------------------------------------------


def test_only_a_doctor_sees_the_future_test_days(api, factory):
    patient = in_treatment(factory)
    expect(collect(api, patient), 201)
    doctor = view(api, patient, factory.doctor)
    future = [d["date"] for d in doctor["planned_days"]]
    assert future and all(d > MONDAY.isoformat() for d in future)
    assert doctor["plan"]["version"] == 2 and doctor["plan"]["max_gap_days"] == 92

    for user in (factory.nurse, factory.admin):
        seen = api.get(urine_url(patient), user)
        body = expect(seen, 200)
        assert "planned_days" not in body and "plan" not in body and "urine_order" not in body
        assert all(d not in seen.text for d in future), "no future test day may leak to the window"
        assert body["sample_due_today"] is False and body["last_sample_on"] == MONDAY.isoformat()
        assert [t["outcome"] for t in body["tests"]] == ["collected"]


def test_site_staff_are_refused_everywhere(api, factory):
    patient = in_treatment(factory)
    staff = api.site_staff()
    expect(api.get(urine_url(patient), staff), 403)
    expect(collect(api, patient, user=staff), 403)
    expect(api.post(f"/patients/{patient.id}/urine-orders", staff, json={"max_gap_days": 14, "reason": "x"}), 403)
    expect(api.get(f"/patients/{patient.id}/urine-orders", staff), 403)
    assert view(api, patient, factory.nurse)["tests"] == []


def test_a_nurse_cannot_order_tests_or_see_the_orders(api, factory):
    patient = in_treatment(factory, children=False)
    r = api.post(f"/patients/{patient.id}/urine-orders", factory.nurse, json={"max_gap_days": 14, "reason": "x"})
    assert "doctor" in expect(r, 403)["detail"]
    expect(api.get(f"/patients/{patient.id}/urine-orders", factory.nurse), 403)
    assert view(api, patient, factory.nurse)["in_programme"] is False


def test_an_admin_cannot_record_a_sample(api, factory):
    patient = in_treatment(factory)
    expect(collect(api, patient, user=factory.admin), 403)


def test_unknown_patient_is_404(api, factory):
    expect(api.get("/patients/987654/urine-tests", factory.nurse), 404)


# --- recording -----------------------------------------------------------------------------------------


def test_a_sample_is_recorded_with_its_panel(api, factory):
    patient = in_treatment(factory)
    body = expect(collect(api, patient, methadone="pos"), 201)
    assert body["outcome"] == "collected" and body["collected_on"] == MONDAY.isoformat()
    assert body["was_due"] is True and body["sample_due_today"] is False
    assert body["results"]["methadone"] == "pos" and body["side_abuse"] == []
    loinc = {i["substance"]: i["loinc"] for i in body["panel"]}
    assert loinc["methadone"] == "19550-3" and loinc["buprenorphine"] == "58359-1"


def test_a_refusal_records_a_breach_and_is_audited(api, factory):
    patient = in_treatment(factory)
    body = expect(api.post(urine_url(patient), factory.nurse, json={"refused": True, "reason": "will not"}), 201)
    assert body["outcome"] == "refused" and body["breach_id"] and body["sample_due_today"] is False
    breaches = expect(api.get(f"/patients/{patient.id}/breaches", factory.doctor), 200)
    assert [(b["id"], b["kind"]) for b in breaches] == [(body["breach_id"], "refused_urine_sample")]
    log = api.audit(patient_id=patient.id)
    recorded = [e for e in log if e["action"] == "urine.record"]
    assert recorded and recorded[0]["detail"]["outcome"] == "refused"
    assert any(e["action"] == "breach.record" for e in log)
    assert patient.cpr not in str(log)


def test_not_possible_stays_due_without_a_breach(api, factory):
    patient = in_treatment(factory)
    r = api.post(urine_url(patient), factory.nurse, json={"not_possible": True, "reason": "just went"})
    assert expect(r, 201)["sample_due_today"] is True
    assert expect(api.get(f"/patients/{patient.id}/breaches", factory.doctor), 200) == []
    assert view(api, patient, factory.nurse)["sample_due_today"] is True


def test_side_abuse_goes_on_the_doctors_list_but_the_prescribed_substance_does_not(api, factory):
    clean, abusing = in_treatment(factory), in_treatment(factory)
    expect(collect(api, clean, methadone="pos"), 201)
    body = expect(collect(api, abusing, methadone="pos", benzodiazepines="pos"), 201)
    assert body["side_abuse"] == ["benzodiazepines"]
    alerts = expect(api.get("/alerts", factory.doctor), 200)
    mine = [a for a in alerts if a["kind"] == "positive_urine"]
    assert [a["patient_id"] for a in mine] == [abusing.id]
    assert mine[0]["id"] == body["alert_id"] and "benzodiazepines" in mine[0]["message"]
    assert expect(api.get(f"/patients/{abusing.id}/breaches", factory.doctor), 200) == [], (
        "a positive test is for the treatment meeting, never an automatic breach"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"collected_on": "2026-03-02", "results": {"heroin": "pos"}},
        {"collected_on": "2026-03-02", "results": {"cocaine": "yes"}},
        {"collected_on": "2026-03-02", "results": {}},
        {"collected_on": "2026-03-03", "results": {"cocaine": "neg"}},  # the future
        {"collected_on": "2026-03-02", "results": {"cocaine": "neg"}, "refused": True},
        {"results": {"cocaine": "neg"}},
        {},
        {"refused": True, "colour": "yellow"},
    ],
)
def test_invalid_input_is_422_and_changes_nothing(api, factory, body):
    patient = in_treatment(factory)
    expect(api.post(urine_url(patient), factory.nurse, json=body), 422)
    after = view(api, patient, factory.nurse)
    assert after["tests"] == [] and after["sample_due_today"] is True
    assert expect(api.get(f"/patients/{patient.id}/breaches", factory.doctor), 200) == []


def test_refusing_when_nothing_is_due_is_a_conflict(api, factory):
    patient = in_treatment(factory, children=False)
    r = api.post(urine_url(patient), factory.nurse, json={"refused": True})
    assert "No urine sample is due" in expect(r, 409)["detail"]


# --- the doctor's urine orders -------------------------------------------------------------------------


def test_a_doctors_order_with_a_smaller_gap_changes_the_plan(api, factory):
    patient = in_treatment(factory)
    expect(collect(api, patient), 201)
    before = view(api, patient, factory.doctor)
    order = expect(
        api.post(
            f"/patients/{patient.id}/urine-orders",
            factory.doctor,
            json={"max_gap_days": 14, "reason": "relapse suspected"},
        ),
        201,
    )
    assert order["status"] == "active" and order["max_gap_days"] == 14
    after = view(api, patient, factory.doctor)
    assert after["plan"]["version"] > before["plan"]["version"]
    assert after["plan"]["max_gap_days"] == 14 and after["urine_order"]["id"] == order["id"]
    assert after["rules"] == ["children_at_home", "doctor_order"]
    chain = [MONDAY] + [date.fromisoformat(d["date"]) for d in after["planned_days"]]
    assert max((b - a).days for a, b in zip(chain, chain[1:], strict=False)) <= 14
    assert [o["id"] for o in expect(api.get(f"/patients/{patient.id}/urine-orders", factory.doctor), 200)] == [
        order["id"]
    ]


def test_extra_test_days_for_a_patient_without_children(api, factory):
    site = factory.site()
    patient = in_treatment(factory, site, children=False)
    extra = day(3)
    r = api.post(
        f"/patients/{patient.id}/urine-orders",
        factory.doctor,
        json={"extra_days": [extra.isoformat()], "reason": "cocaine suspected"},
    )
    order = expect(r, 201)
    assert order["extra_days"] == [extra.isoformat()]
    assert flag(api, site, patient) is False
    goto(api, extra)
    assert flag(api, site, patient) is True
    # The audit log (admins read it) must not reveal the future test day.
    log = api.audit(patient_id=patient.id)
    written = [e for e in log if e["action"] in ("urine_order.create", "urine.plan")]
    assert written and not any(extra.isoformat() in str(e["detail"]) for e in written)

    ended = expect(api.post(f"/urine-orders/{order['id']}/end", factory.doctor, json={"reason": "done"}), 200)
    assert ended["status"] == "ended"
    assert flag(api, site, patient) is False


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "nothing ordered"},
        {"max_gap_days": 1, "reason": "daily"},
        {"max_gap_days": 14},
        {"extra_days": ["2026-03-01"], "reason": "in the past"},
        {"max_gap_days": 120, "reason": "looser than the children-at-home rule"},
    ],
)
def test_invalid_urine_orders_are_422(api, factory, body):
    patient = in_treatment(factory)
    expect(api.post(f"/patients/{patient.id}/urine-orders", factory.doctor, json=body), 422)
    assert expect(api.get(f"/patients/{patient.id}/urine-orders", factory.doctor), 200) == []


def test_roles_for_reading(api, factory):
    patient = in_treatment(factory)
    for user in (factory.nurse, factory.doctor, factory.admin):
        expect(api.get(urine_url(patient), user), 200)
    expect(api.get(urine_url(patient)), 401)
    other = factory.user(Role.NURSE)
    assert "planned_days" not in view(api, patient, other)
