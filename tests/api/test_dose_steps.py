"""Dose schedules (DOMAIN.md rule 18) through HTTP: a taper from 60 to 40 mg in weekly 5 mg steps
across take-home spans, build-ups checked step by step, and bad schedules refused."""

from datetime import date, timedelta
from decimal import Decimal

from dispensing.models import Dispense
from dispensing.services.labels import build_labels
from tests.api._helpers import MONDAY, api, expect  # noqa: F401  (api is a fixture)

MON, THU = 0, 3
SAT = MONDAY + timedelta(days=5)  # 2026-03-07
TAPER = [{"from_date": (SAT + timedelta(weeks=i)).isoformat(), "dose_mg": str(55 - 5 * i)} for i in range(4)]


def order_body(patient_id, site_id, **kw):
    body = {
        "patient_id": patient_id,
        "drug": "methadone",
        "dose_mg": "60",
        "site_id": site_id,
        "start_date": MONDAY.isoformat(),
        "indication": "opioid dependence",
        "pickup_weekdays": [MON, THU],
        "supervised": True,
        "override_reason": "known tolerance, transferred from another centre",
    }
    return body | kw


def signed(api, body):
    draft = expect(api.post("/prescriptions", api.factory.doctor, json=body), 201)
    return expect(
        api.post(f"/prescriptions/{draft['id']}/sign", api.factory.doctor, json={"password": "correct-horse-battery"}),
        200,
    )


def test_taper_60_to_40_in_weekly_steps_across_take_home_spans(api, factory, session):
    site, patient = factory.site(), factory.patient()
    order = signed(api, order_body(patient.id, site.id, steps=TAPER))
    assert [(s["from_date"], s["dose_mg"]) for s in order["steps"]] == [(t["from_date"], t["dose_mg"]) for t in TAPER]
    assert order["dose_mg"] == "60"

    handed_out = {}
    for week in range(4):  # to Thursday 26 March (Easter 2026 closes the clinic from 2 April)
        for weekday in (MON, THU):
            day = MONDAY + timedelta(weeks=week, days=weekday)
            api.clock.set(day)
            line = api.slot(site.id, day, patient.id)
            assert line["dose_mg"] == str(expected_dose(day))
            handed_out[day] = expect(api.dispense(line["slot_id"]), 201)

    # Thursday 5 March: 5 and 6 at 60 mg, the weekend at 55 mg (the step from Saturday 7 March).
    thursday = session.get(Dispense, handed_out[MONDAY + timedelta(days=3)]["dispense_id"])
    assert thursday.covers == ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]
    assert (thursday.dose_mg, thursday.total_mg) == (Decimal("60"), Decimal("230"))
    labels = build_labels(factory.ctx(factory.nurse), thursday)
    assert [(lb.covers[0].isoformat(), lb.dose_mg) for lb in labels] == [
        ("2026-03-06", Decimal("60")),
        ("2026-03-07", Decimal("55")),
        ("2026-03-08", Decimal("55")),
    ]
    # Thursday 26 March: 45 mg to Friday, then 40 mg, the end of the taper.
    last = session.get(Dispense, handed_out[MONDAY + timedelta(weeks=3, days=3)]["dispense_id"])
    assert (last.dose_mg, last.total_mg) == (Decimal("45"), Decimal("170"))
    api.clock.set(date(2026, 3, 30))
    assert api.slot(site.id, date(2026, 3, 30), patient.id)["dose_mg"] == "40"


def expected_dose(day: date) -> int:
    return 60 if day < SAT else 55 - 5 * ((day - SAT).days // 7)


def test_revising_ends_the_remaining_steps(api, factory):
    site, patient = factory.site(), factory.patient()
    order = signed(api, order_body(patient.id, site.id, steps=TAPER))
    api.clock.set(MONDAY + timedelta(weeks=1, days=2))  # Wednesday 11 March: 55 mg in force
    body = {
        "effective_date": api.clock.today.isoformat(),
        "reason": "withdrawal symptoms: hold the taper",
        "override_reason": "known tolerance",
    }
    draft = expect(api.post(f"/prescriptions/{order['id']}/revise", factory.doctor, json=body), 201)
    assert (draft["dose_mg"], draft["steps"]) == ("55", [])
    expect(
        api.post(f"/prescriptions/{draft['id']}/sign", factory.doctor, json={"password": "correct-horse-battery"}), 200
    )
    later = MONDAY + timedelta(weeks=4)
    api.clock.set(later)
    assert api.slot(site.id, later, patient.id)["dose_mg"] == "55"


def test_discontinuing_ends_the_remaining_steps(api, factory):
    site, patient = factory.site(), factory.patient()
    order = signed(api, order_body(patient.id, site.id, steps=TAPER))
    end = MONDAY + timedelta(days=9)
    expect(
        api.post(
            f"/prescriptions/{order['id']}/discontinue",
            factory.doctor,
            json={"end_date": end.isoformat(), "reason": "moved away"},
        ),
        200,
    )
    api.clock.set(end + timedelta(days=1))
    assert [i for i in api.roster(site.id, end + timedelta(days=1)) if i["patient"]["id"] == patient.id] == []


def test_build_up_is_checked_against_titration_limits_step_by_step(api, factory):
    site, patient = factory.site(), factory.patient()
    build = {"dose_mg": "30", "override_reason": None, "pickup_weekdays": None}
    ok = [{"from_date": "2026-03-05", "dose_mg": "40"}, {"from_date": "2026-03-12", "dose_mg": "50"}]
    expect(api.post("/prescriptions", factory.doctor, json=order_body(patient.id, site.id, steps=ok, **build)), 201)

    other = factory.patient()
    too_fast = [
        {"from_date": "2026-03-05", "dose_mg": "40"},
        {"from_date": "2026-03-07", "dose_mg": "50"},
    ]  # +10 a step, +20 in 7 days: within
    expect(api.post("/prescriptions", factory.doctor, json=order_body(other.id, site.id, steps=too_fast, **build)), 201)
    third = factory.patient()
    too_much = [{"from_date": "2026-03-05", "dose_mg": "45"}]  # a 15 mg step
    r = api.post("/prescriptions", factory.doctor, json=order_body(third.id, site.id, steps=too_much, **build))
    assert r.status_code == 422 and "step" in r.json()["detail"].lower()
    weekly = [
        {"from_date": "2026-03-04", "dose_mg": "40"},
        {"from_date": "2026-03-06", "dose_mg": "50"},
        {"from_date": "2026-03-08", "dose_mg": "60"},  # 30 mg above the lowest of the 7 days before
    ]
    r = api.post("/prescriptions", factory.doctor, json=order_body(third.id, site.id, steps=weekly, **build))
    assert r.status_code == 422 and "7-day" in r.json()["detail"]
    # The doctor may exceed the limits with an override reason.
    with_reason = order_body(third.id, site.id, steps=weekly, **(build | {"override_reason": "inpatient titration"}))
    expect(api.post("/prescriptions", factory.doctor, json=with_reason), 201)


def test_bad_schedules_are_422_and_change_nothing(api, factory):
    site, patient = factory.site(), factory.patient()
    cases = {
        "order.steps_overlap": [
            {"from_date": "2026-03-09", "dose_mg": "55"},
            {"from_date": "2026-03-09", "dose_mg": "50"},
        ],
        "order.step_not_after_start": [{"from_date": MONDAY.isoformat(), "dose_mg": "55"}],
        "order.step_after_end": [{"from_date": "2026-04-09", "dose_mg": "55"}],
        "order.step_dose_invalid": [{"from_date": "2026-03-09", "dose_mg": "0.3"}],
    }
    for code, steps in cases.items():
        r = api.post(
            "/prescriptions", factory.doctor, json=order_body(patient.id, site.id, steps=steps, end_date="2026-04-01")
        )
        assert expect(r, 422)["code"] == code, steps
    assert expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200) == []


def test_a_changed_schedule_breaks_the_signature(api, factory, session):
    from dispensing.models import Prescription

    site, patient = factory.site(), factory.patient()
    order = signed(api, order_body(patient.id, site.id, steps=TAPER))
    row = session.get(Prescription, order["id"])
    row.dose_steps = row.dose_steps.replace("=40", "=80")
    session.commit()
    line = api.slot(site.id, MONDAY, patient.id)
    assert line["blocked_reason"] and "signature" in line["blocked_reason"]


def test_fhir_shows_the_schedule_and_a_span_across_a_step(api, factory):
    site, patient = factory.site(), factory.patient()
    order = signed(api, order_body(patient.id, site.id, steps=TAPER, start_date="2026-03-05"))
    api.clock.set(MONDAY + timedelta(days=3))  # Thursday 5 March: 60 mg to Friday, 55 mg for the weekend
    expect(api.dispense(api.slot(site.id, api.clock.today, patient.id)["slot_id"]), 201)
    bundle = expect(api.get(f"/fhir/Patient/{patient.id}/$everything", factory.doctor), 200)
    resources = [e["resource"] for e in bundle["entry"]]
    request = next(r for r in resources if r["resourceType"] == "MedicationRequest" and r["id"] == str(order["id"]))
    lines = [
        (d["doseAndRate"][0]["doseQuantity"]["value"], d["timing"]["repeat"].get("boundsPeriod"))
        for d in request["dosageInstruction"]
    ]
    assert [v for v, _ in lines] == [60, 55, 50, 45, 40]
    assert lines[0][1] == {"start": "2026-03-05", "end": "2026-03-06"}
    assert lines[-1][1] == {"start": "2026-03-28"}
    dispense = next(r for r in resources if r["resourceType"] == "MedicationDispense")
    assert [d["timing"]["event"] for d in dispense["dosageInstruction"]] == [
        ["2026-03-05", "2026-03-06"],
        ["2026-03-07", "2026-03-08"],
    ]
