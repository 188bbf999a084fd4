"""Patient registration and lookup; every read of a record is audited."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select

from dispensing.enums import Role
from dispensing.errors import Conflict, InvalidInput
from dispensing.models import Patient
from dispensing.rules.cpr import InvalidCpr, parse_cpr
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404

STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)


def register_patient(
    ctx: Ctx,
    *,
    cpr: str,
    name: str,
    children_at_home: bool = False,
    pregnant: bool = False,
    weight_kg: Decimal | None = None,
    first_contact_on: date | None = None,
    parental_consent_on: date | None = None,
    own_consent_on: date | None = None,
) -> Patient:
    """Register by CPR; a malformed CPR is refused (422), a known one is a conflict (409)."""
    ctx.require(*STAFF)
    try:
        parsed = parse_cpr(cpr)
    except InvalidCpr as exc:
        raise InvalidInput.of(exc) from exc
    name = name.strip()
    if not name:
        raise InvalidInput("patient.name_required")
    weight_kg = _weight(weight_kg)
    existing = ctx.session.execute(select(Patient.id).where(Patient.cpr == parsed.digits)).scalar_one_or_none()
    if existing is not None:
        raise Conflict("patient.cpr_registered", patient_id=existing)
    if pregnant and parsed.sex.value == "male":
        raise InvalidInput("patient.pregnant_male_cpr")
    first_contact_on = first_contact_on or ctx.today
    for label, day in (
        ("first_contact_on", first_contact_on),
        ("parental_consent_on", parental_consent_on),
        ("own_consent_on", own_consent_on),
    ):
        _not_future(ctx, label, day)
    patient = Patient(
        cpr=parsed.digits,
        name=name,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        children_at_home=children_at_home,
        pregnant=pregnant,
        weight_kg=weight_kg,
        first_contact_on=first_contact_on,
        parental_consent_on=parental_consent_on,
        own_consent_on=own_consent_on,
        created_at=ctx.now,
    )
    ctx.session.add(patient)
    ctx.session.flush()
    audit.record(
        ctx,
        "patient.create",
        "patient",
        patient.id,
        patient_id=patient.id,
        detail={"children_at_home": children_at_home, "pregnant": pregnant},
    )
    return patient


def _not_future(ctx: Ctx, label: str, day: date | None) -> None:
    if day is not None and day > ctx.today:
        raise InvalidInput("patient.date_in_future", label=label, day=day)


def _weight(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        weight = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidInput("patient.weight_not_number") from exc
    if not weight.is_finite() or not Decimal("1") <= weight <= Decimal("400"):
        raise InvalidInput("patient.weight_implausible", weight_kg=value)
    return weight


def load_patient(ctx: Ctx, patient_id: int) -> Patient:
    """The patient, or 404 (no audit: callers audit what they do with it)."""
    return get_or_404(ctx.session, Patient, patient_id)


def read_patient(ctx: Ctx, patient_id: int) -> Patient:
    """Open a patient's record; audited."""
    ctx.require(*STAFF)
    patient = load_patient(ctx, patient_id)
    audit.record(ctx, "patient.read", "patient", patient.id, patient_id=patient.id)
    return patient


def search_patients(ctx: Ctx, q: str | None, *, limit: int = 50, offset: int = 0) -> list[Patient]:
    """Find by name or by CPR digits (the last four or more); audited with the patients shown."""
    ctx.require(*STAFF)
    stmt = select(Patient).order_by(Patient.name, Patient.id).limit(limit).offset(offset)
    q = (q or "").strip()
    if q:
        digits = q.replace("-", "")
        if digits.isdigit():
            stmt = stmt.where(or_(Patient.cpr.startswith(digits), Patient.cpr.endswith(digits)))
        else:
            stmt = stmt.where(Patient.name.ilike(f"%{q}%"))
    patients = list(ctx.session.execute(stmt).scalars())
    # The query text may be CPR digits: log only that a search happened and whom it showed.
    audit.record_list(ctx, "patient.search", (p.id for p in patients))
    return patients


UPDATABLE = (
    "name",
    "children_at_home",
    "pregnant",
    "weight_kg",
    "first_contact_on",
    "parental_consent_on",
    "own_consent_on",
)
DATES = ("first_contact_on", "parental_consent_on", "own_consent_on")


def update_patient(ctx: Ctx, patient_id: int, changes: dict[str, Any]) -> Patient:
    """Change what staff may change (not the CPR); audited with the fields changed."""
    ctx.require(*STAFF)
    patient = load_patient(ctx, patient_id)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise InvalidInput(
            "patient.field_not_changeable", fields=", ".join(sorted(unknown)), changeable=", ".join(UPDATABLE)
        )
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise InvalidInput("patient.name_required")
        patient.name = name
    if "weight_kg" in changes:
        patient.weight_kg = _weight(changes["weight_kg"])
    if changes.get("pregnant") and patient.sex.value == "male":
        raise InvalidInput("patient.pregnant_male_cpr")
    for flag in ("children_at_home", "pregnant"):
        if flag in changes:
            setattr(patient, flag, bool(changes[flag]))
    for field in DATES:
        if field in changes:
            _not_future(ctx, field, changes[field])
            setattr(patient, field, changes[field])
    audit.record(
        ctx,
        "patient.update",
        "patient",
        patient.id,
        patient_id=patient.id,
        detail={k: changes[k] for k in changes if k != "name"} | ({"name": "changed"} if "name" in changes else {}),
    )
    return patient
