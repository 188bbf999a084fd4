"""Urine tests (DOMAIN.md rule 7): results for staff, the future schedule and urine orders for doctors."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import CtxDep
from api.schemas import (
    ReasonRequest,
    UrineOrderCreate,
    UrineOrderRead,
    UrinePanelItem,
    UrinePlannedDay,
    UrinePlanRead,
    UrineTestCreate,
    UrineTestRead,
    UrineTestRecorded,
    UrineTestsDoctorRead,
    UrineTestsRead,
)
from dispensing.models import UrineOrder, UrineOutcome, UrineTest, weekdays_from_str
from dispensing.services import urine as svc

router = APIRouter(tags=["urine tests"])


def _test_fields(t: UrineTest) -> dict:
    results = t.results or {}
    return dict(
        id=t.id,
        outcome=t.outcome.value,
        date=t.taken_on,
        collected_on=t.taken_on if t.outcome == UrineOutcome.COLLECTED else None,
        results=results or None,
        panel=[
            UrinePanelItem(substance=k, name=svc.PANEL[k][0], result=v, loinc=svc.PANEL[k][1])
            for k, v in results.items()
            if k in svc.PANEL
        ],
        side_abuse=t.side_abuse or [],
        reason=t.reason,
        was_due=t.was_due,
        alert_id=t.alert_id,
        breach_id=t.breach_id,
        recorded_by_id=t.recorded_by_id,
        recorded_at=t.recorded_at,
    )


def _order_read(o: UrineOrder) -> UrineOrderRead:
    return UrineOrderRead(
        id=o.id,
        patient_id=o.patient_id,
        max_gap_days=o.max_gap_days,
        extra_days=o.extra_days,
        reason=o.reason,
        ends_on=o.ends_on,
        status=o.status.value,
        ordered_by_id=o.ordered_by_id,
        created_at=o.created_at,
        ended_at=o.ended_at,
        end_reason=o.end_reason,
    )


@router.get(
    "/patients/{patient_id}/urine-tests",
    # Documented as either: a nurse's answer has no plan, planned_days or urine_order (issue 16: the
    # document said every answer had them).
    response_model=UrineTestsDoctorRead | UrineTestsRead,
    response_description="a doctor's response adds plan, planned_days and urine_order",
)
def urine_tests(patient_id: int, ctx: CtxDep):
    """Results and whether a sample is due today (nurse, doctor, admin); only a doctor sees the planned days."""
    o = svc.overview(ctx, patient_id)
    collected = [t.taken_on for t in o.tests if t.outcome == UrineOutcome.COLLECTED]
    base = dict(
        patient_id=patient_id,
        in_programme=o.status.applies,
        rules=list(o.status.rules),
        max_gap_days=o.max_gap_days,
        sample_due_today=o.status.due_since is not None,
        due_since=o.status.due_since,
        last_sample_on=max(collected, default=None),
        tests=[UrineTestRead(**_test_fields(t)) for t in o.tests],
    )
    if o.planned_days is None:
        body = UrineTestsRead(**base)
    else:
        today = ctx.today
        plan = o.plan
        body = UrineTestsDoctorRead(
            **base,
            plan=UrinePlanRead(
                id=plan.id,
                version=plan.version,
                start_on=plan.start_on,
                until_on=plan.until_on,
                last_test_on=plan.last_test_on,
                max_gap_days=plan.max_gap_days,
                min_gap_days=plan.min_gap_days,
                attendance_weekdays=sorted(weekdays_from_str(plan.attendance_weekdays)),
                reason=plan.reason,
                urine_order_id=plan.urine_order_id,
                created_at=plan.created_at,
            )
            if plan
            else None,
            planned_days=[
                UrinePlannedDay(date=d.due_on, kind=d.kind.value, overdue=d.due_on < today) for d in o.planned_days
            ],
            urine_order=_order_read(o.urine_order) if o.urine_order else None,
        )
    # Returned as built: the response model must not strip (or add) the doctor-only fields.
    return JSONResponse(body.model_dump(mode="json"))


@router.post("/patients/{patient_id}/urine-tests", status_code=201, response_model=UrineTestRecorded)
def record(patient_id: int, body: UrineTestCreate, ctx: CtxDep):
    """Record a sample with its results, a refusal (a breach), or that no sample was possible (stays due)."""
    t = svc.record_test(
        ctx,
        patient_id,
        collected_on=body.collected_on,
        results=body.results,
        refused=body.refused,
        not_possible=body.not_possible,
        reason=body.reason,
    )
    due = svc.status(ctx, patient_id).due_since is not None
    return UrineTestRecorded(**_test_fields(t), sample_due_today=due)


@router.post("/patients/{patient_id}/urine-orders", status_code=201, response_model=UrineOrderRead)
def order(patient_id: int, body: UrineOrderCreate, ctx: CtxDep):
    """Doctor: order a shorter maximum gap and/or extra test days, with a reason (replaces the previous order)."""
    return _order_read(
        svc.order_tests(
            ctx,
            patient_id,
            reason=body.reason,
            max_gap_days=body.max_gap_days,
            extra_days=body.extra_days,
            ends_on=body.ends_on,
        )
    )


@router.get("/patients/{patient_id}/urine-orders", response_model=list[UrineOrderRead])
def orders(patient_id: int, ctx: CtxDep):
    """Doctor: the patient's urine orders, newest first (their extra days are future test days)."""
    return [_order_read(o) for o in svc.list_orders(ctx, patient_id)]


@router.post("/urine-orders/{order_id}/end", response_model=UrineOrderRead)
def end(order_id: int, body: ReasonRequest, ctx: CtxDep):
    """Doctor: stop a urine order; the plan is redrawn without it."""
    return _order_read(svc.end_order(ctx, order_id, body.reason))
