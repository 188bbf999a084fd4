"""Doctor's orders: write, sign, revise, discontinue. A signed order never changes."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any, cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from dispensing.catalogue import CATALOGUE, DrugInfo, Product
from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Conflict, Forbidden, InvalidInput
from dispensing.messages import Message
from dispensing.models import (
    PRESCRIPTION_OPEN_END,
    OrderStatus,
    Patient,
    Prescription,
    Site,
    Slot,
    SlotStatus,
    User,
    weekdays_to_str,
)
from dispensing.rules import order_terms
from dispensing.rules.special import consent_problem
from dispensing.rules.split import Part, SplitProblem, check_parts, format_parts
from dispensing.rules.steps import Step, StepProblem, check_steps, format_steps, parse_steps
from dispensing.rules.titration import DoseChange, check_methadone_titration
from dispensing.security import sign_content, signature_matches
from dispensing.services import audit, passwords
from dispensing.services.context import Ctx
from dispensing.services.patients import load_patient
from dispensing.services.records import get_or_404, not_found
from dispensing.services.sign_checks import check_before_signing
from dispensing.services.sql import among

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
SIGNED = (OrderStatus.ACTIVE, OrderStatus.SUPERSEDED, OrderStatus.DISCONTINUED)


@dataclass
class OrderTerms:
    """What a doctor writes; validated before any row is created."""

    drug: Drug
    dose_mg: Decimal
    site_id: int
    start_date: date
    indication: str
    product: str | None = None
    weekdays: tuple[int, ...] = ALL_DAYS
    pickup_weekdays: tuple[int, ...] | None = None
    supervised: bool = True
    end_date: date | None = None
    override_reason: str | None = None
    steps: tuple[Step, ...] = ()  # rule 18: a dated taper or build-up
    parts: tuple[Part, ...] = ()  # rule 18: the day's dose split in timed parts
    extra: dict[str, Any] = field(default_factory=dict)


# The columns a signature covers (with the signature itself: the key of a cached verdict).
SIGNED_COLUMNS = (
    "id",
    "version",
    "supersedes_id",
    "patient_id",
    "drug",
    "product",
    "dose_mg",
    "weekdays",
    "pickup_weekdays",
    "supervised",
    "site_id",
    "start_date",
    "course_start",
    "end_date",
    "indication",
    "override_reason",
    "pickup_change_reason",
    "dose_steps",
    "dose_parts",
    "signed_by_id",
    "signed_at",
)
_values_in_state = itemgetter(*SIGNED_COLUMNS, "signature")
_values_by_attribute = attrgetter(*SIGNED_COLUMNS, "signature")


def _signed_values(p: Prescription) -> tuple[Any, ...]:
    """The signed columns and the signature. A loaded row holds its values in its __dict__; reading
    them there skips ~20 ORM descriptor calls per order (BENCHMARKS.md, "Measured reasons in the code").
    A row with an expired or unloaded column goes through the attributes, which load it."""
    try:
        return cast(tuple[Any, ...], _values_in_state(p.__dict__))
    except KeyError:
        return _values_by_attribute(p)


def _content(values: tuple[Any, ...]) -> dict[str, Any]:
    """Exactly what the signature covers (the clinical content, the signer and the time), from the columns."""
    c = dict(zip(SIGNED_COLUMNS, values, strict=True))
    for key in ("dose_steps", "dose_parts"):  # orders without them keep the content (and signatures) they had
        if c[key] is None:
            del c[key]
    c["drug"] = c["drug"].value
    c["dose_mg"] = format(c["dose_mg"].normalize(), "f")
    for key in ("start_date", "course_start", "end_date", "signed_at"):
        c[key] = c[key].isoformat() if c[key] is not None else None
    return c


def signed_content(p: Prescription) -> dict[str, Any]:
    """What sign_order signs for this order."""
    return _content(_signed_values(p)[:-1])


def signature_valid(ctx: Ctx, p: Prescription) -> bool:
    """False when a signed order's stored content no longer matches its signature."""
    return p.signed_at is not None and _signature_matches(ctx.secret, _signed_values(p))


@lru_cache(maxsize=65536)
def _signature_matches(secret: bytes, values: tuple[Any, ...]) -> bool:
    # Every roster load checks ~400 signed orders, and a signed order never changes: remember the
    # verdict per exact stored columns and signature (a changed row is another key, checked afresh).
    *content, signature = values
    return signature_matches(secret, _content(tuple(content)), signature)


def _dose(value: Any) -> Decimal:
    try:
        dose = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput("order.dose_not_number", value=value) from exc
    if not dose.is_finite() or dose <= 0:
        raise InvalidInput("order.dose_not_positive")
    return dose


def _weekdays(days: Any, what: str) -> tuple[int, ...]:
    checked: tuple[int, ...] = tuple(sorted(set(days)))
    if not checked or any(not isinstance(d, int) or not 0 <= d <= 6 for d in checked):
        raise InvalidInput("order.weekdays_invalid", field=what)
    return checked


def validate_terms(ctx: Ctx, t: OrderTerms) -> tuple[OrderTerms, str]:
    """Check an order's terms against the catalogue and DOMAIN.md; returns them normalised and the product code."""
    info = CATALOGUE[t.drug]
    product = info.product(t.product)
    if product is None:
        codes = ", ".join(p.code for p in info.products)
        raise InvalidInput("order.unknown_product", product=t.product, drug=t.drug, codes=codes)
    t.dose_mg = _dose(t.dose_mg)
    order_terms.check_dose(t.dose_mg, info, product)
    t.weekdays = _weekdays(t.weekdays, "weekdays")
    t.pickup_weekdays = t.weekdays if t.pickup_weekdays is None else _weekdays(t.pickup_weekdays, "pickup_weekdays")
    order_terms.check_pickup_days(t.weekdays, t.pickup_weekdays)
    order_terms.check_antabus(t.drug, t.weekdays, t.pickup_weekdays, t.supervised)
    order_terms.check_period(t.start_date, t.end_date)
    t.steps = _valid_steps(t, info, product)
    t.parts = _valid_parts(t, product)
    if not t.indication or not t.indication.strip():
        raise InvalidInput("order.indication_required")
    if not t.site_id:
        raise InvalidInput("order.site_required")
    site = get_or_404(ctx.session, Site, t.site_id)
    if site.kind == SiteKind.POLICE:  # DOMAIN rules 6, 8: police pickup is a sanction, never an order's site
        raise InvalidInput("order.site_police", site=site.name)
    return t, product.code


def _valid_steps(t: OrderTerms, info: DrugInfo, product: Product) -> tuple[Step, ...]:
    """The order's dose steps in date order, each a dose the product can measure out (rule 18)."""
    steps = []
    for s in t.steps:
        try:
            dose = Decimal(str(s.dose_mg))
        except (InvalidOperation, ValueError) as exc:
            raise InvalidInput("order.step_dose_invalid", from_date=s.from_date, dose=str(s.dose_mg)) from exc
        if not dose.is_finite() or dose > info.max_dose_mg or dose % product.dose_step_mg != 0:
            raise InvalidInput(
                "order.step_dose_invalid", from_date=s.from_date, dose=str(s.dose_mg), step=product.dose_step_mg
            )
        steps.append(Step(s.from_date, dose))
    try:
        return check_steps(steps, t.start_date, t.end_date)
    except StepProblem as problem:
        raise InvalidInput(problem.code, **problem.params) from problem


def _valid_parts(t: OrderTerms, product: Product) -> tuple[Part, ...]:
    """A split dose's parts in time order, adding up to the day's dose (rule 18)."""
    if not t.parts:
        return ()
    if t.steps:  # a schedule changes the day's total; which part would change is not written down
        raise InvalidInput("order.split_with_steps")
    parts = []
    for part in t.parts:
        try:
            dose = Decimal(str(part.dose_mg))
        except (InvalidOperation, ValueError) as exc:
            raise InvalidInput("order.split_dose_invalid", dose=str(part.dose_mg), step=product.dose_step_mg) from exc
        if not dose.is_finite() or dose % product.dose_step_mg != 0:
            raise InvalidInput("order.split_dose_invalid", dose=str(part.dose_mg), step=product.dose_step_mg)
        if t.drug == Drug.DISULFIRAM and not part.supervised:
            raise InvalidInput("order.split_antabus_take_home")
        parts.append(Part(part.at, dose, bool(part.supervised)))
    try:
        return check_parts(parts, t.dose_mg)
    except SplitProblem as problem:
        raise InvalidInput(problem.code, **problem.params) from problem


def _dose_changes(p: Prescription) -> list[DoseChange]:
    """A signed version's doses as titration history: its own dose, then its steps while it governed."""
    changes = [DoseChange(p.start_date, p.dose_mg)]
    if p.dose_steps:
        last = p.last_day
        changes += [
            DoseChange(s.from_date, s.dose_mg) for s in parse_steps(p.dose_steps) if last is None or s.from_date <= last
        ]
    return changes


def titration_problems(
    ctx: Ctx, patient_id: int, drug: Drug, dose: Decimal, effective: date, steps: Sequence[Step] = ()
) -> list[Message]:
    """DOMAIN.md rule 2 for a methadone order taking effect on `effective`.

    Tolerance follows the doses actually taken: after a gap since the last dispensed or covered
    day (missed days, or no order at all) the restart or first-day limit applies instead of the
    step limits, whichever order the new dose comes in.
    """
    if drug != Drug.METHADONE:
        return []
    versions = [
        p
        for p in ctx.session.execute(
            select(Prescription).where(
                Prescription.patient_id == patient_id,
                Prescription.drug == Drug.METHADONE,
                Prescription.status.in_(SIGNED),
                Prescription.start_date < effective,
            )
        ).scalars()
        if p.last_day is None or p.last_day >= p.start_date  # superseded before it began: never applied
    ]
    history = [c for p in versions for c in _dose_changes(p)]
    gap = None
    if versions:
        last_taken = ctx.session.execute(
            select(func.max(Slot.slot_date)).where(
                Slot.patient_id == patient_id,
                Slot.drug == Drug.METHADONE,
                Slot.slot_date < effective,
                Slot.status.in_((SlotStatus.DISPENSED, SlotStatus.COVERED)),
            )
        ).scalar()
        since = last_taken or min(p.start_date for p in versions) - timedelta(days=1)
        # Whole days without a dose so far; days still to come are guarded by the missed-day block.
        gap = max(0, (min(effective, ctx.today) - since).days - 1)
    policy = ctx.policy
    if gap is not None and gap >= policy.missed_days_new_start:
        history = []
    restart = bool(history) and gap is not None and gap >= policy.missed_days_restart_limit
    problems = check_methadone_titration(dose, effective, history, policy, restart=restart)
    # Rule 18: every step of a schedule is an increase (checked like one) or a decrease (free).
    history = [c for c in history if c.effective < effective] + [DoseChange(effective, dose)]
    for step in steps:
        problems += check_methadone_titration(step.dose_mg, step.from_date, history, policy)
        history.append(DoseChange(step.from_date, step.dose_mg))
    return problems


def _check_titration(ctx: Ctx, problems: list[Message], override_reason: str | None) -> None:
    if problems and not (override_reason and override_reason.strip()):
        raise InvalidInput("titration.exceeded", problems=problems)


def _overlapping_order(ctx: Ctx, patient_id: int, drug: Drug, start: date, end: date | None) -> Prescription | None:
    """A signed order of the same drug for this patient still in force on or after `start`."""
    stmt = select(Prescription).where(
        Prescription.patient_id == patient_id,
        Prescription.drug == drug,
        Prescription.status == OrderStatus.ACTIVE,
    )
    for p in ctx.session.execute(stmt).scalars():
        last = p.last_day
        if (last is None or last >= start) and (end is None or p.start_date <= end):
            return p
    return None


def _require_consent(ctx: Ctx, patient_id: int, start: date) -> None:
    patient = load_patient(ctx, patient_id)
    problem = consent_problem(patient.birth_date, start, patient.parental_consent_on, patient.own_consent_on)
    if problem:
        raise InvalidInput.of(problem)


def create_order(ctx: Ctx, patient_id: int, terms: OrderTerms) -> Prescription:
    """A new draft order (doctor). One order per drug and patient: a change is a revision."""
    doctor = ctx.require(Role.DOCTOR)
    _require_consent(ctx, patient_id, terms.start_date)
    terms, product = validate_terms(ctx, terms)
    if terms.start_date < ctx.today:
        raise InvalidInput("order.start_in_past", start_date=terms.start_date)
    existing = _overlapping_order(ctx, patient_id, terms.drug, terms.start_date, terms.end_date)
    if existing is not None:
        raise Conflict("order.in_force_revise", order_id=existing.id, drug=terms.drug)
    _check_titration(
        ctx,
        titration_problems(ctx, patient_id, terms.drug, terms.dose_mg, terms.start_date, terms.steps),
        terms.override_reason,
    )
    order = _new_row(ctx, doctor, patient_id, terms, product, version=1, course_start=terms.start_date)
    audit.record(
        ctx, "prescription.create", "prescription", order.id, patient_id=patient_id, detail=_audit_terms(order)
    )
    return order


def _new_row(
    ctx: Ctx,
    doctor: User,
    patient_id: int,
    t: OrderTerms,
    product: str,
    *,
    version: int,
    course_start: date,
    supersedes: Prescription | None = None,
    reason: str | None = None,
    pickup_change_reason: str | None = None,
) -> Prescription:
    order = Prescription(
        patient_id=patient_id,
        drug=t.drug,
        product=product,
        dose_mg=t.dose_mg,
        weekdays=weekdays_to_str(t.weekdays),
        pickup_weekdays=weekdays_to_str(t.pickup_weekdays),
        supervised=t.supervised,
        site_id=t.site_id,
        start_date=t.start_date,
        course_start=course_start,
        end_date=t.end_date,
        indication=t.indication.strip(),
        override_reason=(t.override_reason or "").strip() or None,
        pickup_change_reason=pickup_change_reason,
        dose_steps=format_steps(t.steps),
        dose_parts=format_parts(t.parts),
        version=version,
        supersedes_id=supersedes.id if supersedes else None,
        revision_reason=reason,
        status=OrderStatus.DRAFT,
        created_by_id=doctor.id,
        created_at=ctx.now,
    )
    ctx.session.add(order)
    ctx.session.flush()
    return order


def _audit_terms(p: Prescription) -> dict[str, Any]:
    return {k: v for k, v in signed_content(p).items() if k not in ("signed_by_id", "signed_at")}


def get_order(ctx: Ctx, order_id: int, *, lock: bool = False) -> Prescription:
    stmt = select(Prescription).where(Prescription.id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = ctx.session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise not_found("Order", order_id)
    return order


def read_order(ctx: Ctx, order_id: int) -> Prescription:
    """One order, audited as a read of the patient's record."""
    ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN)
    order = get_order(ctx, order_id)
    audit.record(ctx, "prescription.read", "prescription", order.id, patient_id=order.patient_id)
    return order


def sign_order(
    ctx: Ctx,
    order_id: int,
    password: str,
    *,
    window_override_reason: str | None = None,
    opioid_overlap_reason: str | None = None,
) -> Prescription:
    """Sign a draft with the doctor's password: it becomes active and immutable. Due weekdays without a
    window, or another opioid in force the same day, need the doctor's reason (services/sign_checks)."""
    doctor = ctx.require(Role.DOCTOR)
    order = get_order(ctx, order_id)
    # The patient row serialises signing: two drafts for one drug signed at once cannot both pass
    # the overlap check below.
    ctx.session.execute(select(Patient.id).where(Patient.id == order.patient_id).with_for_update())
    order = get_order(ctx, order_id, lock=True)
    if order.drug.is_opioid and not doctor.can_prescribe_addictive:
        raise Forbidden("order.sign_needs_addictive_right", drug=order.drug, order_id=order.id)
    if not passwords.verify_reentered_password(ctx, doctor, password):
        audit.record_failure(
            ctx,
            "prescription.sign_refused",
            "prescription",
            order.id,
            patient_id=order.patient_id,
            detail={"why": "wrong password"},
        )
        raise InvalidInput("order.sign_wrong_password", keep_changes=True)
    if order.status != OrderStatus.DRAFT:
        raise Conflict("order.not_draft", order_id=order.id, status=order.status)
    previous = get_order(ctx, order.supersedes_id, lock=True) if order.supersedes_id else None
    if order.start_date < ctx.today:
        raise Conflict("order.sign_start_passed", order_id=order.id, start_date=order.start_date)
    if previous is not None and previous.status != OrderStatus.ACTIVE:
        raise Conflict("order.revised_not_in_force", order_id=previous.id, status=previous.status)
    if previous is None:
        clash = _overlapping_order(ctx, order.patient_id, order.drug, order.start_date, order.end_date)
        if clash is not None:
            raise Conflict("order.in_force_revise", order_id=clash.id, drug=order.drug)
    _check_titration(
        ctx,
        titration_problems(
            ctx,
            order.patient_id,
            order.drug,
            order.dose_mg,
            order.start_date,
            parse_steps(order.dose_steps) if order.dose_steps else (),
        ),
        order.override_reason,
    )
    _require_consent(ctx, order.patient_id, order.start_date)
    check_before_signing(
        ctx,
        order,
        doctor,
        window_override_reason=window_override_reason,
        opioid_overlap_reason=opioid_overlap_reason,
    )
    order.status = OrderStatus.ACTIVE
    order.signed_by_id = doctor.id
    order.signed_at = ctx.now
    order.signature = sign_content(ctx.secret, signed_content(order))
    if previous is not None:
        previous.superseded_on = order.start_date
        previous.status = OrderStatus.SUPERSEDED
        # Slots not yet acted on from the effective date now belong to the new version.
        for slot in _open_slots(ctx, previous.id, from_day=order.start_date):
            slot.prescription_id, slot.site_id, slot.updated_at = order.id, order.site_id, ctx.now
    audit.record(
        ctx,
        "prescription.sign",
        "prescription",
        order.id,
        patient_id=order.patient_id,
        detail={"signature": order.signature, "supersedes_id": order.supersedes_id},
    )
    return order


REVISABLE = (
    "drug",
    "product",
    "dose_mg",
    "weekdays",
    "pickup_weekdays",
    "supervised",
    "site_id",
    "end_date",
    "indication",
    "override_reason",
    "steps",
    "parts",
)


def revise_order(ctx: Ctx, order_id: int, changes: dict[str, Any], effective_date: date, reason: str) -> Prescription:
    """A new draft version of an active order, superseding it from `effective_date` once signed."""
    doctor = ctx.require(Role.DOCTOR)
    current = get_order(ctx, order_id)
    if current.status != OrderStatus.ACTIVE:
        raise Conflict("order.revise_not_active", order_id=current.id, status=current.status)
    if not reason or not reason.strip():
        raise InvalidInput("order.revise_reason_required")
    if effective_date < ctx.today:
        raise InvalidInput("order.effective_in_past", effective_date=effective_date)
    if effective_date < current.start_date:
        raise InvalidInput("order.effective_before_start", start_date=current.start_date)
    unknown = set(changes) - set(REVISABLE)
    if unknown:
        raise InvalidInput(
            "order.field_not_revisable", fields=", ".join(sorted(unknown)), revisable=", ".join(REVISABLE)
        )
    if "drug" in changes and Drug(changes["drug"]) != current.drug:
        raise InvalidInput("order.revise_keeps_drug")
    terms = OrderTerms(
        drug=current.drug,
        product=changes.get("product", current.product),
        # A revision ends the remaining steps of a schedule (rule 18): it starts from the dose in force.
        dose_mg=changes.get("dose_mg", current.dose_on(effective_date)),
        weekdays=tuple(changes.get("weekdays", current.weekday_set)),
        pickup_weekdays=tuple(changes["pickup_weekdays"])
        if changes.get("pickup_weekdays") is not None
        else (None if "weekdays" in changes else tuple(current.pickup_weekday_set)),
        supervised=changes.get("supervised", current.supervised),
        site_id=changes.get("site_id", current.site_id),
        start_date=effective_date,
        end_date=changes.get("end_date", current.end_date),
        indication=changes.get("indication", current.indication),
        override_reason=changes.get("override_reason"),
        steps=tuple(changes.get("steps") or ()),
        # A split stays as it was unless the revision changes it or the day's dose.
        parts=tuple(changes["parts"] or ())
        if "parts" in changes
        else (current.parts if "dose_mg" not in changes or Decimal(str(changes["dose_mg"])) == current.dose_mg else ()),
    )
    terms, product = validate_terms(ctx, terms)
    _check_titration(
        ctx,
        titration_problems(ctx, current.patient_id, terms.drug, terms.dose_mg, effective_date, terms.steps),
        terms.override_reason,
    )
    arrangement_changed = (
        weekdays_to_str(terms.pickup_weekdays) != current.pickup_weekdays
        or terms.supervised != current.supervised
        or terms.site_id != current.site_id
    )
    order = _new_row(
        ctx,
        doctor,
        current.patient_id,
        terms,
        product,
        version=current.version + 1,
        course_start=current.course_start,
        supersedes=current,
        reason=reason.strip(),
        # DOMAIN rule 1: every change of pickup arrangement records the medical reason.
        pickup_change_reason=reason.strip() if arrangement_changed else None,
    )
    audit.record(
        ctx,
        "prescription.revise",
        "prescription",
        order.id,
        patient_id=order.patient_id,
        detail=_audit_terms(order) | {"reason": reason.strip(), "revises": current.id},
    )
    return order


@dataclass
class Discontinued:
    order: Prescription
    warnings: list[str]


def _open_slots(
    ctx: Ctx, order_id: int, *, from_day: date, statuses: tuple[SlotStatus, ...] = (SlotStatus.DUE,)
) -> list[Slot]:
    """The order's slots from a day on, locked in date order (the order a dispense locks them in)."""
    return list(
        ctx.session.execute(
            select(Slot)
            .where(Slot.prescription_id == order_id, Slot.slot_date >= from_day, Slot.status.in_(statuses))
            .order_by(Slot.slot_date, Slot.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )


def doses_already_out(ctx: Ctx, order_id: int, from_day: date, why: str) -> list[str]:
    """Warnings about doses of this order from `from_day` on that have left the clinic already."""
    out = _open_slots(ctx, order_id, from_day=from_day, statuses=(SlotStatus.COVERED, SlotStatus.PREPARED))
    taken_home = [s.slot_date.isoformat() for s in out if s.status == SlotStatus.COVERED]
    at_site = [s.slot_date.isoformat() for s in out if s.status == SlotStatus.PREPARED]
    warnings = []
    if taken_home:
        warnings.append(
            f"{len(taken_home)} take-home dose(s) for {', '.join(taken_home)} were already handed "
            f"out {why}: ask the patient to return them."
        )
    if at_site:
        warnings.append(
            f"Dose(s) for {', '.join(at_site)} are prepared at the pickup site {why}: have them returned to the clinic."
        )
    return warnings


def discontinue_order(ctx: Ctx, order_id: int, end_date: date, reason: str) -> Discontinued:
    """Stop an order after `end_date` (the last day a dose is given); a draft is withdrawn instead."""
    ctx.require(Role.DOCTOR)
    order = get_order(ctx, order_id, lock=True)
    if not reason or not reason.strip():
        raise InvalidInput("order.discontinue_reason_required")
    if order.status == OrderStatus.DRAFT:  # never signed: it never applied, so it is withdrawn, not ended
        order.status, order.discontinue_reason = OrderStatus.WITHDRAWN, reason.strip()
        audit.record(
            ctx,
            "prescription.withdraw",
            "prescription",
            order.id,
            patient_id=order.patient_id,
            detail={"reason": reason.strip()},
        )
        return Discontinued(order, [])
    if order.status != OrderStatus.ACTIVE:
        raise Conflict("order.discontinue_not_active", order_id=order.id, status=order.status)
    yesterday = ctx.today - timedelta(days=1)
    if end_date < yesterday:
        raise InvalidInput("order.end_in_past", end_date=end_date)
    if order.last_day is not None and end_date > order.last_day:
        raise InvalidInput("order.end_after_end", end_date=end_date, last_day=order.last_day)
    order.discontinued_on = end_date
    order.discontinue_reason = reason.strip()
    order.status = OrderStatus.DISCONTINUED
    after = end_date + timedelta(days=1)
    for slot in _open_slots(ctx, order.id, from_day=after):
        slot.status, slot.reason, slot.updated_at = SlotStatus.CANCELLED, "order discontinued", ctx.now
    warnings = doses_already_out(ctx, order.id, after, "beyond the end date")
    audit.record(
        ctx,
        "prescription.discontinue",
        "prescription",
        order.id,
        patient_id=order.patient_id,
        detail={"end_date": end_date, "reason": reason.strip()},
    )
    return Discontinued(order, warnings)


def list_orders(ctx: Ctx, patient_id: int) -> list[Prescription]:
    """All versions of a patient's orders, newest first; audited."""
    ctx.require(Role.NURSE, Role.DOCTOR, Role.ADMIN)
    load_patient(ctx, patient_id)
    orders = list(
        ctx.session.execute(
            select(Prescription)
            .where(Prescription.patient_id == patient_id)
            .order_by(Prescription.drug, Prescription.version.desc(), Prescription.id.desc())
        ).scalars()
    )
    audit.record(ctx, "prescription.list", "patient", patient_id, patient_id=patient_id)
    return orders


def drafts_to_sign(ctx: Ctx) -> list[Prescription]:
    """The doctor's queue: drafts waiting for a signature, the doctor's own first, oldest first."""
    doctor = ctx.require(Role.DOCTOR)
    drafts = list(
        ctx.session.execute(
            select(Prescription).where(Prescription.status == OrderStatus.DRAFT).order_by(Prescription.created_at)
        ).scalars()
    )
    drafts.sort(key=lambda p: p.created_by_id != doctor.id)  # stable: the time order stays within each group
    audit.record_list(ctx, "prescription.list_drafts", (p.patient_id for p in drafts))
    return drafts


def governing_orders(
    ctx: Ctx, day: date, *, site_id: int | None = None, patient_ids: list[int] | None = None
) -> list[Prescription]:
    """Signed orders in force on `day` (with their patients loaded), by site or by patient."""
    stmt = (
        select(Prescription)
        .join(Prescription.patient)
        .where(
            Prescription.status.in_(SIGNED),
            Prescription.start_date <= day,
            day <= PRESCRIPTION_OPEN_END,  # the index's bound; the exact conditions follow
            or_(Prescription.end_date.is_(None), Prescription.end_date >= day),
            or_(Prescription.discontinued_on.is_(None), Prescription.discontinued_on >= day),
            or_(Prescription.superseded_on.is_(None), Prescription.superseded_on > day),
        )
    )
    if site_id is not None:
        stmt = stmt.where(Prescription.site_id == site_id)
    if patient_ids is not None:
        stmt = stmt.where(among(ctx.session, Prescription.patient_id, patient_ids))
    return list(ctx.session.execute(stmt.options(contains_eager(Prescription.patient))).scalars())
