"""The doctor's follow-up lists: consultations due, the treatment guarantee, the SIB report."""

import re

from fastapi import APIRouter, Query

from api.deps import CtxDep
from api.schemas import ConsultationCreate, ConsultationDue, ConsultationRead, GuaranteeRead, PatientBrief, SibRowRead
from api.schemas.common import MAX_DAY, MIN_DAY
from dispensing.errors import InvalidInput
from dispensing.models import Patient
from dispensing.rules.cpr import mask_cpr
from dispensing.services import followup

router = APIRouter(tags=["follow-up"])


def brief(p: Patient) -> PatientBrief:
    return PatientBrief(id=p.id, name=p.name, cpr_masked=mask_cpr(p.cpr))


@router.post("/patients/{patient_id}/consultations", status_code=201, response_model=ConsultationRead)
def record(patient_id: int, body: ConsultationCreate, ctx: CtxDep):
    """Doctor: a consultation with a new treatment plan."""
    return followup.record_consultation(ctx, patient_id, held_on=body.held_on, plan=body.plan)


@router.get("/patients/{patient_id}/consultations", response_model=list[ConsultationRead])
def history(patient_id: int, ctx: CtxDep):
    return followup.list_consultations(ctx, patient_id)


@router.get("/followup/consultations-due", response_model=list[ConsultationDue])
def consultations_due(ctx: CtxDep):
    """Doctor: substitution patients whose 6-monthly consultation is due within two weeks or overdue."""
    return [
        ConsultationDue(patient=brief(d.patient), due_on=d.due_on, last_on=d.last_on)
        for d in followup.consultations_due(ctx)
    ]


@router.get("/followup/treatment-guarantee", response_model=list[GuaranteeRead])
def guarantee(ctx: CtxDep):
    """Doctor/admin: first contacts still waiting for a start or a consultation (14-day guarantee)."""
    return [
        GuaranteeRead(
            patient=brief(g.patient),
            first_contact_on=g.first_contact_on,
            deadline=g.deadline,
            treatment_started=g.treatment_started,
            consultation_held=g.consultation_held,
        )
        for g in followup.treatment_guarantee(ctx)
    ]


@router.get("/reports/sib", response_model=list[SibRowRead])
def sib(ctx: CtxDep, month: str = Query(..., description="YYYY-MM")):
    """The month's substitution treatment for the national register (SIB); contains full CPR numbers."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise InvalidInput("followup.month_format")
    year, mm = map(int, month.split("-"))
    if not (MIN_DAY.year <= year <= MAX_DAY.year and 1 <= mm <= 12):
        raise InvalidInput("report.month_out_of_range", month=month, first=MIN_DAY.year, last=MAX_DAY.year)
    return [SibRowRead(**vars(r)) for r in followup.sib_report(ctx, year, mm)]
