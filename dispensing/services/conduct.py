"""Cooperation agreement and breaches (DOMAIN.md rule 8); sanctions live in services/sanctions.py."""

from datetime import date

from sqlalchemy import select

from dispensing.enums import Role
from dispensing.errors import Conflict, InvalidInput
from dispensing.messages import Message, to_json
from dispensing.models import Agreement, Breach, BreachKind
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.patients import load_patient
from dispensing.services.records import get_or_404

STAFF = (Role.NURSE, Role.DOCTOR, Role.ADMIN)


def record_agreement(ctx: Ctx, patient_id: int, *, signed_on: date, version: str = "1") -> Agreement:
    """Staff: the patient signed the cooperation agreement (version, date)."""
    user = ctx.require(*STAFF)
    load_patient(ctx, patient_id)
    if signed_on > ctx.today:
        raise InvalidInput("agreement.signed_in_future", signed_on=signed_on)
    if not version or not version.strip():
        raise InvalidInput("agreement.version_required")
    agreement = Agreement(
        patient_id=patient_id, version=version.strip(), signed_on=signed_on, recorded_by_id=user.id, created_at=ctx.now
    )
    ctx.session.add(agreement)
    ctx.session.flush()
    audit.record(
        ctx,
        "agreement.record",
        "agreement",
        agreement.id,
        patient_id=patient_id,
        detail={"version": agreement.version, "signed_on": signed_on},
    )
    return agreement


def read_agreement(ctx: Ctx, patient_id: int) -> Agreement | None:
    """The newest agreement on file (staff); audited."""
    ctx.require(*STAFF)
    load_patient(ctx, patient_id)
    audit.record(ctx, "agreement.read", "patient", patient_id, patient_id=patient_id)
    return current_agreement(ctx, patient_id)


def current_agreement(ctx: Ctx, patient_id: int) -> Agreement | None:
    return ctx.session.execute(
        select(Agreement)
        .where(Agreement.patient_id == patient_id)
        .order_by(Agreement.signed_on.desc(), Agreement.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def patients_without_agreement(ctx: Ctx, patient_ids: set[int]) -> set[int]:
    """Which of these patients have no cooperation agreement on file."""
    if not patient_ids:
        return set()
    have = set(
        ctx.session.execute(
            select(Agreement.patient_id).where(Agreement.patient_id.in_(patient_ids)).distinct()
        ).scalars()
    )
    return patient_ids - have


def record_breach(
    ctx: Ctx,
    patient_id: int,
    *,
    kind: BreachKind | str,
    occurred_on: date,
    note: str = "",
    note_message: Message | None = None,
    source: str | None = None,
    automatic: bool = False,
) -> Breach:
    """Record a breach. `automatic`: the system records it as the consequence of something else
    (a refused urine sample, a run of no-shows); a breach with the same `source` is recorded once.
    """
    if ctx.actor is not None:
        ctx.require(*STAFF)
    elif not automatic:
        raise InvalidInput("breach.automatic_without_user")
    load_patient(ctx, patient_id)
    try:
        kind = BreachKind(kind)
    except ValueError as exc:
        raise InvalidInput("breach.unknown_kind", kind=kind, kinds=", ".join(k.value for k in BreachKind)) from exc
    if occurred_on > ctx.today:
        raise InvalidInput("breach.occurred_in_future", occurred_on=occurred_on)
    if source:
        existing = ctx.session.execute(
            select(Breach).where(Breach.patient_id == patient_id, Breach.source == source)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    breach = Breach(
        patient_id=patient_id,
        kind=kind,
        occurred_on=occurred_on,
        note=(note or "").strip(),
        note_code=note_message.code if note_message else None,
        note_params=to_json(note_message.params) if note_message else None,
        automatic=automatic,
        source=source,
        recorded_by_id=ctx.actor.id if ctx.actor else None,
        created_at=ctx.now,
    )
    ctx.session.add(breach)
    ctx.session.flush()
    audit.record(
        ctx,
        "breach.record",
        "breach",
        breach.id,
        patient_id=patient_id,
        detail={"kind": kind.value, "occurred_on": occurred_on, "automatic": automatic, "source": source},
    )
    return breach


def list_breaches(ctx: Ctx, patient_id: int) -> list[Breach]:
    ctx.require(*STAFF)
    load_patient(ctx, patient_id)
    rows = list(
        ctx.session.execute(
            select(Breach).where(Breach.patient_id == patient_id).order_by(Breach.occurred_on.desc(), Breach.id.desc())
        ).scalars()
    )
    audit.record(ctx, "breach.list", "patient", patient_id, patient_id=patient_id)
    return rows


def undecided_breaches(ctx: Ctx) -> list[Breach]:
    """The doctor's list: breaches no decision has been taken on yet."""
    ctx.require(Role.DOCTOR)
    breaches = list(
        ctx.session.execute(
            select(Breach).where(Breach.decided_at.is_(None)).order_by(Breach.occurred_on, Breach.id)
        ).scalars()
    )
    audit.record_list(ctx, "breach.list_undecided", (b.patient_id for b in breaches))
    return breaches


def decide_without_sanction(ctx: Ctx, breach_id: int, note: str) -> Breach:
    """Doctor: the treatment meeting looked at the breach and decided on no sanction."""
    doctor = ctx.require(Role.DOCTOR)
    breach = get_or_404(ctx.session, Breach, breach_id)
    if breach.decided_at is not None:
        raise Conflict("breach.decided_already", breach_id=breach_id)
    if not note or not note.strip():
        raise InvalidInput("breach.note_required")
    breach.decided_at, breach.decided_by_id, breach.decision_note = ctx.now, doctor.id, note.strip()
    audit.record(
        ctx,
        "breach.decide",
        "breach",
        breach.id,
        patient_id=breach.patient_id,
        detail={"sanction_id": None, "note": note.strip()},
    )
    return breach
