"""Paper records entered afterwards: doses handed out from the contingency sheet while the system was down.

The dispense and the no-show themselves are the window's own use cases (services/dispense.py, with
`given_at`); this module adds what the doctor needs to see: a paper record the rules refused (the
paper allowed what the system would not have) goes on the doctor's list, and the day's records
entered afterwards are listed on the desk.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from dispensing.enums import Role
from dispensing.errors import Conflict
from dispensing.models import AlertKind, Dispense, Slot
from dispensing.services import audit
from dispensing.services import dispense as window
from dispensing.services.alerts import raise_alert
from dispensing.services.context import Ctx


def dispense_entered_afterwards(
    ctx: Ctx,
    slot_id: int,
    *,
    given_at: datetime,
    breath_promille: Decimal | None,
    supervised: bool,
    take_home_days: int | None,
    outside_window_reason: str | None = None,
) -> window.DispenseResult:
    """The window's dispense for a dose given on paper at `given_at`; a refusal by a rule (409) is
    kept on the doctor's list although nothing else of the attempt is saved."""
    attempt = ctx.session.begin_nested()
    try:
        result = window.dispense(
            ctx,
            slot_id,
            breath_promille=breath_promille,
            supervised=supervised,
            take_home_days=take_home_days,
            outside_window_reason=outside_window_reason,
            given_at=given_at,
        )
    except Conflict as exc:
        attempt.rollback()
        _flag_refusal(ctx, slot_id, given_at, exc)
        exc.keep_changes = True  # the alert and its audit entry are committed; the dispense is not
        raise
    attempt.commit()
    return result


def _flag_refusal(ctx: Ctx, slot_id: int, given_at: datetime, exc: Conflict) -> None:
    slot = ctx.session.get(Slot, slot_id)
    if slot is None:
        return
    alert = raise_alert(
        ctx,
        slot.patient_id,
        AlertKind.PAPER_RECORD_REFUSED,
        f"{slot.drug.value} on {slot.slot_date}: a paper record entered afterwards (given at "
        f"{given_at.astimezone(ctx.tz):%H:%M} by the sheet) was refused. {exc.text('en')}",
        drug=slot.drug,
        slot_id=slot.id,
    )
    audit.record(
        ctx,
        "dispense.afterwards_refused",
        "slot",
        slot.id,
        patient_id=slot.patient_id,
        detail={"given_at": given_at, "code": exc.code, "alert_id": alert.id},
    )


def entered_afterwards(ctx: Ctx, day: date) -> list[Dispense]:
    """The dispenses entered on `day` (clinic time) from paper, oldest entry first (doctor, nurse, admin)."""
    ctx.require(Role.DOCTOR, Role.NURSE, Role.ADMIN)
    start = datetime.combine(day, time.min, tzinfo=ctx.tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ctx.tz)
    items = [
        d
        for d in ctx.session.execute(
            select(Dispense)
            .where(Dispense.recorded_at >= start, Dispense.recorded_at < end)
            .order_by(Dispense.recorded_at, Dispense.id)
        ).scalars()
        if d.recorded_afterwards
    ]
    audit.record_list(ctx, "dispense.afterwards_list", (d.patient_id for d in items))
    return items
