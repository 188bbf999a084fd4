"""Chain of custody to external pickup sites: prepare at the clinic, hand out or return at the site.

Every step is audited; a dose is always either at the clinic, at the site, with the patient,
back at the clinic, or void, and never two of these.
"""

from datetime import timedelta

from sqlalchemy import select

from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Conflict, Forbidden, InvalidInput
from dispensing.messages import Message
from dispensing.models import Dispense, DispenseStatus, Site, Slot, SlotStatus, User
from dispensing.services import audit, passwords, stock
from dispensing.services.context import Ctx
from dispensing.services.dispense import (
    current_arrangement,
    lock_slot,
    record_dispense,
    require_due,
    take_home_for,
    usable_order,
)
from dispensing.services.records import get_or_404, referenced


def prepare_for_site(ctx: Ctx, slot_id: int, *, take_home_days: int | None) -> Dispense:
    """Nurse: prepare a site's dose (and its take-home days) at the clinic, labelled, for handover."""
    ctx.require(Role.NURSE)
    slot = lock_slot(ctx, slot_id)
    require_due(slot)
    site = referenced(ctx.session, Site, slot.site_id)
    if site.kind == SiteKind.CLINIC:
        raise Conflict("custody.clinic_dose", slot_id=slot.id)
    if slot.drug == Drug.DISULFIRAM:
        raise Conflict("custody.disulfiram_at_clinic")
    ahead = ctx.policy.prepare_ahead_days
    if not ctx.today <= slot.slot_date <= ctx.today + timedelta(days=ahead):
        raise Conflict("custody.prepare_window", slot_id=slot.id, slot_date=slot.slot_date, ahead=ahead)
    order = usable_order(ctx, slot, as_of=ctx.today)
    take_home = take_home_for(ctx, order, slot, take_home_days, current_arrangement(ctx, order, slot))
    d = record_dispense(ctx, slot, order, take_home, status=DispenseStatus.PREPARED, supervised=False)
    stock.dispensed(ctx, d, order.product)  # leaves the clinic's stock now (controlled drugs only)
    return d


def _lock_dispense(ctx: Ctx, dispense_id: int) -> Dispense:
    return get_or_404(ctx.session, Dispense, dispense_id, lock=True)


def _site_user(ctx: Ctx, d: Dispense, *roles: Role) -> User:
    """The acting user: site staff of this dispense's site, or one of `roles`."""
    user = ctx.require(Role.SITE_STAFF, *roles)
    if user.role == Role.SITE_STAFF and user.site_id != d.site_id:
        raise Forbidden("custody.other_site")
    return user


def _require_prepared(d: Dispense) -> None:
    if d.status != DispenseStatus.PREPARED:
        raise Conflict("custody.not_waiting", number=d.number, status=d.status)


def hand_out(ctx: Ctx, dispense_id: int) -> Dispense:
    """Site staff: the patient collected the prepared doses, on the day they were prepared for.

    The order, the missed-day block and the sanctions are checked again at the counter: a dose
    prepared days ago must not go out if the doctor has stopped or changed it since.
    """
    d = _lock_dispense(ctx, dispense_id)
    user = _site_user(ctx, d)
    _require_prepared(d)
    if ctx.today != d.first_day:
        raise Conflict("custody.wrong_day", number=d.number, first_day=d.first_day, today=ctx.today)
    slot = ctx.session.execute(
        select(Slot).where(Slot.id == d.slot_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    try:
        current_arrangement(ctx, usable_order(ctx, slot, as_of=ctx.today), slot)
    except Conflict as exc:
        raise Conflict("custody.do_not_hand_out", number=d.number, reason=Message(exc.code, **exc.params)) from exc
    d.status, d.handed_out_by_id, d.handed_out_at = DispenseStatus.DISPENSED, user.id, ctx.now
    slot.status, slot.updated_at = SlotStatus.DISPENSED, ctx.now
    audit.record(
        ctx,
        "dispense.handed_out",
        "dispense",
        d.id,
        patient_id=d.patient_id,
        detail={"site_id": d.site_id, "total_mg": d.total_mg, "covers": d.covers},
    )
    return d


def _reopen_days(ctx: Ctx, d: Dispense, *, include_own: bool) -> list[str]:
    """Days of this dispense that the patient did not get: from today on due again, before today missed."""
    reopened = []
    slots = ctx.session.execute(
        select(Slot)
        .where((Slot.covered_by_dispense_id == d.id) | (Slot.id == d.slot_id))
        .order_by(Slot.slot_date)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    for slot in slots:
        if slot.id == d.slot_id and not include_own:
            continue
        slot.covered_by_dispense_id, slot.updated_at = None, ctx.now
        if slot.slot_date >= ctx.today:
            slot.status = SlotStatus.DUE
            reopened.append(slot.slot_date.isoformat())
        else:  # a past day without the dose counts towards the missed-day block
            slot.status, slot.reason = SlotStatus.MISSED, "not collected"
    return reopened


def return_to_clinic(ctx: Ctx, dispense_id: int, reason: str, *, opened: bool = False) -> Dispense:
    """Site staff (or the clinic nurse receiving them): not collected, back to the clinic."""
    d = _lock_dispense(ctx, dispense_id)
    user = _site_user(ctx, d, Role.NURSE)
    _require_prepared(d)
    if not reason or not reason.strip():
        raise InvalidInput("custody.return_reason_required")
    d.status, d.returned_by_id, d.returned_at, d.return_reason = (
        DispenseStatus.RETURNED,
        user.id,
        ctx.now,
        reason.strip(),
    )
    reopened = _reopen_days(ctx, d, include_own=True)
    stock.returned(ctx, d, opened=opened, reason=reason.strip())  # unopened back into stock, opened to waste
    audit.record(
        ctx,
        "dispense.returned",
        "dispense",
        d.id,
        patient_id=d.patient_id,
        detail={"site_id": d.site_id, "total_mg": d.total_mg, "reason": reason.strip(), "reopened": reopened},
    )
    return d


def void_dispense(
    ctx: Ctx, dispense_id: int, reason: str, *, back_to_stock: bool = False, witness: passwords.Witness | None = None
) -> Dispense:
    """Nurse or doctor: the dispense is spilt, broken or wrong and every bottle of it is back or destroyed;
    its labels stop being valid and the days not yet used are due again. A dose already handed over
    (spilt or vomited at the window) is voided before a witness, (username, password) re-entered."""
    user = ctx.require(Role.NURSE, Role.DOCTOR)
    d = _lock_dispense(ctx, dispense_id)
    if not reason or not reason.strip():
        raise InvalidInput("custody.void_reason_required")
    if d.status not in (DispenseStatus.PREPARED, DispenseStatus.DISPENSED):
        raise Conflict("custody.cannot_void", number=d.number, status=d.status)
    was_prepared = d.status == DispenseStatus.PREPARED
    if not was_prepared:  # handed over: a second person confirms it was spilt or lost (rule 13)
        if witness is None:
            raise InvalidInput("dispense.void_witness_required")
        d.void_witness_id = passwords.verify_witness(ctx, witness, action="dispense.void").id
    d.status, d.void_reason, d.voided_by_id, d.voided_at = DispenseStatus.VOID, reason.strip(), user.id, ctx.now
    # A dose handed out at the window was taken there; only what has not been used reopens.
    reopened = _reopen_days(ctx, d, include_own=was_prepared)
    stock.voided(ctx, d, was_prepared=was_prepared, back_to_stock=back_to_stock, reason=reason.strip())
    audit.record(
        ctx,
        "dispense.void",
        "dispense",
        d.id,
        patient_id=d.patient_id,
        detail={
            "reason": reason.strip(),
            "total_mg": d.total_mg,
            "reopened": reopened,
            "witness_id": d.void_witness_id,
        },
    )
    return d


def get_dispense(ctx: Ctx, dispense_id: int) -> Dispense:
    """One dispense; site staff only their own site's."""
    user = ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN, Role.SITE_STAFF)
    d = get_or_404(ctx.session, Dispense, dispense_id)
    if user.role == Role.SITE_STAFF and user.site_id != d.site_id:
        raise Forbidden("custody.other_site_list")
    audit.record(ctx, "dispense.read", "dispense", d.id, patient_id=d.patient_id)
    return d
