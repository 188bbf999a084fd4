"""The doctor's desk and the audit log."""

from fastapi import APIRouter, Query

from api.deps import CtxDep
from api.schemas import AlertRead, AuditRead, AuditVerifyRead, ResolveRequest
from dispensing.enums import Role
from dispensing.services import alerts, audit

router = APIRouter(tags=["review"])


@router.get("/alerts", response_model=list[AlertRead])
def open_alerts(ctx: CtxDep):
    """Open flags for the doctor: withheld doses, missed-dose blocks."""
    return [AlertRead.model_validate(a) for a in alerts.open_alerts(ctx)]


@router.post("/alerts/{alert_id}/resolve", response_model=AlertRead)
def resolve(alert_id: int, body: ResolveRequest, ctx: CtxDep):
    return AlertRead.model_validate(alerts.resolve_alert(ctx, alert_id, body.resolution))


@router.get("/audit", response_model=list[AuditRead])
def audit_log(
    ctx: CtxDep, patient_id: int | None = None, limit: int = Query(100, ge=1, le=1000), before_seq: int | None = None
):
    """Who did what, when (newest first); admin and doctor only."""
    ctx.require(Role.ADMIN, Role.DOCTOR)
    entries = audit.list_entries(ctx, patient_id=patient_id, limit=limit, before_seq=before_seq)
    audit.record(ctx, "audit.read", "audit", patient_id=patient_id, detail={"patient_id": patient_id})
    return [AuditRead.model_validate(e) for e in entries]


@router.get("/audit/verify", response_model=AuditVerifyRead)
def verify(ctx: CtxDep):
    """Recompute the keyed hash chain and compare it with the signed checkpoint outside the database:
    any edited, removed or added-back entry, a deleted tail or a reset head makes ok false."""
    ctx.require(Role.ADMIN, Role.DOCTOR)
    check = audit.verify_chain(ctx)
    return AuditVerifyRead(
        ok=check.ok,
        entries=check.entries,
        first_bad_seq=check.first_bad_seq,
        problem=check.problem,
        checkpointed_seq=check.checkpointed_seq,
    )
