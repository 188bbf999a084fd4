"""Cooperation agreement, breaches and sanctions."""

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CtxDep
from api.schemas import (
    AgreementCreate,
    AgreementRead,
    BreachCreate,
    BreachDecision,
    BreachRead,
    SanctionCreate,
    SanctionLift,
    SanctionRead,
)
from dispensing.errors import NotFound
from dispensing.models import Sanction
from dispensing.services import conduct, letters, sanctions
from dispensing.services.context import Ctx

router = APIRouter(tags=["agreement and sanctions"])


def sanction_read(ctx: Ctx, s: Sanction) -> SanctionRead:
    return SanctionRead(
        id=s.id,
        patient_id=s.patient_id,
        step=s.step.value,
        starts_on=s.starts_on,
        review_on=s.review_on,
        ends_on=s.ends_on,
        reason=s.reason,
        meeting_on=s.meeting_on,
        site_id=s.site_id,
        referral_note=s.referral_note,
        decided_at=s.decided_at,
        lifted_reason=s.lifted_reason,
        in_force_today=sanctions.terms(s).in_force(ctx.today),
        letter_url=f"/sanctions/{s.id}/letter.pdf",
    )


@router.post("/patients/{patient_id}/agreement", status_code=201, response_model=AgreementRead)
def record_agreement(patient_id: int, body: AgreementCreate, ctx: CtxDep):
    return conduct.record_agreement(ctx, patient_id, signed_on=body.signed_on, version=body.version)


@router.get("/patients/{patient_id}/agreement", response_model=AgreementRead)
def read_agreement(patient_id: int, ctx: CtxDep):
    agreement = conduct.read_agreement(ctx, patient_id)
    if agreement is None:
        raise NotFound("agreement.missing")
    return agreement


@router.post("/patients/{patient_id}/breaches", status_code=201, response_model=BreachRead)
def record_breach(patient_id: int, body: BreachCreate, ctx: CtxDep):
    return conduct.record_breach(ctx, patient_id, kind=body.kind, occurred_on=body.occurred_on, note=body.note)


@router.get("/patients/{patient_id}/breaches", response_model=list[BreachRead])
def list_breaches(patient_id: int, ctx: CtxDep):
    return conduct.list_breaches(ctx, patient_id)


@router.get("/breaches/undecided", response_model=list[BreachRead])
def undecided(ctx: CtxDep):
    """Doctor: breaches waiting for a decision at the treatment meeting."""
    return conduct.undecided_breaches(ctx)


@router.post("/breaches/{breach_id}/decide", response_model=BreachRead)
def decide(breach_id: int, body: BreachDecision, ctx: CtxDep):
    """Doctor: decided without a sanction (with a note)."""
    return conduct.decide_without_sanction(ctx, breach_id, body.note)


@router.post("/patients/{patient_id}/sanctions", status_code=201, response_model=SanctionRead)
def decide_sanction(patient_id: int, body: SanctionCreate, ctx: CtxDep):
    """Doctor: a sanction after a treatment meeting; it changes the pickup arrangement while in force."""
    s = sanctions.decide_sanction(
        ctx,
        patient_id,
        step=body.step,
        starts_on=body.starts_on,
        review_on=body.review_on,
        reason=body.reason,
        site_id=body.site_id,
        meeting_on=body.meeting_on,
        breach_ids=body.breach_ids,
        referral_note=body.referral_note,
    )
    return sanction_read(ctx, s)


@router.get("/patients/{patient_id}/sanctions", response_model=list[SanctionRead])
def list_sanctions(patient_id: int, ctx: CtxDep):
    return [sanction_read(ctx, s) for s in sanctions.list_sanctions(ctx, patient_id)]


@router.get("/sanctions/review", response_model=list[SanctionRead])
def due_for_review(ctx: CtxDep):
    """Doctor: sanctions in force whose review date is within a week or has passed."""
    return [sanction_read(ctx, s) for s in sanctions.due_for_review(ctx)]


@router.post("/sanctions/{sanction_id}/lift", response_model=SanctionRead)
def lift(sanction_id: int, body: SanctionLift, ctx: CtxDep):
    return sanction_read(ctx, sanctions.lift_sanction(ctx, sanction_id, ends_on=body.ends_on, reason=body.reason))


@router.get("/sanctions/{sanction_id}/letter.pdf", response_class=Response)
def letter(sanction_id: int, ctx: CtxDep):
    """The decision letter to the patient, in Danish (reason, period, how to complain)."""
    return Response(
        letters.sanction_letter_pdf(ctx, sanction_id),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="afgoerelse-{sanction_id}.pdf"'},
    )
