"""Sanctions: the doctor's decision after a treatment meeting, and its effect on the arrangement."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import cast

from sqlalchemy import ColumnElement, select

from dispensing.enums import Role, SanctionStep, SiteKind
from dispensing.errors import Conflict, InvalidInput
from dispensing.models import SANCTION_OPEN_END, Breach, OrderStatus, Prescription, Sanction, Site
from dispensing.rules.arrangement import Arrangement, SanctionTerms, effective_arrangement
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.patients import load_patient
from dispensing.services.prescriptions import discontinue_order
from dispensing.services.records import get_or_404
from dispensing.services.sql import among

STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)


def terms(s: Sanction) -> SanctionTerms:
    return SanctionTerms(
        step=s.step, starts_on=s.starts_on, ends_on=s.ends_on, site_id=s.site_id, review_on=s.review_on, id=s.id
    )


def _in_force_on(day: date, until: date | None = None) -> ColumnElement[bool]:
    in_force = (Sanction.starts_on <= (until or day)) & (SANCTION_OPEN_END >= day)  # ends_on null or >= day
    return cast(ColumnElement[bool], in_force)


def sanctions_in_force(
    ctx: Ctx, patient_ids: Iterable[int], day: date, until: date | None = None
) -> dict[int, list[SanctionTerms]]:
    """Sanctions per patient in force on any day from `day` to `until` (default: that day), in one query.

    The arrangement on `day` takes those in force that day; the later ones tell where take-home stops.
    """
    ids = set(patient_ids)
    result: dict[int, list[SanctionTerms]] = defaultdict(list)
    if ids:
        for s in ctx.session.execute(
            select(Sanction).where(among(ctx.session, Sanction.patient_id, ids), _in_force_on(day, until))
        ).scalars():
            result[s.patient_id].append(terms(s))
    return result


def patients_sent_to(ctx: Ctx, site_id: int, day: date) -> set[int]:
    """Patients whose doses a police-pickup sanction moves to this site on `day`."""
    return set(
        ctx.session.execute(
            select(Sanction.patient_id).where(
                Sanction.site_id == site_id, Sanction.step == SanctionStep.POLICE_PICKUP, _in_force_on(day)
            )
        ).scalars()
    )


def arrangement(order: Prescription, sanctions: list[SanctionTerms], day: date) -> Arrangement:
    """The order's effective arrangement on `day` (the pure rule, fed from the row)."""
    return effective_arrangement(
        site_id=order.site_id,
        weekdays=order.weekday_set,
        pickup_weekdays=order.pickup_weekday_set,
        supervised=order.supervised,
        sanctions=sanctions,
        day=day,
    )


def arrangement_today(ctx: Ctx, order: Prescription, day: date) -> Arrangement:
    """The order's arrangement on `day`, knowing the sanctions of the take-home span after it."""
    until = day + timedelta(days=ctx.policy.take_home_max_days)
    return arrangement(order, sanctions_in_force(ctx, [order.patient_id], day, until).get(order.patient_id, []), day)


def decide_sanction(
    ctx: Ctx,
    patient_id: int,
    *,
    step: SanctionStep | str,
    starts_on: date,
    review_on: date,
    reason: str,
    site_id: int | None = None,
    meeting_on: date | None = None,
    breach_ids: list[int] | None = None,
    referral_note: str | None = None,
) -> Sanction:
    """Doctor: decide a sanction after a treatment meeting. Never starts in the past."""
    doctor = ctx.require(Role.DOCTOR)
    load_patient(ctx, patient_id)
    try:
        step = SanctionStep(step)
    except ValueError as exc:
        raise InvalidInput("sanction.unknown_step", step=step, steps=", ".join(s.value for s in SanctionStep)) from exc
    if not reason or not reason.strip():
        raise InvalidInput("sanction.reason_required")
    if starts_on < ctx.today:
        raise InvalidInput("sanction.start_in_past", starts_on=starts_on)
    if review_on <= starts_on:
        raise InvalidInput("sanction.review_before_start")
    if meeting_on is not None and meeting_on > ctx.today:
        raise InvalidInput("sanction.meeting_in_future")
    if step == SanctionStep.POLICE_PICKUP:
        site = ctx.session.get(Site, site_id) if site_id is not None else None
        if site is None or site.kind != SiteKind.POLICE:
            raise InvalidInput("sanction.police_needs_station")
    elif site_id is not None:
        raise InvalidInput("sanction.site_only_for_police", step=step)
    if step == SanctionStep.TERMINATION and not (referral_note and referral_note.strip()):
        raise InvalidInput("sanction.termination_needs_referral")
    breaches = _open_breaches(ctx, patient_id, breach_ids or [])
    sanction = Sanction(
        patient_id=patient_id,
        step=step,
        starts_on=starts_on,
        review_on=review_on,
        reason=reason.strip(),
        meeting_on=meeting_on,
        site_id=site_id,
        referral_note=(referral_note or "").strip() or None,
        decided_by_id=doctor.id,
        decided_at=ctx.now,
    )
    ctx.session.add(sanction)
    ctx.session.flush()
    for b in breaches:
        b.decided_at, b.decided_by_id, b.sanction_id = ctx.now, doctor.id, sanction.id
        b.decision_note = f"Sanction {step.value} from {starts_on}"
    if step == SanctionStep.TERMINATION:
        _end_treatment(ctx, patient_id, starts_on)
    audit.record(
        ctx,
        "sanction.decide",
        "sanction",
        sanction.id,
        patient_id=patient_id,
        detail={
            "step": step.value,
            "starts_on": starts_on,
            "review_on": review_on,
            "site_id": site_id,
            "breach_ids": [b.id for b in breaches],
            "reason": reason.strip(),
        },
    )
    return sanction


def _open_breaches(ctx: Ctx, patient_id: int, ids: list[int]) -> list[Breach]:
    rows = list(ctx.session.execute(select(Breach).where(Breach.id.in_(ids))).scalars()) if ids else []
    if len(rows) != len(set(ids)) or any(b.patient_id != patient_id for b in rows):
        raise InvalidInput("sanction.breach_other_patient")
    if any(b.decided_at is not None for b in rows):
        raise Conflict("sanction.breach_decided")
    return rows


def _end_treatment(ctx: Ctx, patient_id: int, ends_from: date) -> None:
    """Termination: every order still running is discontinued, the last dose the day before."""
    for order in (
        ctx.session.execute(
            select(Prescription).where(
                Prescription.patient_id == patient_id,
                Prescription.status == OrderStatus.ACTIVE,
            )
        )
        .scalars()
        .all()
    ):
        last = order.last_day
        if last is None or last >= ends_from:
            discontinue_order(
                ctx,
                order.id,
                ends_from - timedelta(days=1),
                "Treatment ended in the municipality (sanction: termination)",
            )


def lift_sanction(ctx: Ctx, sanction_id: int, *, ends_on: date, reason: str) -> Sanction:
    """Doctor: end a sanction; from the day after ends_on the order's own arrangement returns."""
    doctor = ctx.require(Role.DOCTOR)
    s = get_or_404(ctx.session, Sanction, sanction_id)
    if s.ends_on is not None:
        raise Conflict("sanction.lifted_already", sanction_id=sanction_id, ends_on=s.ends_on)
    if s.step == SanctionStep.TERMINATION:
        raise Conflict("sanction.termination_not_lifted")
    if not reason or not reason.strip():
        raise InvalidInput("sanction.lift_reason_required")
    if ends_on < ctx.today - timedelta(days=1) or ends_on < s.starts_on - timedelta(days=1):
        raise InvalidInput("sanction.end_in_past", ends_on=ends_on)
    s.ends_on, s.lifted_reason, s.lifted_by_id, s.lifted_at = ends_on, reason.strip(), doctor.id, ctx.now
    audit.record(
        ctx,
        "sanction.lift",
        "sanction",
        s.id,
        patient_id=s.patient_id,
        detail={"ends_on": ends_on, "reason": reason.strip()},
    )
    return s


def get_sanction(ctx: Ctx, sanction_id: int) -> Sanction:
    ctx.require(*STAFF)
    return get_or_404(ctx.session, Sanction, sanction_id)


def list_sanctions(ctx: Ctx, patient_id: int) -> list[Sanction]:
    ctx.require(*STAFF)
    load_patient(ctx, patient_id)
    rows = list(
        ctx.session.execute(
            select(Sanction)
            .where(Sanction.patient_id == patient_id)
            .order_by(Sanction.starts_on.desc(), Sanction.id.desc())
        ).scalars()
    )
    audit.record(ctx, "sanction.list", "patient", patient_id, patient_id=patient_id)
    return rows


def due_for_review(ctx: Ctx, within_days: int = 7) -> list[Sanction]:
    """The doctor's list: sanctions still in force whose review date is within a week or past."""
    ctx.require(Role.DOCTOR)
    horizon = ctx.today + timedelta(days=within_days)
    rows = list(
        ctx.session.execute(
            select(Sanction)
            .where(
                Sanction.ends_on.is_(None),
                Sanction.step != SanctionStep.TERMINATION,
                Sanction.review_on <= horizon,
            )
            .order_by(Sanction.review_on)
        ).scalars()
    )
    audit.record_list(ctx, "sanction.list_review", (s.patient_id for s in rows))
    return rows
