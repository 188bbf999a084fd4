"""The doctor's review list: withheld doses and missed-dose blocks flagged by the window."""

from sqlalchemy import select

from dispensing.enums import Drug, Role
from dispensing.errors import Conflict, InvalidInput
from dispensing.models import Alert
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404


def raise_alert(
    ctx: Ctx, patient_id: int, kind: str, message: str, *, drug: Drug | None = None, slot_id: int | None = None
) -> Alert:
    """Put something on the doctor's review list; it stays open until the doctor resolves it."""
    alert = Alert(patient_id=patient_id, kind=kind, drug=drug, slot_id=slot_id, message=message, created_at=ctx.now)
    ctx.session.add(alert)
    ctx.session.flush()  # callers link to it by id
    return alert


def open_alerts(ctx: Ctx) -> list[Alert]:
    ctx.require(Role.DOCTOR)
    alerts = list(
        ctx.session.execute(
            select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.created_at, Alert.id)
        ).scalars()
    )
    audit.record_list(ctx, "alert.list", (a.patient_id for a in alerts))
    return alerts


def resolve_alert(ctx: Ctx, alert_id: int, resolution: str) -> Alert:
    doctor = ctx.require(Role.DOCTOR)
    alert = get_or_404(ctx.session, Alert, alert_id)
    if alert.resolved_at is not None:
        raise Conflict(f"Alert {alert_id} was resolved already.")
    if not resolution or not resolution.strip():
        raise InvalidInput("resolution is required: note what you decided.")
    alert.resolved_at, alert.resolved_by_id, alert.resolution = ctx.now, doctor.id, resolution.strip()
    audit.record(
        ctx,
        "alert.resolve",
        "alert",
        alert.id,
        patient_id=alert.patient_id,
        detail={"kind": alert.kind, "resolution": resolution.strip()},
    )
    return alert
