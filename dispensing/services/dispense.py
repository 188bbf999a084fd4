"""Handing out a dose at the window: exactly once per slot, never to an intoxicated patient."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Conflict, InvalidInput
from dispensing.messages import Message, Promille
from dispensing.models import (
    Alert,
    AlertKind,
    BlockRelease,
    BreathTest,
    Dispense,
    DispenseStatus,
    Prescription,
    Slot,
    SlotStatus,
)
from dispensing.rules.afterwards import paper_record_refusal
from dispensing.rules.arrangement import Arrangement
from dispensing.rules.breath import BreathOutcome, breath_threshold, check_breath
from dispensing.services import audit, calendar, stock
from dispensing.services.alerts import raise_alert
from dispensing.services.attendance import missed_states
from dispensing.services.context import Ctx
from dispensing.services.patients import load_patient
from dispensing.services.prescriptions import get_order, governing_orders
from dispensing.services.records import get_or_404
from dispensing.services.roster import NOT_COLLECTED, allowed_take_home, unusable_order_reason
from dispensing.services.sanctions import arrangement_today
from dispensing.services.sites import get_site
from dispensing.services.sql import insert_ignoring_conflicts
from dispensing.services.windows import no_show_needs_reason, require_window_or_reason


@dataclass
class DispenseResult:
    status: str  # "dispensed" | "withheld"
    dispense: Dispense | None = None
    reason: str | None = None


def lock_slot(ctx: Ctx, slot_id: int) -> Slot:
    """The slot, locked until commit so a second request for it waits and then sees the outcome."""
    return get_or_404(ctx.session, Slot, slot_id, lock=True)


def require_due(slot: Slot) -> None:
    if slot.status != SlotStatus.DUE:
        raise Conflict("slot.not_due", slot_id=slot.id, slot_date=slot.slot_date, state=slot.status)


def usable_order(ctx: Ctx, slot: Slot, *, as_of: date) -> Prescription:
    """The slot's order, refused (409) if it is not in force, fails its signature, or is blocked."""
    order = get_order(ctx, slot.prescription_id)
    problem = unusable_order_reason(ctx, order, slot.slot_date)
    if problem is None:
        state = missed_states(ctx, [order], as_of).get((order.patient_id, order.drug))
        problem = state.blocked_reason if state else None
    if problem:
        raise Conflict.of(problem)
    return order


def current_arrangement(ctx: Ctx, order: Prescription, slot: Slot) -> Arrangement:
    """The arrangement in force for the slot's day; refuses if a sanction moved the dose elsewhere."""
    plan = calendar.with_move(ctx, order, slot.slot_date, arrangement_today(ctx, order, slot.slot_date))
    if plan.treatment_ended or plan.site_id != slot.site_id:
        if plan.in_force:
            raise Conflict("slot.moved_by_sanction", sanction=plan.in_force[0].step)
        raise Conflict("slot.no_longer_here")
    return plan


def take_home_for(
    ctx: Ctx,
    order: Prescription,
    slot: Slot,
    requested: int | None,
    plan: Arrangement,
    closures: calendar.SpanClosures | None = None,
) -> list[date]:
    """The take-home days to hand out now: the scheduled span, or fewer if asked; more is refused.
    `closures`: the site's closed days from the slot's day, if read already."""
    allowed = allowed_take_home(ctx, order, slot.slot_date, plan, closures)
    wanted = len(allowed) if requested is None else requested
    if wanted < 0:
        raise InvalidInput("dispense.take_home_negative")
    sanction = plan.no_take_home_because
    if wanted > 0 and sanction is not None:
        raise InvalidInput("dispense.no_take_home_under_sanction", sanction=sanction.step)
    if wanted > len(allowed):
        raise InvalidInput(
            "dispense.take_home_over",
            wanted=wanted,
            order_id=order.id,
            allowed=len(allowed),
            slot_date=slot.slot_date,
            take_home_max_days=ctx.policy.take_home_max_days,
        )
    return allowed[:wanted]


def record_dispense(
    ctx: Ctx,
    slot: Slot,
    order: Prescription,
    take_home: list[date],
    *,
    status: DispenseStatus,
    supervised: bool,
    breath: BreathTest | None = None,
    given_at: datetime | None = None,
) -> Dispense:
    """Write the dispense, mark its slot and cover the take-home days: all or nothing.

    `given_at`: a paper record entered afterwards, handed out at that time (default: now)."""
    actor = ctx.require_actor()  # the use case checked the role
    covered = _cover(ctx, order, take_home, slot.part)
    days = [slot.slot_date, *take_home]
    item = Dispense(
        slot_id=slot.id,
        patient_id=slot.patient_id,
        prescription_id=order.id,
        site_id=slot.site_id,
        drug=order.drug,
        dose_mg=order.dose_for(slot.slot_date, slot.part),
        supervised=supervised,
        take_home_days=len(take_home),
        total_mg=sum((order.dose_for(d, slot.part) for d in days), Decimal(0)),  # each day's step or part (rule 18)
        first_day=days[0],
        last_day=days[-1],
        covers=[d.isoformat() for d in days],
        breath_test_id=breath.id if breath else None,
        status=status,
        dispensed_by_id=actor.id,
        dispensed_at=given_at or ctx.now,
        recorded_at=ctx.now,
        recorded_by_id=actor.id,
    )
    ctx.session.add(item)
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # the unique slot_id: a concurrent request won the race
        raise Conflict("slot.handled_concurrently", slot_id=slot.id) from exc
    slot.status = SlotStatus.PREPARED if status == DispenseStatus.PREPARED else SlotStatus.DISPENSED
    slot.updated_at = ctx.now
    for s in covered:  # locked by _cover until commit: no need to read them again
        s.status, s.covered_by_dispense_id, s.updated_at = SlotStatus.COVERED, item.id, ctx.now
    audit.record(
        ctx,
        f"dispense.{status.value}",
        "dispense",
        item.id,
        patient_id=slot.patient_id,
        detail={
            "slot_id": slot.id,
            "drug": order.drug.value,
            "dose_mg": item.dose_mg,
            "total_mg": item.total_mg,
            "covers": item.covers,
            "supervised": supervised,
            "site_id": slot.site_id,
            "prescription_id": order.id,
            "breath_promille": breath.promille if breath else None,
            **({"given_at": given_at, "recorded_afterwards": True} if given_at else {}),
        },
    )
    return item


def dispense(
    ctx: Ctx,
    slot_id: int,
    *,
    breath_promille: Decimal | None,
    supervised: bool,
    take_home_days: int | None,
    outside_window_reason: str | None = None,
    given_at: datetime | None = None,
) -> DispenseResult:
    """Hand out the slot's dose (and take-home days), or withhold it on a breath reading over the threshold.
    Outside every window for the drug at the site only with the nurse's reason (rule 14).

    With `given_at`, a paper record entered afterwards (see open_for_paper_record): every rule
    still applies, judged for the slot's own day and the window at the time on the sheet."""
    nurse = ctx.require(Role.NURSE)
    slot = lock_slot(ctx, slot_id)
    if given_at is not None:
        open_for_paper_record(ctx, slot, given_at)
    else:
        require_due(slot)
        if slot.slot_date != ctx.today:
            raise Conflict("slot.other_day", slot_id=slot.id, slot_date=slot.slot_date, today=ctx.today)
    site = get_site(ctx, slot.site_id)
    if site.kind != SiteKind.CLINIC:
        raise Conflict("dispense.prepare_for_site", site=site.name, slot_id=slot.id)
    # Rule 17: no window on a closed day, and a take-home span runs over the closed days ahead (read once).
    closures = calendar.span_closures(ctx, site.id, slot.slot_date, [slot.patient_id], site=site)
    calendar.refuse_if_closed(ctx, site, slot.slot_date, closures)
    order = usable_order(ctx, slot, as_of=slot.slot_date)
    plan = current_arrangement(ctx, order, slot)
    late_reason = require_window_or_reason(at_sheet_time(ctx, given_at), slot, site, outside_window_reason)
    if needs_supervision(order, slot, plan) and not supervised:
        if order.supervised or order.parts:
            raise InvalidInput("dispense.supervised_by_order")
        raise InvalidInput("dispense.supervised_by_sanction", sanction=plan.in_force[0].step)

    decision = check_breath(order.drug, breath_promille, ctx.policy)
    if decision.outcome == BreathOutcome.MISSING:
        assert decision.reason is not None  # check_breath names what is missing
        raise InvalidInput.of(decision.reason)
    breath = None
    if breath_promille is not None:
        breath = BreathTest(
            patient_id=slot.patient_id,
            slot_id=slot.id,
            promille=breath_promille,
            threshold=breath_threshold(order.drug, ctx.policy),
            outcome=decision.outcome.value,
            taken_by_id=nurse.id,
            taken_at=given_at or ctx.now,
        )
        ctx.session.add(breath)
        ctx.session.flush()
    if decision.outcome == BreathOutcome.WITHHOLD:
        assert breath is not None and decision.reason is not None  # withheld on a reading, with its reason
        return _withhold(ctx, slot, order, breath, decision.reason, given_at=given_at)
    take_home = take_home_for(ctx, order, slot, take_home_days, plan, closures)
    item = record_dispense(
        ctx,
        slot,
        order,
        take_home,
        status=DispenseStatus.DISPENSED,
        supervised=supervised,
        breath=breath,
        given_at=given_at,
    )
    stock.dispensed(ctx, item, order.product)  # out of the clinic's ledger (controlled drugs only)
    if late_reason is not None:
        item.outside_window_reason = late_reason
        audit.record(
            ctx,
            "dispense.outside_window",
            "dispense",
            item.id,
            patient_id=slot.patient_id,
            detail={"drug": order.drug.value, "site_id": slot.site_id, "reason": late_reason},
        )
    return DispenseResult("dispensed", item)


# --- paper records entered afterwards (the system was down) -------------------------------------


def at_sheet_time(ctx: Ctx, given_at: datetime | None) -> Ctx:
    """The context as at the time on the paper sheet, for judging the windows (a record entered
    afterwards is not outside the window for being entered later); `ctx` itself at the window."""
    return ctx if given_at is None else replace(ctx, now=given_at.astimezone(UTC))


def open_for_paper_record(ctx: Ctx, slot: Slot, given_at: datetime) -> None:
    """Refuse a paper record whose time is wrong (422) or whose slot was handled (409); else leave the slot due.

    A slot of yesterday that the roster marked missed because the day passed without a record was
    never really missed: it takes its paper record, and counts as given from then on."""
    refusal = paper_record_refusal(given_at, slot.slot_date, ctx.now, ctx.tz)
    if refusal is not None:
        raise InvalidInput(refusal.code, **refusal.params)
    if (
        slot.status == SlotStatus.MISSED
        and slot.reason == NOT_COLLECTED
        and slot.slot_date < ctx.today
        # a dose returned by a pickup site is "not collected" too, but it was handled: it has a dispense
        and ctx.session.execute(select(Dispense.id).where(Dispense.slot_id == slot.id)).first() is None
    ):
        slot.status, slot.reason, slot.updated_at = SlotStatus.DUE, None, ctx.now
    require_due(slot)


def needs_supervision(order: Prescription, slot: Slot, plan: Arrangement) -> bool:
    """Supervised intake required: a split dose's part says so itself (a no-take-home sanction still
    makes every part supervised); otherwise the arrangement in force."""
    parts = order.parts
    if slot.part < len(parts):
        return parts[slot.part].supervised or plan.no_take_home_because is not None
    return plan.supervised


def _cover(ctx: Ctx, order: Prescription, dates: list[date], part: int = 0) -> list[Slot]:
    """Make sure every take-home day has an open slot (of the same part), locked; refuse if one is handled."""
    if not dates:
        return []
    insert_ignoring_conflicts(
        ctx.session,
        Slot.__table__,
        [
            {
                "patient_id": order.patient_id,
                "drug": order.drug.value,
                "slot_date": d,
                "part": part,
                "prescription_id": order.id,
                "site_id": order.site_id,
                "status": SlotStatus.DUE.value,
                "updated_at": ctx.now,
            }
            for d in dates
        ],
        ["patient_id", "drug", "slot_date", "part"],
    )
    slots = _slots_for(ctx, order, dates, part)
    for s in slots:
        if s.status != SlotStatus.DUE:
            raise Conflict("dispense.take_home_day_handled", slot_date=s.slot_date, state=s.status)
    return slots


def _slots_for(ctx: Ctx, order: Prescription, dates: list[date], part: int = 0) -> list[Slot]:
    if not dates:
        return []
    return list(
        ctx.session.execute(
            select(Slot)
            .where(
                Slot.patient_id == order.patient_id,
                Slot.drug == order.drug,
                Slot.slot_date.in_(dates),
                Slot.part == part,
            )
            .order_by(Slot.slot_date)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )


def _withhold(
    ctx: Ctx, slot: Slot, order: Prescription, breath: BreathTest, reason: Message, *, given_at: datetime | None = None
) -> DispenseResult:
    """No dose to an intoxicated patient: record it and put it on the doctor's list (a paper record
    entered afterwards says so: the sheet allowed what the rule would not have)."""
    slot.status, slot.reason, slot.updated_at = SlotStatus.WITHHELD, reason, ctx.now
    values = {"drug": order.drug, "day": slot.slot_date, "promille": Promille(breath.promille), "reason": reason}
    withheld = (
        Message("alert.withheld_on_paper", **values, given_at=f"{given_at.astimezone(ctx.tz):%H:%M}")
        if given_at
        else Message("alert.withheld", **values)
    )
    raise_alert(
        ctx,
        slot.patient_id,
        AlertKind.WITHHELD_DOSE,
        withheld,
        drug=order.drug,
        slot_id=slot.id,
    )
    audit.record(
        ctx,
        "dispense.withheld",
        "slot",
        slot.id,
        patient_id=slot.patient_id,
        detail={
            "drug": order.drug.value,
            "breath_promille": breath.promille,
            "threshold": breath.threshold,
            **({"given_at": given_at, "recorded_afterwards": True} if given_at else {}),
        },
    )
    return DispenseResult("withheld", reason=reason)


def record_no_show(ctx: Ctx, slot_id: int, reason: str | None = None, *, given_at: datetime | None = None) -> Slot:
    """The patient did not come: the slot is missed (today or earlier only). Before the end of the
    patient's last window that day only with a reason (e.g. the patient called off), rule 13.

    With `given_at`, a no-show noted on the paper sheet at that time, entered afterwards (the window
    judged at that time)."""
    ctx.require(Role.NURSE)
    slot = lock_slot(ctx, slot_id)
    if given_at is not None:
        open_for_paper_record(ctx, slot, given_at)
    else:
        require_due(slot)
    if slot.slot_date > ctx.today:
        raise Conflict("slot.no_show_future", slot_id=slot.id, slot_date=slot.slot_date)
    why = reason.strip() if reason and reason.strip() else None
    if why is None and no_show_needs_reason(at_sheet_time(ctx, given_at), get_site(ctx, slot.site_id), slot):
        raise Conflict("slot.no_show_window_ahead")
    slot.status, slot.reason, slot.updated_at = SlotStatus.MISSED, why or "no-show", ctx.now
    audit.record(
        ctx,
        "slot.no_show",
        "slot",
        slot.id,
        patient_id=slot.patient_id,
        detail={
            "date": slot.slot_date,
            "drug": slot.drug.value,
            "reason": why,
            **({"given_at": given_at, "recorded_afterwards": True} if given_at else {}),
        },
    )
    return slot


def release_block(ctx: Ctx, patient_id: int, drug: Drug, reason: str) -> BlockRelease:
    """The doctor has reviewed a run of missed days: today's dose may be given again."""
    doctor = ctx.require(Role.DOCTOR)
    load_patient(ctx, patient_id)
    if not reason or not reason.strip():
        raise InvalidInput("block.reason_required")
    _refuse_release_above_restart_cap(ctx, patient_id, drug)
    release = BlockRelease(
        patient_id=patient_id,
        drug=drug,
        released_on=ctx.today,
        reason=reason.strip(),
        released_by_id=doctor.id,
        created_at=ctx.now,
    )
    ctx.session.add(release)
    for alert in ctx.session.execute(
        select(Alert).where(
            Alert.patient_id == patient_id,
            Alert.drug == drug,
            Alert.kind == AlertKind.MISSED_DOSE_BLOCK,
            Alert.resolved_at.is_(None),
        )
    ).scalars():
        alert.resolved_at, alert.resolved_by_id, alert.resolution = ctx.now, doctor.id, reason.strip()
    ctx.session.flush()
    audit.record(
        ctx,
        "block.release",
        "block_release",
        release.id,
        patient_id=patient_id,
        detail={"drug": drug.value, "reason": reason.strip()},
    )
    return release


def _refuse_release_above_restart_cap(ctx: Ctx, patient_id: int, drug: Drug) -> None:
    """After the restart limit of missed days, methadone restarts at the restart cap at most (rule 4):
    a release alone would let the old, higher dose through."""
    if drug != Drug.METHADONE:
        return
    orders = [o for o in governing_orders(ctx, ctx.today, patient_ids=[patient_id]) if o.drug == drug]
    if not orders:
        return
    order = orders[0]
    state = missed_states(ctx, [order], ctx.today).get((patient_id, drug))
    policy = ctx.policy
    dose = order.dose_on(ctx.today)
    if state and state.missed >= policy.missed_days_restart_limit and dose > policy.methadone_restart_max_mg:
        raise Conflict(
            "block.release_above_restart_cap",
            missed=state.missed,
            restart_max_mg=policy.methadone_restart_max_mg,
            order_id=order.id,
            dose_mg=dose,
        )
