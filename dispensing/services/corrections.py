"""Corrections at the window the same day (DOMAIN.md rule 13): second chances, never a lost day by mistake.

The doctor re-opens a slot whose dose was withheld or voided; the nurse undoes a no-show when the patient
turns up. Both take the slot's row lock first, as dispensing does, so a re-open, an undo and a dispense
of one slot at once have one outcome; the partial unique index on the dispenses in effect backs it up.
"""

from sqlalchemy import select

from dispensing.enums import Role
from dispensing.errors import Conflict, InvalidInput
from dispensing.models import IN_EFFECT, Alert, AlertKind, Dispense, Slot, SlotStatus
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.dispense import lock_slot


def required_reason(reason: str | None, field: str = "reason") -> str:
    """The reason, stripped; refused (422) when empty."""
    if not reason or not reason.strip():
        raise InvalidInput("correction.reason_required", field=field)
    return reason.strip()


def dispense_in_effect(ctx: Ctx, slot_id: int) -> Dispense | None:
    """The slot's prepared or handed-out dispense; voided and returned ones are history."""
    return ctx.session.execute(
        select(Dispense).where(Dispense.slot_id == slot_id, Dispense.status.in_(IN_EFFECT))
    ).scalar_one_or_none()


def latest_dispense(ctx: Ctx, slot_id: int) -> Dispense | None:
    """The dispense in effect, else the latest one of the slot (voided or returned), else None."""
    return (
        dispense_in_effect(ctx, slot_id)
        or ctx.session.execute(
            select(Dispense).where(Dispense.slot_id == slot_id).order_by(Dispense.id.desc()).limit(1)
        ).scalar_one_or_none()
    )


def reopen_slot(ctx: Ctx, slot_id: int, reason: str | None) -> Slot:
    """Doctor: today's slot is due again after its dose was withheld (the patient came back sober) or
    its dispense voided (spilt, vomited); the nurse then dispenses as usual, with a new breath reading."""
    doctor = ctx.require(Role.DOCTOR)
    why = required_reason(reason)
    slot = lock_slot(ctx, slot_id)
    if slot.slot_date != ctx.today:
        raise Conflict("slot.reopen_other_day", slot_date=slot.slot_date, today=ctx.today)
    if slot.status == SlotStatus.DUE:
        raise Conflict("slot.reopen_already_due")
    if slot.status == SlotStatus.MISSED:
        raise Conflict("slot.reopen_missed")
    if slot.status in (SlotStatus.DISPENSED, SlotStatus.PREPARED):
        if dispense_in_effect(ctx, slot.id) is not None:
            raise Conflict("slot.reopen_dispensed")
    elif slot.status != SlotStatus.WITHHELD:
        raise Conflict("slot.reopen_not_possible", status=slot.status.value)
    before = slot.status
    slot.status, slot.reason, slot.updated_at = SlotStatus.DUE, None, ctx.now
    # The withheld dose's flag is answered by this decision.
    for alert in ctx.session.execute(
        select(Alert).where(
            Alert.slot_id == slot.id, Alert.kind == AlertKind.WITHHELD_DOSE, Alert.resolved_at.is_(None)
        )
    ).scalars():
        alert.resolved_at, alert.resolved_by_id, alert.resolution = ctx.now, doctor.id, why
    audit.record(
        ctx,
        "slot.reopen",
        "slot",
        slot.id,
        patient_id=slot.patient_id,
        detail={"date": slot.slot_date, "drug": slot.drug.value, "was": before.value, "reason": why},
    )
    return slot


def undo_no_show(ctx: Ctx, slot_id: int, reason: str | None) -> Slot:
    """Nurse: the patient turned up after all; today's no-show is undone and the dose is due again."""
    ctx.require(Role.NURSE)
    why = required_reason(reason)
    slot = lock_slot(ctx, slot_id)
    if slot.slot_date != ctx.today:
        raise Conflict("slot.undo_no_show_other_day", slot_date=slot.slot_date, today=ctx.today)
    if slot.status != SlotStatus.MISSED:
        raise Conflict("slot.undo_no_show_not_missed", status=slot.status.value)
    slot.status, slot.reason, slot.updated_at = SlotStatus.DUE, None, ctx.now
    audit.record(
        ctx,
        "slot.no_show_undone",
        "slot",
        slot.id,
        patient_id=slot.patient_id,
        detail={"date": slot.slot_date, "drug": slot.drug.value, "reason": why},
    )
    return slot
