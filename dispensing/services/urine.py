"""Urine-test schedules (DOMAIN.md rule 7): unannounced days drawn ahead, shown to the window only on the day.

Who is tested: a patient in substitution treatment (a signed methadone/buprenorphine order in force)
with children living at home, and any patient with an order in force for whom the doctor has
ordered tests (a urine order: a shorter maximum gap and/or extra days).

The plan: days are drawn by the pure rules.urine.draw_urine_days from a seed derived from the
server secret, stored with the plan (auditable, stable) and never shown ahead of the day except
to a doctor. A plan is drawn lazily when it is needed (the roster, a patient's urine page) and
none is current or its inputs changed (the children flag, the urine order, a new treatment course,
the attendance weekdays, the policy gaps); it is redrawn after every sample or refusal. Rows are
never deleted: an old plan and its open days are marked superseded.

Due: a planned day on or before today that no sample (or refusal) has resolved. So a missed due
day stays due on every later visit; "could not give one" leaves it due and is no breach.

Side abuse (rules/urine_findings.py): a positive panel item the patient's orders do not explain. A
finding goes on the doctor's list as an alert; it is never an automatic breach or sanction. The
plan's inputs, gaps and redraw reasons are rules/urine_plan.py; this module reads and writes rows.
"""

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from dispensing.enums import Drug, Role
from dispensing.errors import Conflict, InvalidInput
from dispensing.messages import Message
from dispensing.models import (
    AlertKind,
    BreachKind,
    Patient,
    Prescription,
    UrineDayKind,
    UrineDayStatus,
    UrineOrder,
    UrineOrderStatus,
    UrineOutcome,
    UrinePlan,
    UrinePlanDay,
    UrinePlanStatus,
    UrineTest,
    weekdays_to_str,
)
from dispensing.rules.schedule import local_today
from dispensing.rules.urine import draw_urine_days, seed_for
from dispensing.rules.urine_findings import PANEL, RESULT_VALUES, explains_sample, side_abuse
from dispensing.rules.urine_plan import PlanInputs, gaps, plan_inputs, replan_reason
from dispensing.services import audit
from dispensing.services.alerts import raise_alert
from dispensing.services.conduct import record_breach
from dispensing.services.context import Ctx
from dispensing.services.patients import load_patient
from dispensing.services.prescriptions import SIGNED, governing_orders
from dispensing.services.records import get_or_404
from dispensing.services.sql import among

STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)
RECORDERS = (Role.NURSE, Role.DOCTOR)  # who takes a sample at the window

ALERT_KIND = AlertKind.POSITIVE_URINE  # Alert.kind on the doctor's review list (GET /alerts)

PLAN_HORIZON_DAYS = 365  # days drawn ahead
REPLAN_MARGIN_DAYS = 31  # redraw when the plan ends sooner than this
MAX_ORDER_GAP_DAYS = 365
MIN_ORDER_GAP_DAYS = 2  # a maximum gap of 1 would make every day a test day: not unannounced


# --- the inputs of a plan -------------------------------------------------------------------------


@dataclass
class _State:
    """What one query tells about a patient: the flags, the current plan and its open due day."""

    patient_id: int
    children_at_home: bool
    plan_id: int | None
    plan_basis: str | None
    plan_until: date | None
    due_since: date | None
    urine_order_id: int | None
    orders: list[Prescription] = field(default_factory=list)


def _inputs(ctx: Ctx, state: _State) -> PlanInputs:
    return plan_inputs(state.children_at_home, state.orders, state.urine_order_id, ctx.policy)


def _load_states(ctx: Ctx, patient_ids: Collection[int], day: date) -> dict[int, _State]:
    """Two queries for any number of patients: flags, plan and open due day; then their orders."""
    open_due = (
        select(func.min(UrinePlanDay.due_on))
        .where(
            UrinePlanDay.plan_id == UrinePlan.id,
            UrinePlanDay.status == UrineDayStatus.PLANNED,
            UrinePlanDay.due_on <= day,
        )
        .correlate(UrinePlan)
        .scalar_subquery()
    )
    active_order = (
        select(func.max(UrineOrder.id))
        .where(
            UrineOrder.patient_id == Patient.id,
            UrineOrder.status == UrineOrderStatus.ACTIVE,
            or_(UrineOrder.ends_on.is_(None), UrineOrder.ends_on >= day),
        )
        .correlate(Patient)
        .scalar_subquery()
    )
    rows = ctx.session.execute(
        select(
            Patient.id,
            Patient.children_at_home,
            UrinePlan.id,
            UrinePlan.basis,
            UrinePlan.until_on,
            open_due,
            active_order,
        )
        .select_from(Patient)
        .outerjoin(UrinePlan, and_(UrinePlan.patient_id == Patient.id, UrinePlan.status == UrinePlanStatus.CURRENT))
        .where(among(ctx.session, Patient.id, patient_ids))
        .order_by(UrinePlan.id)  # should two plans ever be current, the newest wins
    ).all()
    states = {
        pid: _State(pid, bool(children), plan_id, basis, until, due, order_id)
        for pid, children, plan_id, basis, until, due, order_id in rows
    }
    relevant = [
        s.patient_id
        for s in states.values()
        if s.children_at_home or s.urine_order_id is not None or s.plan_id is not None
    ]
    if relevant:
        for order in governing_orders(ctx, day, patient_ids=relevant):
            states[order.patient_id].orders.append(order)
    return {pid: states[pid] for pid in relevant}


# --- drawing plans ----------------------------------------------------------------------------------


def _last_test_on(ctx: Ctx, patient_id: int, since: date | None) -> date | None:
    """The last sample or refusal in the current treatment course (what the next gap counts from)."""
    stmt = select(func.max(UrineTest.taken_on)).where(
        UrineTest.patient_id == patient_id, UrineTest.outcome.in_((UrineOutcome.COLLECTED, UrineOutcome.REFUSED))
    )
    if since is not None:
        stmt = stmt.where(UrineTest.taken_on >= since)
    return ctx.session.execute(stmt).scalar_one_or_none()


def _supersede_current(ctx: Ctx, patient_id: int, *, carry_until: date | None) -> list[date]:
    """Mark the current plan and its open days superseded; returns the open days up to
    `carry_until` (due already, never answered), which the next plan keeps."""
    session = ctx.session
    current = (
        session.execute(
            select(UrinePlan.id).where(UrinePlan.patient_id == patient_id, UrinePlan.status == UrinePlanStatus.CURRENT)
        )
        .scalars()
        .all()
    )
    if not current:
        return []
    carried: list[date] = []
    if carry_until is not None:
        carried = list(
            session.execute(
                select(UrinePlanDay.due_on).where(
                    UrinePlanDay.plan_id.in_(current),
                    UrinePlanDay.status == UrineDayStatus.PLANNED,
                    UrinePlanDay.due_on <= carry_until,
                )
            ).scalars()
        )
    session.execute(
        update(UrinePlanDay)
        .where(UrinePlanDay.plan_id.in_(current), UrinePlanDay.status == UrineDayStatus.PLANNED)
        .values(status=UrineDayStatus.SUPERSEDED, closed_at=ctx.now)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(UrinePlan)
        .where(UrinePlan.id.in_(current), UrinePlan.status == UrinePlanStatus.CURRENT)
        .values(status=UrinePlanStatus.SUPERSEDED, superseded_at=ctx.now)
        .execution_options(synchronize_session="fetch")
    )
    return carried


def _draw(ctx: Ctx, patient_id: int, inputs: PlanInputs, basis: str, day: date, reason: str) -> UrinePlan:
    """Supersede the current plan and store a newly drawn one (version + 1)."""
    session = ctx.session
    carried = _supersede_current(ctx, patient_id, carry_until=day)
    version = (
        session.execute(
            select(func.max(UrinePlan.version)).where(UrinePlan.patient_id == patient_id)
        ).scalar_one_or_none()
        or 0
    ) + 1
    seed = seed_for(patient_id, version, ctx.secret)
    order = session.get(UrineOrder, inputs.urine_order_id) if inputs.urine_order_id else None
    max_gap, min_gap = gaps(inputs, order.max_gap_days if order is not None else None)
    last_test = _last_test_on(ctx, patient_id, inputs.course_start)
    start = max(day, last_test + timedelta(days=1)) if last_test else day
    until = start + timedelta(days=PLAN_HORIZON_DAYS)

    days: dict[date, UrineDayKind] = {d: UrineDayKind.CARRIED for d in carried}
    if max_gap is not None:
        assert min_gap is not None  # gaps() gives both or neither
        drawn = draw_urine_days(
            start=start,
            until=until,
            last_test=last_test,
            attendance_weekdays=inputs.weekdays,
            max_gap_days=max_gap,
            min_gap_days=min_gap,
            rng=random.Random(seed),
        )
        first_is_start = last_test is None or last_test + timedelta(days=max_gap) < start
        for i, d in enumerate(drawn):
            days.setdefault(d, UrineDayKind.START if i == 0 and first_is_start else UrineDayKind.DRAWN)
    if order is not None:
        for text in order.extra_days:
            d = date.fromisoformat(text)
            if start <= d <= until:
                days.setdefault(d, UrineDayKind.EXTRA)

    plan = UrinePlan(
        patient_id=patient_id,
        version=version,
        seed=f"{seed:064x}",
        start_on=start,
        until_on=until,
        last_test_on=last_test,
        max_gap_days=max_gap,
        min_gap_days=min_gap,
        attendance_weekdays=weekdays_to_str(inputs.weekdays),
        basis=basis,
        reason=reason[:200],
        urine_order_id=order.id if order else None,
        status=UrinePlanStatus.CURRENT,
        created_at=ctx.now,
        created_by_id=ctx.actor.id if ctx.actor else None,
    )
    session.add(plan)
    session.flush()
    session.add_all(
        UrinePlanDay(plan_id=plan.id, patient_id=patient_id, due_on=d, kind=kind, status=UrineDayStatus.PLANNED)
        for d, kind in sorted(days.items())
    )
    session.flush()
    # The days themselves stay out of the audit log: admins read it, and only doctors see the schedule.
    audit.record(
        ctx,
        "urine.plan",
        "urine_plan",
        plan.id,
        patient_id=patient_id,
        detail={
            "version": version,
            "reason": plan.reason,
            "days": len(days),
            "max_gap_days": max_gap,
            "min_gap_days": min_gap,
            "last_test_on": last_test,
            "urine_order_id": plan.urine_order_id,
        },
    )
    return plan


def _due_since(ctx: Ctx, plan_id: int, day: date) -> date | None:
    return ctx.session.execute(
        select(func.min(UrinePlanDay.due_on)).where(
            UrinePlanDay.plan_id == plan_id, UrinePlanDay.status == UrineDayStatus.PLANNED, UrinePlanDay.due_on <= day
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class UrineStatus:
    """A patient's place in the test programme on a day."""

    applies: bool
    rules: tuple[str, ...]  # "children_at_home", "doctor_order"
    plan_id: int | None
    due_since: date | None  # the earliest due day not yet answered, or None


NOT_IN_PROGRAMME = UrineStatus(False, (), None, None)


def _needs_drawing(ctx: Ctx, state: _State, day: date) -> bool:
    """True when the stored plan no longer fits the inputs (or is missing, or runs out soon)."""
    basis = _inputs(ctx, state).fingerprint()
    if basis is None:
        return state.plan_id is not None  # the rule stopped applying: the plan must end
    return (
        state.plan_id is None
        or state.plan_basis != basis
        or state.plan_until is None
        or state.plan_until < day + timedelta(days=REPLAN_MARGIN_DAYS)
    )


def _settle(ctx: Ctx, state: _State, day: date, *, force_reason: str | None = None) -> UrineStatus:
    """Bring one patient's plan up to date with its inputs (drawing if needed) and say what is due.

    The caller holds the patient's row lock whenever a plan may be drawn (see _lock_patients).
    """
    inputs = _inputs(ctx, state)
    basis = inputs.fingerprint()
    if basis is None:
        if state.plan_id is not None:  # the rule stopped applying: nothing is due any more
            _supersede_current(ctx, state.patient_id, carry_until=None)
            audit.record(
                ctx,
                "urine.plan_end",
                "urine_plan",
                state.plan_id,
                patient_id=state.patient_id,
                detail={"reason": "rule no longer applies (no children at home, urine order or order in force)"},
            )
        return NOT_IN_PROGRAMME
    rules = inputs.rules
    if force_reason is None and not _needs_drawing(ctx, state, day):
        return UrineStatus(True, rules, state.plan_id, state.due_since)
    plan = _draw(ctx, state.patient_id, inputs, basis, day, force_reason or replan_reason(state.plan_basis, inputs))
    return UrineStatus(True, rules, plan.id, _due_since(ctx, plan.id, day))


def _lock_patients(ctx: Ctx, patient_ids: Collection[int]) -> None:
    """Row-lock patients (in id order, so two windows never deadlock) before drawing their plans:
    a second request waits, then finds the plan the first one drew."""
    ctx.session.execute(
        select(Patient.id).where(among(ctx.session, Patient.id, patient_ids)).order_by(Patient.id).with_for_update()
    ).all()


def _statuses(ctx: Ctx, patient_ids: Collection[int], day: date) -> dict[int, UrineStatus]:
    states = _load_states(ctx, patient_ids, day)
    stale = [pid for pid, state in states.items() if _needs_drawing(ctx, state, day)]
    if stale:  # uncommon: lock, then look again (another request may have drawn them meanwhile)
        _lock_patients(ctx, stale)
        states |= _load_states(ctx, stale, day)
    return {pid: _settle(ctx, state, day) for pid, state in states.items()}


def urine_due_today(ctx: Ctx, patient_ids: set[int], day: date) -> set[int]:
    """Patients among `patient_ids` who must give a urine sample on `day` (shown only on the day).

    Two queries for the whole set; a plan is drawn only for a patient without a current one (or
    whose inputs changed).
    """
    if not patient_ids:
        return set()
    return {pid for pid, s in _statuses(ctx, patient_ids, day).items() if s.due_since is not None}


def status(ctx: Ctx, patient_id: int, day: date | None = None) -> UrineStatus:
    """One patient's status on `day` (default today), drawing a plan if one is needed."""
    return _statuses(ctx, [patient_id], day or ctx.today).get(patient_id, NOT_IN_PROGRAMME)


# --- recording tests -----------------------------------------------------------------------------


def _validate_results(results: Any) -> dict[str, str]:
    panel = ", ".join(PANEL)
    if not isinstance(results, dict) or not results:
        raise InvalidInput("urine.results_empty", panel=panel)
    unknown = sorted(str(k) for k in results if k not in PANEL)
    if unknown:
        raise InvalidInput("urine.unknown_panel_item", items=", ".join(unknown), panel=panel)
    bad = sorted(k for k, v in results.items() if v not in RESULT_VALUES)
    if bad:
        raise InvalidInput("urine.result_invalid", items=", ".join(bad))
    return {k: results[k] for k in PANEL if k in results}


def prescribed_around(ctx: Ctx, patient_id: int, day: date) -> set[Drug]:
    """Drugs of signed orders that explain a sample on `day` (in force, or within the washout before it)."""
    orders = ctx.session.execute(
        select(Prescription).where(
            Prescription.patient_id == patient_id, Prescription.status.in_(SIGNED), Prescription.start_date <= day
        )
    ).scalars()
    return {o.drug for o in orders if explains_sample(o.start_date, o.last_day, day)}


def _open_days(ctx: Ctx, plan_id: int | None, upto: date) -> list[UrinePlanDay]:
    if plan_id is None:
        return []
    return list(
        ctx.session.execute(
            select(UrinePlanDay).where(
                UrinePlanDay.plan_id == plan_id,
                UrinePlanDay.status == UrineDayStatus.PLANNED,
                UrinePlanDay.due_on <= upto,
            )
        ).scalars()
    )


def record_test(
    ctx: Ctx,
    patient_id: int,
    *,
    collected_on: date | None = None,
    results: Any = None,
    refused: bool = False,
    not_possible: bool = False,
    reason: str | None = None,
) -> UrineTest:
    """Record a sample with its results, or that the patient refused, or could not give one today.

    A sample or a refusal answers every due day up to today and the plan is redrawn from it; a
    refusal is also recorded as a breach of the cooperation agreement. "Not possible" leaves the
    test due. A positive finding not explained by the orders goes on the doctor's list.
    """
    user = ctx.require(*RECORDERS)
    patient = load_patient(ctx, patient_id)
    _lock_patients(ctx, [patient_id])  # the audit head is locked only at commit, after this
    today = ctx.today
    reason = (reason or "").strip() or None
    modes = [
        m
        for m, on in (
            ("sample", collected_on is not None or results is not None),
            ("refused", refused),
            ("not_possible", not_possible),
        )
        if on
    ]
    if len(modes) != 1:
        raise InvalidInput("urine.exactly_one_outcome")
    mode = modes[0]

    if mode == "sample":
        if collected_on is None:
            raise InvalidInput("urine.collected_on_required")
        if collected_on > today:
            raise InvalidInput("urine.collected_in_future", collected_on=collected_on, today=today)
        registered = local_today(patient.created_at, ctx.tz)
        if collected_on < registered:
            raise InvalidInput("urine.collected_before_registration", collected_on=collected_on, registered=registered)
        clean = _validate_results(results)
        if (
            ctx.session.execute(
                select(UrineTest.id).where(
                    UrineTest.patient_id == patient_id,
                    UrineTest.outcome == UrineOutcome.COLLECTED,
                    UrineTest.taken_on == collected_on,
                )
            ).first()
            is not None
        ):
            raise Conflict("urine.sample_recorded_already", collected_on=collected_on, patient_id=patient_id)
    elif mode == "not_possible" and not reason:
        raise InvalidInput("urine.not_possible_reason_required")

    current = status(ctx, patient_id, today)
    open_days = _open_days(ctx, current.plan_id, today)
    if mode != "sample" and not open_days:
        raise Conflict("urine.not_due")

    test = UrineTest(
        patient_id=patient_id,
        recorded_by_id=user.id,
        recorded_at=ctx.now,
        reason=reason,
        was_due=bool(open_days),
        prescribed="",
    )
    if mode == "sample":
        assert collected_on is not None  # a sample without its day was refused above
        prescribed = prescribed_around(ctx, patient_id, collected_on)
        found = side_abuse(clean, prescribed)
        test.outcome, test.taken_on, test.results, test.side_abuse = UrineOutcome.COLLECTED, collected_on, clean, found
        test.prescribed = ",".join(sorted(d.value for d in prescribed))
    else:
        test.outcome = UrineOutcome.REFUSED if mode == "refused" else UrineOutcome.NOT_POSSIBLE
        test.taken_on = today
    ctx.session.add(test)
    ctx.session.flush()

    if mode != "not_possible":
        closed = UrineDayStatus.COLLECTED if mode == "sample" else UrineDayStatus.REFUSED
        for d in open_days:
            d.status, d.test_id, d.closed_at = closed, test.id, ctx.now
    if mode == "sample" and test.side_abuse:
        abuse = Message(
            "alert.side_abuse", collected_on=collected_on, items=[Message(f"urine_panel.{k}") for k in test.side_abuse]
        )
        alert = raise_alert(
            ctx,
            patient_id,
            ALERT_KIND,
            abuse,
        )
        test.alert_id = alert.id
    if mode == "refused":
        note = Message("breach.urine_refused_reason", reason=reason) if reason else Message("breach.urine_refused")
        breach = record_breach(
            ctx,
            patient_id,
            kind=BreachKind.REFUSED_URINE_SAMPLE,
            occurred_on=today,
            note=note.text("en"),
            note_message=note,
            source=f"urine_refused:{test.id}",
            automatic=True,
        )
        test.breach_id = breach.id
    audit.record(
        ctx,
        "urine.record",
        "urine_test",
        test.id,
        patient_id=patient_id,
        detail={
            "outcome": test.outcome.value,
            "taken_on": test.taken_on,
            "was_due": test.was_due,
            "positive": [k for k, v in (test.results or {}).items() if v == "pos"],
            "side_abuse": test.side_abuse,
            "alert_id": test.alert_id,
            "breach_id": test.breach_id,
        },
    )

    if mode != "not_possible" and current.applies:
        # A fresh draw counted from this test: the next day is again unpredictable.
        states = _load_states(ctx, [patient_id], today)
        if patient_id in states:
            _settle(ctx, states[patient_id], today, force_reason=f"after {test.outcome.value} test {test.id}")
    return test


# --- what staff see ------------------------------------------------------------------------------


@dataclass
class UrineOverview:
    patient_id: int
    status: UrineStatus
    max_gap_days: int | None
    tests: list[UrineTest]
    plan: UrinePlan | None = None  # doctors only
    planned_days: list[UrinePlanDay] | None = None  # doctors only: the future schedule
    urine_order: UrineOrder | None = None  # doctors only (its extra days are future test days)


def overview(ctx: Ctx, patient_id: int) -> UrineOverview:
    """Results and whether a sample is due today; a doctor also sees the planned days. Audited."""
    user = ctx.require(*STAFF)
    load_patient(ctx, patient_id)
    today = ctx.today
    st = status(ctx, patient_id, today)
    tests = list(
        ctx.session.execute(
            select(UrineTest)
            .where(UrineTest.patient_id == patient_id)
            .order_by(UrineTest.taken_on.desc(), UrineTest.id.desc())
        ).scalars()
    )
    plan = ctx.session.get(UrinePlan, st.plan_id) if st.plan_id else None
    result = UrineOverview(
        patient_id=patient_id, status=st, max_gap_days=plan.max_gap_days if plan else None, tests=tests
    )
    doctor = user.role == Role.DOCTOR
    if doctor:
        result.plan = plan
        result.planned_days = (
            list(
                ctx.session.execute(
                    select(UrinePlanDay)
                    .where(UrinePlanDay.plan_id == plan.id, UrinePlanDay.status == UrineDayStatus.PLANNED)
                    .order_by(UrinePlanDay.due_on)
                ).scalars()
            )
            if plan
            else []
        )
        result.urine_order = _active_order(ctx, patient_id, today)
    audit.record(ctx, "urine.read", "patient", patient_id, patient_id=patient_id, detail={"schedule_shown": doctor})
    return result


# --- the doctor's urine orders ---------------------------------------------------------------------


def _active_order(ctx: Ctx, patient_id: int, day: date) -> UrineOrder | None:
    return ctx.session.execute(
        select(UrineOrder)
        .where(
            UrineOrder.patient_id == patient_id,
            UrineOrder.status == UrineOrderStatus.ACTIVE,
            or_(UrineOrder.ends_on.is_(None), UrineOrder.ends_on >= day),
        )
        .order_by(UrineOrder.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def order_tests(
    ctx: Ctx,
    patient_id: int,
    *,
    reason: str,
    max_gap_days: int | None = None,
    extra_days: Collection[date] = (),
    ends_on: date | None = None,
) -> UrineOrder:
    """Doctor: order urine tests for a patient (a shorter maximum gap and/or extra days), with a reason.

    Replaces the patient's previous urine order; the plan is redrawn at once.
    """
    doctor = ctx.require(Role.DOCTOR)
    patient = load_patient(ctx, patient_id)
    _lock_patients(ctx, [patient_id])
    today = ctx.today
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("urine.order_reason_required")
    extra = sorted(set(extra_days or ()))
    if max_gap_days is None and not extra:
        raise InvalidInput("urine.order_needs_gap_or_days")
    if max_gap_days is not None:
        if not MIN_ORDER_GAP_DAYS <= max_gap_days <= MAX_ORDER_GAP_DAYS:
            raise InvalidInput("urine.order_gap_range", min_days=MIN_ORDER_GAP_DAYS, max_days=MAX_ORDER_GAP_DAYS)
        policy_max = ctx.policy.urine_max_gap_days
        if patient.children_at_home and max_gap_days > policy_max:
            raise InvalidInput("urine.order_gap_children", policy_max=policy_max)
    if ends_on is not None and ends_on < today:
        raise InvalidInput("urine.order_end_in_past", ends_on=ends_on)
    for d in extra:
        if d < today:
            raise InvalidInput("urine.extra_day_in_past", day=d)
        if d > today + timedelta(days=PLAN_HORIZON_DAYS):
            raise InvalidInput("urine.extra_day_too_far", day=d, horizon=PLAN_HORIZON_DAYS)
        if ends_on is not None and d > ends_on:
            raise InvalidInput("urine.extra_day_after_end", day=d, ends_on=ends_on)
    previous = (
        ctx.session.execute(
            select(UrineOrder).where(UrineOrder.patient_id == patient_id, UrineOrder.status == UrineOrderStatus.ACTIVE)
        )
        .scalars()
        .all()
    )
    for p in previous:
        p.status, p.ended_at, p.ended_by_id = UrineOrderStatus.SUPERSEDED, ctx.now, doctor.id
        p.end_reason = "replaced by a new urine order"
    order = UrineOrder(
        patient_id=patient_id,
        max_gap_days=max_gap_days,
        extra_days=[d.isoformat() for d in extra],
        reason=reason,
        ends_on=ends_on,
        status=UrineOrderStatus.ACTIVE,
        ordered_by_id=doctor.id,
        created_at=ctx.now,
    )
    ctx.session.add(order)
    ctx.session.flush()
    # The extra dates are future test days: only their number goes into the (admin-readable) log.
    audit.record(
        ctx,
        "urine_order.create",
        "urine_order",
        order.id,
        patient_id=patient_id,
        detail={
            "max_gap_days": max_gap_days,
            "extra_days": len(extra),
            "ends_on": ends_on,
            "reason": reason,
            "replaces": [p.id for p in previous],
        },
    )
    status(ctx, patient_id, today)
    return order


def end_order(ctx: Ctx, order_id: int, reason: str) -> UrineOrder:
    """Doctor: stop a urine order early; the plan is redrawn without it."""
    doctor = ctx.require(Role.DOCTOR)
    order = get_or_404(ctx.session, UrineOrder, order_id, what="Urine order")
    _lock_patients(ctx, [order.patient_id])
    if order.status != UrineOrderStatus.ACTIVE:
        raise Conflict("urine.order_not_active", order_id=order_id, status=order.status)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("urine.stop_reason_required")
    order.status, order.ended_at, order.ended_by_id = UrineOrderStatus.ENDED, ctx.now, doctor.id
    order.end_reason = reason
    audit.record(
        ctx, "urine_order.end", "urine_order", order.id, patient_id=order.patient_id, detail={"reason": reason}
    )
    status(ctx, order.patient_id, ctx.today)
    return order


def list_orders(ctx: Ctx, patient_id: int) -> list[UrineOrder]:
    """Doctor: every urine order of the patient, newest first."""
    ctx.require(Role.DOCTOR)
    load_patient(ctx, patient_id)
    orders = list(
        ctx.session.execute(
            select(UrineOrder).where(UrineOrder.patient_id == patient_id).order_by(UrineOrder.id.desc())
        ).scalars()
    )
    audit.record(ctx, "urine_order.list", "patient", patient_id, patient_id=patient_id)
    return orders
