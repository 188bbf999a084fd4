"""The window's roster: every dose due at a site on a date, built from the orders in force."""

from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispensing.enums import Drug, Role, SiteKind
from dispensing.messages import Message
from dispensing.models import (
    Alert,
    AlertKind,
    BreachKind,
    Dispense,
    DispensingWindow,
    Patient,
    Prescription,
    Slot,
    SlotStatus,
)
from dispensing.rules.arrangement import Arrangement, SanctionTerms
from dispensing.rules.breath import breath_required
from dispensing.rules.calendar import allows_take_home
from dispensing.rules.schedule import take_home_dates
from dispensing.rules.special import patient_flags
from dispensing.rules.split import Part, window_for
from dispensing.rules.windows import is_open
from dispensing.services import audit, calendar
from dispensing.services.alerts import raise_alert
from dispensing.services.attendance import MissedState, missed_states
from dispensing.services.conduct import record_breach
from dispensing.services.context import Ctx
from dispensing.services.prescriptions import governing_orders, signature_valid
from dispensing.services.records import get_or_404, referenced
from dispensing.services.sanctions import arrangement, arrangement_today, patients_sent_to, sanctions_in_force
from dispensing.services.sites import get_site
from dispensing.services.sql import among, insert_ignoring_conflicts
from dispensing.services.urine import urine_due_today
from dispensing.services.windows import local_now

NOT_COLLECTED = "not collected"  # a due slot whose day passed without a record (a paper record may follow)

SHOWN = (
    SlotStatus.DUE,
    SlotStatus.PREPARED,
    SlotStatus.DISPENSED,
    SlotStatus.WITHHELD,
    SlotStatus.MISSED,
    SlotStatus.COVERED,
)


@dataclass
class RosterEntry:
    slot: Slot
    patient: Patient
    order: Prescription
    windows: list[DispensingWindow]
    breathalyser_required: bool
    urine_sample_due: bool
    missed_consecutive: int
    blocked_reason: Message | None
    take_home_dates: list[date]  # the following due days this visit may cover
    plan: Arrangement | None  # the arrangement in force (None: no order governs the slot here now)
    flags: tuple[str, ...] = ()  # under_18, pregnant, children_at_home
    recorded_afterwards: bool = False  # dispensed from the paper sheet, entered later
    outside_window: bool = False  # due today, and no window for its drug is open at this minute (rule 14)

    @property
    def dose_mg(self) -> Decimal:
        """The day's dose: the step of the order's schedule in force on the slot's day (rule 18)."""
        return self.order.dose_for(self.slot.slot_date, self.slot.part)

    @property
    def part(self) -> Part | None:
        """The part of a split dose this slot is (its time, dose and supervision), else None."""
        parts = self.order.parts
        return parts[self.slot.part] if self.slot.part < len(parts) else None

    @property
    def take_home_days(self) -> int:
        return len(self.take_home_dates)

    @property
    def sanctions(self) -> tuple[SanctionTerms, ...]:
        return self.plan.in_force if self.plan else ()

    @property
    def sort_key(self) -> tuple[time, str, int]:
        return (self.windows[0].start if self.windows else time.max, self.patient.name, self.slot.id)


def allowed_take_home(
    ctx: Ctx,
    order: Prescription,
    day: date,
    arrangement: Arrangement,
    closures: calendar.SpanClosures | None = None,
) -> list[date]:
    """The following due days this visit may cover (DOMAIN rule 5, with sanctions; never for Antabus).

    Across the site's closed days the span runs on to the next open pickup day (rule 17); a closed
    day's dose the doctor moved to another site is not taken home. `closures` is looked up if not given.
    """
    if order.drug == Drug.DISULFIRAM:
        return []
    if closures is None:
        closures = calendar.span_closures(ctx, arrangement.site_id, day, [order.patient_id])
    closed = closures.closed
    dates = take_home_dates(
        day,
        arrangement.weekdays,
        arrangement.pickup_weekdays,
        ctx.policy.take_home_max_days,
        order.last_day,
        closed,
        closed_take_home=bool(closed)
        and arrangement.no_take_home_because is None
        and allows_take_home(order.drug, arrangement.supervised, arrangement.weekdays, arrangement.pickup_weekdays),
    )
    # A sanction decided to start (or end) within the span changes the arrangement from that day.
    return [
        d
        for d in dates
        if (arrangement.changes_on is None or d < arrangement.changes_on)
        and (order.patient_id, order.drug, d) not in closures.moved
    ]


def unusable_order_reason(ctx: Ctx, order: Prescription, day: date) -> Message | None:
    """Why no dose may be given against this order on `day`, or None."""
    if not order.governs(day):
        return Message("order.not_in_force", order_id=order.id, day=day, status=order.status)
    if not signature_valid(ctx, order):
        return Message("order.signature_mismatch", order_id=order.id)
    return None


def build_roster(ctx: Ctx, site_id: int, day: date) -> list[RosterEntry]:
    """The roster of a site for a day. Creates the day's slots on first look; past due slots become missed."""
    ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN)
    site = get_site(ctx, site_id)
    session = ctx.session
    # Orders of this site, and of patients a police-pickup sanction sends here; then keep the
    # ones whose effective arrangement on the day is this site.
    candidates = {o.id: o for o in governing_orders(ctx, day, site_id=site_id)}
    # A police-pickup sanction names a police station (decide_sanction), and a site's kind never changes.
    sent_here = patients_sent_to(ctx, site_id, day) if site.kind == SiteKind.POLICE else set()
    if sent_here:
        candidates |= {o.id: o for o in governing_orders(ctx, day, patient_ids=list(sent_here))}
    sanctions = sanctions_in_force(
        ctx, {o.patient_id for o in candidates.values()}, day, day + timedelta(days=ctx.policy.take_home_max_days)
    )
    arrangements = {oid: arrangement(o, sanctions.get(o.patient_id, []), day) for oid, o in candidates.items()}
    # Rule 17: nothing is due at a site on its closed day; doses the doctor moved here from a closed site are.
    closures = calendar.span_closures(ctx, site_id, day, None, site=site)
    moved_here = calendar.moves_to(ctx, site_id, day) if day not in closures.closed else {}
    if moved_here:
        for o in governing_orders(ctx, day, patient_ids=list({p for p, _ in moved_here})):
            if (o.patient_id, o.drug) in moved_here:
                candidates[o.id] = o
                plan = arrangement(o, sanctions_in_force(ctx, [o.patient_id], day).get(o.patient_id, []), day)
                arrangements[o.id] = replace(plan, site_id=site_id)
    orders = [
        o
        for o in candidates.values()
        if day.weekday() in o.weekday_set
        and arrangements[o.id].site_id == site_id
        and not arrangements[o.id].treatment_ended
        and day not in closures.closed
    ]
    by_key = {(o.patient_id, o.drug): o for o in orders}

    patient_ids = {o.patient_id for o in orders}
    slots = _day_slots(session, site_id, day, patient_ids)
    # Only the first look of the day has slots to create; a reload inserts nothing (conflicting rows
    # cost time: BENCHMARKS.md, "Measured reasons in the code"). A slot of the patient and drug at any
    # site is found above and would have stopped the insert (unique per patient, drug, day and part).
    have = {(s.patient_id, s.drug, s.part) for s in slots}
    missing = [(o, part) for o in orders for part in range(o.part_count) if (o.patient_id, o.drug, part) not in have]
    if missing:
        insert_ignoring_conflicts(
            session,
            Slot.__table__,
            [
                {
                    "patient_id": o.patient_id,
                    "drug": o.drug.value,
                    "slot_date": day,
                    "part": part,
                    "prescription_id": o.id,
                    "site_id": site_id,
                    "status": SlotStatus.DUE.value,
                    "updated_at": ctx.now,
                }
                for o, part in missing
            ],
            ["patient_id", "drug", "slot_date", "part"],
        )
        slots = _day_slots(session, site_id, day, patient_ids)

    past = day < ctx.today
    keep: list[Slot] = []
    gone: list[Slot] = []  # due here, but no order of this site governs the day any more
    for slot in slots:
        order = by_key.get((slot.patient_id, slot.drug))
        if order is None and slot.site_id != site_id:
            continue  # another site's dose of the same patient
        if slot.status == SlotStatus.CANCELLED and order is not None:
            # never acted on, and an order governs the day again (e.g. discontinued and rewritten today)
            slot.status, slot.reason, slot.updated_at = SlotStatus.DUE, None, ctx.now
        if slot.status == SlotStatus.DUE:
            if order is None:
                gone.append(slot)
                continue
            if slot.part >= order.part_count:  # a part of a split the order in force no longer has
                slot.status, slot.reason, slot.updated_at = SlotStatus.CANCELLED, "order no longer split", ctx.now
                continue
            if slot.prescription_id != order.id or slot.site_id != site_id:
                slot.prescription_id, slot.site_id, slot.updated_at = order.id, site_id, ctx.now
            if past:
                slot.status, slot.reason, slot.updated_at = SlotStatus.MISSED, NOT_COLLECTED, ctx.now
        if slot.status in SHOWN:
            keep.append(slot)
    _move_or_cancel(ctx, gone, day)

    # Orders of slots no longer governed (history of the day) are loaded in one query.
    orders_by_id = {o.id: o for o in orders}
    unloaded = {s.prescription_id for s in keep} - set(orders_by_id)
    if unloaded:
        orders_by_id |= {
            o.id: o
            for o in session.execute(select(Prescription).where(among(session, Prescription.id, unloaded))).scalars()
        }
    patients = {o.patient_id: o.patient for o in orders}
    lacking = {s.patient_id for s in keep} - set(patients)
    if lacking:
        patients |= {
            p.id: p for p in session.execute(select(Patient).where(among(session, Patient.id, lacking))).scalars()
        }

    if closures.closed:  # a closed day ahead: moved doses are not taken home
        closures = calendar.span_closures(ctx, site_id, day, {o.patient_id for o in orders}, site=site)
    states = missed_states(ctx, orders, day)
    urine_due = urine_due_today(ctx, {s.patient_id for s in keep}, day) if day == ctx.today else set()
    policy = ctx.policy
    # The day's windows per drug, worked out once rather than for each of the ~400 entries.
    todays_windows = [w for w in site.windows if w.weekday == day.weekday()]
    windows_for = {drug: [w for w in todays_windows if w.serves(drug)] for drug in {s.drug for s in keep}}
    on_paper = (
        _entered_afterwards(session, site_id, day) if any(s.status == SlotStatus.DISPENSED for s in keep) else set()
    )
    open_now: dict[tuple[object, ...], bool] = {}
    entries = [
        _entry(
            ctx,
            slot,
            orders_by_id[slot.prescription_id],
            patients[slot.patient_id],
            part_windows(orders_by_id[slot.prescription_id], slot.part, windows_for[slot.drug]),
            arrangements.get(slot.prescription_id),
            states.get((slot.patient_id, slot.drug)),
            slot.patient_id in urine_due,
            closures,
            recorded_afterwards=slot.id in on_paper,
            open_now=open_now,
        )
        for slot in keep  # a handled slot shows the order it was handled under
    ]
    if day <= ctx.today:
        _flag_blocks(
            ctx,
            [
                (e, e.blocked_reason)
                for e in entries
                if e.blocked_reason and e.missed_consecutive >= policy.missed_days_block
            ],
        )
    entries.sort(key=lambda e: e.sort_key)
    audit.record(
        ctx,
        "roster.read",
        "site",
        site_id,
        detail={"date": day, "patient_ids": sorted({e.patient.id for e in entries})},
    )
    return entries


def _day_slots(session: Session, site_id: int, day: date, patient_ids: set[int]) -> list[Slot]:
    """The day's slots at this site, and those of its patients at any other site.

    Two index lookups rather than one `site OR patients` condition: SQLite answered that by reading
    every slot of the day in the whole region (10,000 at a region's scale) to test the site of each.
    (One UNION ALL statement made PostgreSQL plan a slow parallel scan: BENCHMARKS.md, "Measured reasons".)
    """
    queries = [select(Slot).where(Slot.site_id == site_id, Slot.slot_date == day)]
    if patient_ids:
        queries.append(
            select(Slot).where(
                Slot.slot_date == day, among(session, Slot.patient_id, patient_ids), Slot.site_id != site_id
            )
        )
    return [slot for q in queries for slot in session.execute(q.execution_options(populate_existing=True)).scalars()]


def _entered_afterwards(session: Session, site_id: int, day: date) -> set[int]:
    """The slots of the site and day whose dispense is a paper record entered afterwards."""
    return set(
        session.execute(
            select(Dispense.slot_id).where(
                Dispense.site_id == site_id, Dispense.first_day == day, Dispense.recorded_at > Dispense.dispensed_at
            )
        ).scalars()
    )


def _entry(
    ctx: Ctx,
    slot: Slot,
    order: Prescription,
    patient: Patient,
    windows: list[DispensingWindow],
    plan: Arrangement | None,
    state: MissedState | None,
    urine_due: bool,
    closures: "calendar.SpanClosures | None" = None,
    *,
    recorded_afterwards: bool = False,
    open_now: "dict[tuple[object, ...], bool] | None" = None,
) -> RosterEntry:
    """What the window shows for one slot; `plan` is None when no order governs it here any more.
    `open_now`: whether a set of windows is open, remembered across a roster's entries (they share a few)."""
    day = slot.slot_date
    due = slot.status == SlotStatus.DUE
    outside = False
    if due and day == ctx.today:
        key = (slot.drug, *(w.id for w in windows))
        memo = {} if open_now is None else open_now
        if key not in memo:
            memo[key] = is_open(windows, slot.drug, local_now(ctx))
        outside = not memo[key]
    blocked = (unusable_order_reason(ctx, order, day) or (state.blocked_reason if state else None)) if due else None
    return RosterEntry(
        slot=slot,
        patient=patient,
        order=order,
        windows=list(windows),
        breathalyser_required=breath_required(slot.drug, ctx.policy),
        urine_sample_due=urine_due,
        missed_consecutive=state.missed if state else 0,
        blocked_reason=blocked,
        take_home_dates=allowed_take_home(ctx, order, day, plan, closures) if due and plan else [],
        plan=plan,
        outside_window=outside,
        flags=tuple(
            patient_flags(
                birth_date=patient.birth_date,
                day=day,
                pregnant=patient.pregnant,
                children_at_home=patient.children_at_home,
            )
        ),
        recorded_afterwards=recorded_afterwards,
    )


def slot_entry(ctx: Ctx, slot_id: int) -> RosterEntry:
    """One slot exactly as the roster shows it (the dispense page), without building the whole roster."""
    ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN)
    slot = get_or_404(ctx.session, Slot, slot_id)
    day = slot.slot_date
    order = referenced(ctx.session, Prescription, slot.prescription_id)
    patient = referenced(ctx.session, Patient, slot.patient_id)
    site = get_site(ctx, slot.site_id)
    plan = calendar.with_move(ctx, order, day, arrangement_today(ctx, order, day)) if order.governs(day) else None
    state = missed_states(ctx, [order], day).get((order.patient_id, order.drug))
    urine_due = day == ctx.today and patient.id in urine_due_today(ctx, {patient.id}, day)
    windows = [w for w in site.windows if w.weekday == day.weekday() and w.serves(slot.drug)]
    on_paper = slot.status == SlotStatus.DISPENSED and slot.id in _entered_afterwards(ctx.session, slot.site_id, day)
    return _entry(
        ctx,
        slot,
        order,
        patient,
        part_windows(order, slot.part, windows),
        plan,
        state,
        urine_due,
        recorded_afterwards=on_paper,
    )


def part_windows(order: Prescription, part: int, windows: list[DispensingWindow]) -> list[DispensingWindow]:
    """The windows of a slot: all of the day's for the drug, or for a part of a split dose its own one."""
    parts = order.parts
    if not parts or part >= len(parts):
        return windows
    chosen = window_for(parts[part].at, part, [(w.start, w.end) for w in windows])
    return [windows[chosen]] if chosen is not None else []


def _move_or_cancel(ctx: Ctx, slots: list[Slot], day: date) -> None:
    """Open slots whose order went elsewhere (a sanction, a revision) follow it; the rest are cancelled."""
    if not slots:
        return
    patient_ids = {s.patient_id for s in slots}
    orders = {
        (o.patient_id, o.drug): o
        for o in governing_orders(ctx, day, patient_ids=list(patient_ids))
        if day.weekday() in o.weekday_set
    }
    sanctions = sanctions_in_force(ctx, patient_ids, day)
    moved = calendar.moves_of(ctx, patient_ids, day, day)
    for slot in slots:
        order = orders.get((slot.patient_id, slot.drug))
        plan = arrangement(order, sanctions.get(slot.patient_id, []), day) if order else None
        if order is None or plan is None or plan.treatment_ended:
            slot.status, slot.reason = SlotStatus.CANCELLED, "no order in force"
        else:
            slot.prescription_id = order.id
            slot.site_id = moved.get((slot.patient_id, slot.drug, day), plan.site_id)
        slot.updated_at = ctx.now


def _flag_blocks(ctx: Ctx, blocked: list[tuple[RosterEntry, Message]]) -> None:
    """Put each missed-dose block (an entry and why it is blocked) on the doctor's review list once."""
    if not blocked:
        return
    open_keys = {
        tuple(row)
        for row in ctx.session.execute(
            select(Alert.patient_id, Alert.drug).where(
                Alert.kind == AlertKind.MISSED_DOSE_BLOCK,
                Alert.resolved_at.is_(None),
                among(ctx.session, Alert.patient_id, {e.patient.id for e, _ in blocked}),
            )
        )
    }
    for e, reason in blocked:
        if (e.patient.id, e.slot.drug) not in open_keys:
            alert = raise_alert(
                ctx, e.patient.id, AlertKind.MISSED_DOSE_BLOCK, reason, drug=e.slot.drug, slot_id=e.slot.id
            )
            open_keys.add((e.patient.id, e.slot.drug))
            # A run of no-shows breaks the cooperation agreement; the system records it once per run.
            record_breach(
                ctx,
                e.patient.id,
                kind=BreachKind.MISSED_PICKUPS,
                occurred_on=e.slot.slot_date,
                note=reason,
                note_message=reason,
                source=f"missed_run_alert:{alert.id}",
                automatic=True,
            )
