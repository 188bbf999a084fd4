"""The doctor's review list: withheld doses and missed-dose blocks flagged by the window, and site
alerts of the controlled-drug ledger (no patient: count differences, negative balances), which the
admin sees too."""

from typing import Any

from sqlalchemy import select

from dispensing.enums import Drug, Role
from dispensing.errors import Conflict, InvalidInput
from dispensing.messages import Message, to_json
from dispensing.models import Alert
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404, not_found


def raise_alert(
    ctx: Ctx,
    patient_id: int | None,
    kind: str,
    message: str | Message,
    *,
    drug: Drug | None = None,
    slot_id: int | None = None,
    site_id: int | None = None,
    code: str | None = None,
    params: dict[str, Any] | None = None,
) -> Alert:
    """Put something on the doctor's review list; it stays open until the doctor resolves it. A site
    alert has no patient (`site_id`; its words from the catalogues by `code` and `params`)."""
    if isinstance(message, Message) and code is None:  # a rule's outcome: kept as code and values
        code, params, message = message.code, to_json(message.params), message.text("en")
    alert = Alert(
        patient_id=patient_id,
        kind=kind,
        drug=drug,
        slot_id=slot_id,
        site_id=site_id,
        code=code,
        params=params,
        message=message,
        created_at=ctx.now,
    )
    ctx.session.add(alert)
    ctx.session.flush()  # callers link to it by id
    return alert


def open_alerts(ctx: Ctx) -> list[Alert]:
    """Open alerts: the doctor sees all, the admin the site alerts (no patient data)."""
    user = ctx.require(Role.DOCTOR, Role.ADMIN)
    query = select(Alert).where(Alert.resolved_at.is_(None))
    if user.role == Role.ADMIN:
        query = query.where(Alert.patient_id.is_(None))
    alerts = list(ctx.session.execute(query.order_by(Alert.created_at, Alert.id)).scalars())
    audit.record_list(ctx, "alert.list", (a.patient_id for a in alerts if a.patient_id is not None))
    return alerts


def resolve_alert(ctx: Ctx, alert_id: int, resolution: str) -> Alert:
    doctor = ctx.require(Role.DOCTOR, Role.ADMIN)
    alert = get_or_404(ctx.session, Alert, alert_id)
    if doctor.role == Role.ADMIN and alert.patient_id is not None:  # the admin sees site alerts only
        raise not_found("Alert", alert_id)
    if alert.resolved_at is not None:
        raise Conflict("alert.resolved_already", alert_id=alert_id)
    if not resolution or not resolution.strip():
        raise InvalidInput("alert.resolution_required")
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
