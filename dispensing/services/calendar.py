"""Closed days of sites and the closure plan: no patient goes without (DOMAIN.md rule 17)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import delete, select

from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Conflict, InvalidInput, NotFound
from dispensing.models import ClosureMove, Patient, Prescription, Site, SiteClosure, Slot, SlotStatus
from dispensing.rules.arrangement import Arrangement
from dispensing.rules.calendar import Cover, CoverKind, Unresolved, allows_take_home, closed_days, cover_by_take_home
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.prescriptions import governing_orders
from dispensing.services.sanctions import arrangement, patients_sent_to, sanctions_in_force
from dispensing.services.sql import among

STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)
HANDLED = (SlotStatus.DISPENSED, SlotStatus.COVERED, SlotStatus.PREPARED)
MAX_RANGE_DAYS = 400  # a closure list or plan covers at most about a year


def site_closed_days(ctx: Ctx, site: Site, first: date, last: date) -> dict[date, str]:
    """The site's closed days in [first, last] with their reasons (one small query)."""
    if last < first:
        return {}
    added = dict(
        ctx.session.execute(
            select(SiteClosure.day, SiteClosure.reason).where(
                SiteClosure.site_id == site.id, SiteClosure.day >= first, SiteClosure.day <= last
            )
        ).all()
    )
    return closed_days(first, last, public_holidays=site.danish_public_holidays, added=added)


def _site(ctx: Ctx, site_id: int) -> Site:
    site = ctx.session.get(Site, site_id)
    if site is None:
        raise NotFound("calendar.site_unknown", site_id=site_id)
    return site


def _range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput("calendar.range_reversed", first=first, last=last)
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput("calendar.range_too_long", days=MAX_RANGE_DAYS)


@dataclass(frozen=True)
class ClosedDay:
    day: date
    reason: str
    source: str  # "holiday" (the site's public-holiday rule) | "added" (the admin's day)


def list_closures(ctx: Ctx, site_id: int, first: date, last: date) -> list[ClosedDay]:
    """The site's closed days between two dates, holidays and added days."""
    ctx.require(*STAFF, Role.SITE_STAFF)
    _range(first, last)
    site = _site(ctx, site_id)
    added = set(
        ctx.session.execute(
            select(SiteClosure.day).where(
                SiteClosure.site_id == site_id, SiteClosure.day >= first, SiteClosure.day <= last
            )
        ).scalars()
    )
    return [
        ClosedDay(d, reason, "added" if d in added else "holiday")
        for d, reason in site_closed_days(ctx, site, first, last).items()
    ]


def _handled_doses(ctx: Ctx, site_id: int, days: Iterable[date]) -> list[str]:
    """'Name (drug, date)' of doses already dispensed, covered or prepared at the site on these days."""
    days = sorted(set(days))
    if not days:
        return []
    rows = ctx.session.execute(
        select(Patient.name, Slot.drug, Slot.slot_date)
        .join(Patient, Patient.id == Slot.patient_id)
        .where(Slot.site_id == site_id, Slot.slot_date.in_(days), Slot.status.in_(HANDLED))
        .order_by(Slot.slot_date, Patient.name)
    ).all()
    return [f"{name} ({drug.value}, {day.isoformat()})" for name, drug, day in rows]


def set_closures(ctx: Ctx, site_id: int, days: list[tuple[date, str]]) -> list[ClosedDay]:
    """Replace the site's added closed days from today on (the past stays on record)."""
    admin = ctx.require(Role.ADMIN)
    site = _site(ctx, site_id)
    wanted: dict[date, str] = {}
    for day, reason in days:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("closure.reason_required", day=day)
        if day < ctx.today:
            raise InvalidInput("closure.in_past", day=day, today=ctx.today)
        if day in wanted:
            raise InvalidInput("closure.duplicate_day", day=day)
        wanted[day] = reason
    existing = {
        c.day: c
        for c in ctx.session.execute(
            select(SiteClosure).where(SiteClosure.site_id == site_id, SiteClosure.day >= ctx.today)
        ).scalars()
    }
    new_days = set(wanted) - set(existing)
    handled = _handled_doses(ctx, site_id, new_days)
    if handled:
        raise Conflict("closure.doses_handled", doses=handled)
    ctx.session.execute(
        delete(SiteClosure).where(SiteClosure.site_id == site_id, SiteClosure.day.in_(set(existing) - set(wanted)))
    )
    for day, reason in wanted.items():
        if day in existing:
            existing[day].reason = reason
        else:
            ctx.session.add(
                SiteClosure(site_id=site_id, day=day, reason=reason, created_by_id=admin.id, created_at=ctx.now)
            )
    ctx.session.flush()
    audit.record(
        ctx, "site.closures", "site", site_id, detail={"closures": {d.isoformat(): r for d, r in wanted.items()}}
    )
    last = max(wanted, default=ctx.today)
    return list_closures(ctx, site.id, ctx.today, max(last, ctx.today))


def set_holiday_rule(ctx: Ctx, site_id: int, danish_public_holidays: bool) -> Site:
    """Close the site on Danish public holidays (the default) or keep it open on them."""
    ctx.require(Role.ADMIN)
    site = _site(ctx, site_id)
    if danish_public_holidays and not site.danish_public_holidays:
        ahead = closed_days(ctx.today, ctx.today + timedelta(days=366), public_holidays=True, added={})
        handled = _handled_doses(ctx, site_id, ahead)
        if handled:
            raise Conflict("closure.doses_handled", doses=handled)
    site.danish_public_holidays = danish_public_holidays
    ctx.session.flush()
    audit.record(ctx, "site.holiday_rule", "site", site_id, detail={"danish_public_holidays": danish_public_holidays})
    return site


def refuse_if_closed(ctx: Ctx, site: Site, day: date, closures: "SpanClosures | None" = None) -> None:
    """409 at the window of a site on its closed day, naming the reason (`closures`: the site's from
    `day`, read already)."""
    closed = closures.closed if closures is not None else site_closed_days(ctx, site, day, day)
    reason = closed.get(day)
    if reason is not None:
        raise Conflict("site.closed", site=site.name, day=day, reason=reason)


# --- moves: the doctor sends a closed day's dose to an open site ------------------------------------


def moves_to(ctx: Ctx, site_id: int, day: date) -> dict[tuple[int, Drug], int]:
    """(patient, drug) whose dose on `day` the doctor moved to this site -> the site."""
    rows = ctx.session.execute(
        select(ClosureMove.patient_id, ClosureMove.drug).where(
            ClosureMove.to_site_id == site_id, ClosureMove.day == day
        )
    )
    return {(p, d): site_id for p, d in rows}


def moves_of(ctx: Ctx, patient_ids: Iterable[int], first: date, last: date) -> dict[tuple[int, Drug, date], int]:
    """(patient, drug, day) -> the site the doctor moved that day's dose to, for these patients."""
    ids = set(patient_ids)
    if not ids:
        return {}
    rows = ctx.session.execute(
        select(ClosureMove.patient_id, ClosureMove.drug, ClosureMove.day, ClosureMove.to_site_id).where(
            among(ctx.session, ClosureMove.patient_id, ids), ClosureMove.day >= first, ClosureMove.day <= last
        )
    )
    return {(p, d, day): to for p, d, day, to in rows}


@dataclass(frozen=True)
class SpanClosures:
    """What a take-home span from a day needs to know: the site's closed days within the longest
    span (day -> why), and the closed days' doses the doctor moved elsewhere (patient, drug, day)."""

    closed: Mapping[date, str]
    moved: frozenset[tuple[int, Drug, date]] = frozenset()


def span_closures(
    ctx: Ctx, site_id: int, day: date, patient_ids: Iterable[int] | None, *, site: Site | None = None
) -> SpanClosures:
    """The closed days from `day` over the longest take-home span; moves only for `patient_ids`."""
    site = site or _site(ctx, site_id)
    last = day + timedelta(days=ctx.policy.take_home_max_days - 1)
    closed = site_closed_days(ctx, site, day, last)
    if not closed or not patient_ids:
        return SpanClosures(closed)
    return SpanClosures(closed, frozenset(moves_of(ctx, patient_ids, day, last)))


def with_move(ctx: Ctx, order: Prescription, day: date, plan: Arrangement) -> Arrangement:
    """The arrangement with the doctor's move of this day's dose applied, if any."""
    to = moves_of(ctx, [order.patient_id], day, day).get((order.patient_id, order.drug, day))
    return replace(plan, site_id=to) if to is not None else plan


def move_dose(ctx: Ctx, order_id: int, day: date, to_site_id: int, reason: str) -> ClosureMove:
    """The doctor moves an order's dose on its site's closed day to an open site (that day only)."""
    doctor = ctx.require(Role.DOCTOR)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("closure.move_reason_required")
    order = ctx.session.get(Prescription, order_id)
    if order is None:
        raise NotFound("calendar.order_unknown", order_id=order_id)
    if day < ctx.today:
        raise InvalidInput("closure.in_past", day=day, today=ctx.today)
    if not order.governs(day) or day.weekday() not in order.weekday_set:
        raise Conflict("closure.move_not_due", day=day)
    plan = arrangement(order, sanctions_in_force(ctx, [order.patient_id], day).get(order.patient_id, []), day)
    home = _site(ctx, plan.site_id)
    if day not in site_closed_days(ctx, home, day, day):
        raise Conflict("closure.move_site_open", site=home.name, day=day)
    target = _site(ctx, to_site_id)
    if target.id == home.id or target.kind != SiteKind.CLINIC:
        raise InvalidInput("closure.move_target_not_clinic", site=target.name)
    target_closed = site_closed_days(ctx, target, day, day).get(day)
    if target_closed is not None:
        raise Conflict("site.closed", site=target.name, day=day, reason=target_closed)
    slots = ctx.session.execute(  # one per part of a split dose
        select(Slot)
        .where(Slot.patient_id == order.patient_id, Slot.drug == order.drug, Slot.slot_date == day)
        .order_by(Slot.part)
        .with_for_update()
    ).scalars()
    for slot in list(slots):
        if slot.status in HANDLED:
            raise Conflict("closure.move_already_covered", day=day)
        if slot.status == SlotStatus.DUE:
            slot.site_id, slot.updated_at = target.id, ctx.now
    move = ctx.session.execute(
        select(ClosureMove).where(
            ClosureMove.patient_id == order.patient_id, ClosureMove.drug == order.drug, ClosureMove.day == day
        )
    ).scalar_one_or_none()
    if move is None:
        move = ClosureMove(patient_id=order.patient_id, drug=order.drug, day=day, from_site_id=home.id)
        ctx.session.add(move)
    move.to_site_id, move.reason, move.decided_by_id, move.created_at = target.id, reason, doctor.id, ctx.now
    ctx.session.flush()
    audit.record(
        ctx,
        "closure.move",
        "closure_move",
        move.id,
        patient_id=order.patient_id,
        detail={
            "drug": order.drug.value,
            "day": day,
            "from_site_id": home.id,
            "to_site_id": target.id,
            "reason": reason,
        },
    )
    return move


# --- the closure plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    day: date
    closed_reason: str
    site: Site
    order: Prescription
    patient: Patient
    dose_mg: object  # Decimal: the day's dose (the step in force)
    cover: Cover
    moved_to: Site | None = None
    done: bool = False  # the take-home has been handed out (or the moved dose given) already

    @property
    def status(self) -> str:
        return self.cover.kind.value


def _why_not_take_home(order: Prescription, plan: Arrangement) -> Unresolved | None:
    if order.drug == Drug.DISULFIRAM:
        return Unresolved.ANTABUS
    if plan.no_take_home_because is not None:
        return Unresolved.NO_TAKE_HOME_SANCTION
    if not allows_take_home(order.drug, plan.supervised, plan.weekdays, plan.pickup_weekdays):
        return Unresolved.SUPERVISED_ONLY
    return None


def _plan_for_site(ctx: Ctx, site: Site, first: date, last: date) -> list[PlanItem]:
    horizon = ctx.policy.take_home_max_days
    # Closed days before `first` matter too: the search for the last open day walks back over them.
    closed = site_closed_days(ctx, site, first - timedelta(days=horizon), last)
    plan_days = [d for d in closed if d >= first]
    if not plan_days:
        return []
    items: list[PlanItem] = []
    for day in plan_days:
        candidates = {o.id: o for o in governing_orders(ctx, day, site_id=site.id)}
        if site.kind == SiteKind.POLICE:
            sent = patients_sent_to(ctx, site.id, day)
            if sent:
                candidates |= {o.id: o for o in governing_orders(ctx, day, patient_ids=list(sent))}
        sanctions = sanctions_in_force(ctx, {o.patient_id for o in candidates.values()}, day)
        due = []
        for o in candidates.values():
            plan = arrangement(o, sanctions.get(o.patient_id, []), day)
            if day.weekday() in o.weekday_set and plan.site_id == site.id and not plan.treatment_ended:
                due.append((o, plan))
        if not due:
            continue
        patient_ids = {o.patient_id for o, _ in due}
        moves = moves_of(ctx, patient_ids, day, day)
        statuses: dict[tuple[int, Drug], SlotStatus] = {}
        for p, d, s in ctx.session.execute(
            select(Slot.patient_id, Slot.drug, Slot.status).where(
                Slot.slot_date == day, among(ctx.session, Slot.patient_id, patient_ids)
            )
        ):
            if statuses.get((p, d)) not in HANDLED:  # a split dose: handled when a part is
                statuses[(p, d)] = s
        for o, plan in due:
            status = statuses.get((o.patient_id, o.drug))
            to = moves.get((o.patient_id, o.drug, day))
            if to is not None:
                cover, moved_to = Cover(CoverKind.MOVED), _site(ctx, to)
            else:
                moved_to = None
                why = _why_not_take_home(o, plan)
                if status == SlotStatus.COVERED:
                    cover = Cover(CoverKind.TAKE_HOME)
                elif why is not None:
                    cover = Cover(CoverKind.UNRESOLVED, why=why)
                else:
                    cover = cover_by_take_home(
                        day,
                        closed=closed,
                        weekdays=plan.weekdays,
                        pickup_weekdays=plan.pickup_weekdays,
                        start=o.start_date,
                        today=ctx.today,
                        max_days=horizon,
                    )
            items.append(
                PlanItem(
                    day=day,
                    closed_reason=closed[day],
                    site=site,
                    order=o,
                    patient=o.patient,
                    dose_mg=o.dose_on(day),
                    cover=cover,
                    moved_to=moved_to,
                    done=status in HANDLED,
                )
            )
    items.sort(key=lambda i: (i.day, i.patient.name, i.order.drug.value))
    return items


def closure_plan(ctx: Ctx, site_id: int, first: date, last: date) -> list[PlanItem]:
    """Every dose due at the site on one of its closed days between two dates, and how it is covered."""
    ctx.require(Role.DOCTOR, Role.NURSE, Role.ADMIN)
    _range(first, last)
    items = _plan_for_site(ctx, _site(ctx, site_id), first, last)
    audit.record_list(ctx, "closure_plan.read", (i.patient.id for i in items))
    return items


def unresolved_ahead(ctx: Ctx) -> list[PlanItem]:
    """The doctor's desk: closed days' doses without a cover, at every site, over the policy's days ahead."""
    ctx.require(Role.DOCTOR)
    last = ctx.today + timedelta(days=ctx.policy.closure_plan_days_ahead)
    sites = ctx.session.execute(select(Site).order_by(Site.name)).scalars().all()
    items = [i for s in sites for i in _plan_for_site(ctx, s, ctx.today, last) if i.cover.kind == CoverKind.UNRESOLVED]
    items.sort(key=lambda i: (i.day, i.patient.name))
    audit.record_list(ctx, "closure_plan.unresolved", (i.patient.id for i in items))
    return items
