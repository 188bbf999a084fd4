"""Urine-test schedules (DOMAIN.md rule 7) through the service: plans, due days, samples, refusals, orders."""

import time as timer
from datetime import date, time, timedelta

import pytest
from sqlalchemy import event, func, select

from dispensing.enums import Drug
from dispensing.errors import Conflict, Forbidden, InvalidInput
from dispensing.models import (
    Alert,
    AuditEntry,
    Breach,
    BreachKind,
    UrineDayStatus,
    UrinePlan,
    UrinePlanDay,
    UrinePlanStatus,
    UrineTest,
)
from dispensing.services import conduct, urine
from dispensing.services.patients import update_patient
from dispensing.services.policy import update_policy

MONDAY = date(2026, 3, 2)  # the clock fixture's first day
NEG = {k: "neg" for k in urine.PANEL}


def in_treatment(factory, *, children: bool = True, drug: Drug = Drug.METHADONE, site=None, **terms):
    """A patient with a signed order starting today (the clock's Monday)."""
    patient = factory.patient(children_at_home=children)
    dose = {"methadone": "30", "buprenorphine": "8", "disulfiram": "400"}[drug.value]
    factory.order(patient, site or factory.site(), drug=drug, dose=dose, **terms)
    return patient


def due(factory, patient, on: date | None = None, actor=None) -> bool:
    on = on or factory.clock.today
    return patient.id in urine.urine_due_today(factory.ctx(actor or factory.nurse), {patient.id}, on)


def goto(factory, day: date) -> None:
    factory.clock.set(day)


def current_plan(session, patient) -> UrinePlan:
    return session.execute(
        select(UrinePlan).where(UrinePlan.patient_id == patient.id, UrinePlan.status == UrinePlanStatus.CURRENT)
    ).scalar_one()


def planned_days(session, plan: UrinePlan) -> list[date]:
    return list(
        session.execute(
            select(UrinePlanDay.due_on)
            .where(UrinePlanDay.plan_id == plan.id, UrinePlanDay.status == UrineDayStatus.PLANNED)
            .order_by(UrinePlanDay.due_on)
        ).scalars()
    )


def sample(factory, patient, on: date | None = None, actor=None, **results):
    return urine.record_test(
        factory.ctx(actor or factory.nurse), patient.id, collected_on=on or factory.clock.today, results=NEG | results
    )


# --- who is tested, and when -----------------------------------------------------------------------


def test_the_day_treatment_starts_is_due(factory):
    patient = in_treatment(factory)
    assert due(factory, patient)


def test_no_children_and_no_doctors_order_is_never_due(factory, session):
    patient = in_treatment(factory, children=False)
    for offset in range(0, 200, 3):
        assert not due(factory, patient, MONDAY + timedelta(days=offset))
    assert (
        session.execute(
            select(func.count()).select_from(UrinePlan).where(UrinePlan.patient_id == patient.id)
        ).scalar_one()
        == 0
    )


def test_children_at_home_without_substitution_treatment_is_not_tested(factory):
    patient = in_treatment(factory, drug=Drug.DISULFIRAM, weekdays=(0, 3))
    assert not due(factory, patient)


def test_switching_children_at_home_on_produces_a_plan_due_at_the_next_visit(factory, session):
    patient = in_treatment(factory, children=False)
    assert not due(factory, patient)
    update_patient(factory.ctx(factory.nurse), patient.id, {"children_at_home": True})
    assert due(factory, patient)
    plan = current_plan(session, patient)
    assert plan.max_gap_days == 92 and "children" in plan.reason


def test_switching_children_at_home_off_ends_the_programme(factory, session):
    patient = in_treatment(factory)
    assert due(factory, patient)
    update_patient(factory.ctx(factory.nurse), patient.id, {"children_at_home": False})
    assert not due(factory, patient)
    assert (
        session.execute(select(UrinePlan).where(UrinePlan.patient_id == patient.id)).scalar_one().status
        == UrinePlanStatus.SUPERSEDED
    )  # kept, never deleted


def test_the_plan_is_drawn_once_and_stays_stable(factory, session):
    patient = in_treatment(factory)
    due(factory, patient)
    first = current_plan(session, patient)
    days = planned_days(session, first)
    for offset in (0, 1, 5):
        due(factory, patient, MONDAY + timedelta(days=offset))
    assert current_plan(session, patient).id == first.id and planned_days(session, first) == days
    assert first.version == 1 and len(first.seed) == 64


def test_test_days_fall_on_pickup_days_within_the_maximum_gap(factory, session):
    # Take-home: the patient comes on Mondays and Thursdays only.
    patient = in_treatment(factory, pickup_weekdays=(0, 3))
    due(factory, patient)
    plan = current_plan(session, patient)
    days = planned_days(session, plan)
    assert days[0] == MONDAY and plan.attendance_weekdays == "03"
    assert all(d.weekday() in (0, 3) for d in days)
    assert all((b - a).days <= 92 for a, b in zip(days, days[1:], strict=False))


# --- due days at the window ------------------------------------------------------------------------


def test_a_missed_due_day_stays_due_on_the_next_visits(factory):
    patient = in_treatment(factory)
    assert due(factory, patient)
    for offset in (1, 2, 6):
        goto(factory, MONDAY + timedelta(days=offset))
        assert due(factory, patient), f"the test missed on Monday must still be due {offset} days later"


def test_a_sample_on_the_due_day_clears_it_and_redraws_without_a_gap_over_the_maximum(factory, session):
    patient = in_treatment(factory)
    assert due(factory, patient)
    first = current_plan(session, patient)
    test = sample(factory, patient)
    assert test.was_due and not due(factory, patient)

    redrawn = current_plan(session, patient)
    assert redrawn.version == 2 and redrawn.last_test_on == MONDAY
    assert session.get(UrinePlan, first.id).status == UrinePlanStatus.SUPERSEDED
    days = planned_days(session, redrawn)
    assert days, "the redrawn plan has test days"
    chain = [MONDAY, *days]
    gaps = [(b - a).days for a, b in zip(chain, chain[1:], strict=False)]
    assert max(gaps) <= 92 and min(gaps) >= 14

    # The next drawn day: not due the day before, due on the day, still due after it when missed.
    nxt = days[0]
    assert not due(factory, patient, nxt - timedelta(days=1))
    goto(factory, nxt)
    assert due(factory, patient)
    goto(factory, nxt + timedelta(days=1))
    assert due(factory, patient)


def test_a_late_recorded_sample_counts_from_its_collection_day(factory, session):
    patient = in_treatment(factory)
    goto(factory, MONDAY + timedelta(days=3))
    sample(factory, patient, on=MONDAY + timedelta(days=1))
    assert not due(factory, patient)
    plan = current_plan(session, patient)
    assert plan.last_test_on == MONDAY + timedelta(days=1)
    assert planned_days(session, plan)[0] <= MONDAY + timedelta(days=1 + 92)


def test_not_possible_keeps_the_test_due_and_is_no_breach(factory, session):
    patient = in_treatment(factory)
    urine.record_test(factory.ctx(factory.nurse), patient.id, not_possible=True, reason="could not urinate")
    assert due(factory, patient)
    assert session.execute(select(Breach).where(Breach.patient_id == patient.id)).first() is None
    with pytest.raises(InvalidInput, match="reason"):
        urine.record_test(factory.ctx(factory.nurse), patient.id, not_possible=True)


def test_a_refusal_is_a_breach_answers_the_due_day_and_is_audited(factory, session):
    patient = in_treatment(factory)
    test = urine.record_test(factory.ctx(factory.nurse), patient.id, refused=True, reason="will not")
    assert not due(factory, patient)
    breaches = conduct.list_breaches(factory.ctx(factory.doctor), patient.id)
    assert [(b.kind, b.automatic, b.source) for b in breaches] == [
        (BreachKind.REFUSED_URINE_SAMPLE, True, f"urine_refused:{test.id}")
    ]
    assert test.breach_id == breaches[0].id
    session.commit()  # as the request does: the use case's entries join the chain at its commit
    actions = set(session.execute(select(AuditEntry.action).where(AuditEntry.patient_id == patient.id)).scalars())
    assert {"urine.record", "breach.record"} <= actions


def test_nothing_to_refuse_when_no_test_is_due(factory):
    patient = in_treatment(factory, children=False)
    with pytest.raises(Conflict, match="No urine sample is due"):
        urine.record_test(factory.ctx(factory.nurse), patient.id, refused=True)


# --- results and side abuse ------------------------------------------------------------------------


def open_alerts(session, patient):
    return list(
        session.execute(select(Alert).where(Alert.patient_id == patient.id, Alert.kind == urine.ALERT_KIND)).scalars()
    )


def test_the_prescribed_substance_positive_is_no_side_abuse(factory, session):
    patient = in_treatment(factory)
    test = sample(factory, patient, methadone="pos")
    assert test.side_abuse == [] and test.alert_id is None and not open_alerts(session, patient)


def test_side_abuse_alerts_the_doctor_and_records_no_breach(factory, session):
    patient = in_treatment(factory)
    test = sample(factory, patient, methadone="pos", cocaine="pos", buprenorphine="pos")
    assert test.side_abuse == ["buprenorphine", "cocaine"]
    [alert] = open_alerts(session, patient)
    assert "cocaine" in alert.message and test.alert_id == alert.id
    assert session.execute(select(Breach).where(Breach.patient_id == patient.id)).first() is None


def test_opiates_are_side_abuse_for_a_buprenorphine_patient(factory):
    patient = in_treatment(factory, drug=Drug.BUPRENORPHINE)
    assert sample(factory, patient, buprenorphine="pos", opioids="pos").side_abuse == ["opioids"]


@pytest.mark.parametrize(
    "results, message",
    [
        ({"heroin": "pos"}, "Unknown panel item"),
        ({"cocaine": "positive"}, '"neg" or "pos"'),
        ({}, "at least one panel item"),
    ],
)
def test_an_invalid_panel_is_refused_and_nothing_is_stored(factory, session, results, message):
    patient = in_treatment(factory)
    with pytest.raises(InvalidInput, match=message):
        urine.record_test(factory.ctx(factory.nurse), patient.id, collected_on=MONDAY, results=results)
    assert session.execute(select(UrineTest).where(UrineTest.patient_id == patient.id)).first() is None


def test_a_sample_collected_in_the_future_is_refused(factory):
    patient = in_treatment(factory)
    with pytest.raises(InvalidInput, match="future"):
        sample(factory, patient, on=MONDAY + timedelta(days=1))


def test_the_same_sample_is_not_recorded_twice(factory):
    patient = in_treatment(factory)
    sample(factory, patient)
    with pytest.raises(Conflict, match="already recorded"):
        sample(factory, patient)


# --- the doctor's urine orders ---------------------------------------------------------------------


def test_a_doctors_order_with_a_smaller_maximum_gap_changes_the_plan(factory, session):
    patient = in_treatment(factory)
    sample(factory, patient)
    before = current_plan(session, patient)
    urine.order_tests(factory.ctx(factory.doctor), patient.id, max_gap_days=14, reason="relapse suspected")
    after = current_plan(session, patient)
    assert after.version > before.version and after.max_gap_days == 14 and after.min_gap_days == 7
    chain = [MONDAY, *planned_days(session, after)]
    assert max((b - a).days for a, b in zip(chain, chain[1:], strict=False)) <= 14


def test_a_doctors_order_puts_a_patient_without_children_into_the_programme(factory, session):
    patient = in_treatment(factory, children=False)
    extra = MONDAY + timedelta(days=10)
    urine.order_tests(factory.ctx(factory.doctor), patient.id, extra_days=[extra], reason="suspected cocaine use")
    assert [d for d in range(0, 30) if due(factory, patient, MONDAY + timedelta(days=d))] == list(range(10, 30))
    assert planned_days(session, current_plan(session, patient)) == [extra]


def test_only_a_doctor_orders_tests_and_a_looser_gap_is_refused_for_children_at_home(factory):
    patient = in_treatment(factory)
    with pytest.raises(Forbidden):
        urine.order_tests(factory.ctx(factory.nurse), patient.id, max_gap_days=14, reason="x")
    with pytest.raises(InvalidInput, match="at least every 92 days"):
        urine.order_tests(factory.ctx(factory.doctor), patient.id, max_gap_days=120, reason="x")
    with pytest.raises(InvalidInput, match="past"):
        urine.order_tests(factory.ctx(factory.doctor), patient.id, extra_days=[MONDAY - timedelta(days=1)], reason="x")


def test_a_policy_change_redraws_the_plan(factory, session):
    patient = in_treatment(factory)
    sample(factory, patient)
    update_policy(factory.ctx(factory.doctor), {"urine_max_gap_days": 30})
    due(factory, patient)  # a new request (a new context) reads the changed policy
    plan = current_plan(session, patient)
    assert plan.max_gap_days == 30 and "policy" in plan.reason


def test_a_new_treatment_course_starts_with_a_test(factory, session):
    from dispensing.services import prescriptions

    site = factory.site()
    patient = factory.patient(children_at_home=True)
    order = factory.order(patient, site, drug=Drug.METHADONE, dose="30")
    sample(factory, patient)
    prescriptions.discontinue_order(factory.ctx(factory.doctor), order.id, MONDAY + timedelta(days=1), "stopped")
    goto(factory, MONDAY + timedelta(days=20))
    factory.order(patient, site, drug=Drug.METHADONE, dose="30", start=factory.clock.today)
    assert due(factory, patient), "a new course starts with a test"
    assert "new treatment course" in current_plan(session, patient).reason


# --- the window must stay fast ------------------------------------------------------------------------


def test_due_today_for_many_patients_takes_two_queries(factory, session):
    site = factory.site()
    patients = [in_treatment(factory, children=i % 2 == 0, site=site) for i in range(40)]
    ids = {p.id for p in patients}
    ctx = factory.ctx(factory.nurse)
    first = urine.urine_due_today(ctx, ids, MONDAY)  # draws the plans
    assert first == {p.id for p in patients if p.children_at_home}

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = timer.perf_counter()
        assert urine.urine_due_today(ctx, ids, MONDAY) == first
        elapsed = timer.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 2, statements
    assert elapsed < 0.5


# --- two windows at once ------------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite-file"])
def real_engine(request, tmp_path):
    """Committed transactions on real connections: PostgreSQL row locks and SQLite's BEGIN IMMEDIATE."""
    from dispensing.db import make_engine
    from dispensing.migrate import upgrade_to_head

    if request.param == "postgresql":
        yield request.getfixturevalue("committed_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path}/urine-concurrency.db")
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def test_concurrent_first_looks_draw_exactly_one_plan(real_engine):
    import random
    import threading
    from datetime import UTC, datetime
    from decimal import Decimal

    from dispensing.db import make_session_factory, transaction
    from dispensing.enums import Role
    from dispensing.models import User
    from dispensing.services import prescriptions, sites
    from dispensing.services.context import Ctx
    from dispensing.services.patients import register_patient
    from dispensing.services.users import create_user
    from tests.conftest import PASSWORD, SECRET, TZ, Factory

    now = datetime(2026, 3, 2, 9, 0, tzinfo=TZ).astimezone(UTC)
    factory_ = make_session_factory(real_engine)

    def ctx(s, actor=None):
        return Ctx(session=s, actor=actor, now=now, tz=TZ, secret=SECRET)

    tag = random.randrange(10**9)
    with transaction(factory_) as s:
        admin = create_user(ctx(s), username=f"uadm{tag}", password=PASSWORD, role=Role.ADMIN)
        doctor = create_user(
            ctx(s), username=f"udoc{tag}", password=PASSWORD, role=Role.DOCTOR, can_prescribe_addictive=True
        )
        nurse = create_user(ctx(s), username=f"unur{tag}", password=PASSWORD, role=Role.NURSE)
        site = sites.create_site(ctx(s, admin), name=f"Urine concurrency {tag}", kind="clinic")
        sites.set_windows(ctx(s, admin), site.id, [sites.WindowSpec(d, time(8), time(12)) for d in range(7)])
        patient = register_patient(ctx(s, nurse), cpr=Factory.cpr(), name="Samtidig Urinsen", children_at_home=True)
        order = prescriptions.create_order(
            ctx(s, doctor),
            patient.id,
            prescriptions.OrderTerms(
                drug=Drug.METHADONE, dose_mg=Decimal("30"), site_id=site.id, start_date=MONDAY, indication="test"
            ),
        )
        prescriptions.sign_order(ctx(s, doctor), order.id, PASSWORD)
        nurse_id, patient_id = nurse.id, patient.id

    windows = 6
    barrier = threading.Barrier(windows)
    seen: list[set[int]] = []
    errors: list[Exception] = []

    def window_looks():
        barrier.wait()
        try:
            with transaction(factory_) as s:
                seen.append(urine.urine_due_today(ctx(s, s.get(User, nurse_id)), {patient_id}, MONDAY))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=window_looks) for _ in range(windows)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert seen == [{patient_id}] * windows
    with transaction(factory_) as s:
        plans = s.execute(select(UrinePlan.version, UrinePlan.status).where(UrinePlan.patient_id == patient_id)).all()
    assert plans == [(1, UrinePlanStatus.CURRENT)]
