"""Patients: registration and lookup (CPR masked in lists)."""

from datetime import date

from fastapi import APIRouter, Query

from api.deps import CtxDep
from api.schemas import PatientCreate, PatientListItem, PatientRead, PatientUpdate
from dispensing.models import Patient
from dispensing.rules.cpr import mask_cpr
from dispensing.rules.special import patient_flags
from dispensing.services import patients as svc

router = APIRouter(tags=["patients"])


def patient_read(p: Patient, today: date) -> PatientRead:
    return PatientRead(
        id=p.id,
        cpr=f"{p.cpr[:6]}-{p.cpr[6:]}",
        cpr_masked=mask_cpr(p.cpr),
        birth_date=p.birth_date,
        sex=p.sex.value,
        name=p.name,
        children_at_home=p.children_at_home,
        pregnant=p.pregnant,
        weight_kg=p.weight_kg,
        first_contact_on=p.first_contact_on,
        parental_consent_on=p.parental_consent_on,
        own_consent_on=p.own_consent_on,
        flags=patient_flags(
            birth_date=p.birth_date, day=today, pregnant=p.pregnant, children_at_home=p.children_at_home
        ),
    )


@router.post("/patients", status_code=201, response_model=PatientRead)
def register(body: PatientCreate, ctx: CtxDep):
    return patient_read(svc.register_patient(ctx, **body.model_dump()), ctx.today)


@router.get("/patients/{patient_id}", response_model=PatientRead)
def read(patient_id: int, ctx: CtxDep):
    return patient_read(svc.read_patient(ctx, patient_id), ctx.today)


@router.patch("/patients/{patient_id}", response_model=PatientRead)
def update(patient_id: int, body: PatientUpdate, ctx: CtxDep):
    """Change name, children at home, pregnancy or weight (the CPR never changes)."""
    return patient_read(svc.update_patient(ctx, patient_id, body.model_dump(exclude_unset=True)), ctx.today)


@router.get("/patients", response_model=list[PatientListItem])
def search(ctx: CtxDep, q: str | None = None, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)):
    """Search by name, or by CPR digits (first six or last four); CPR is shown masked."""
    return [
        PatientListItem(id=p.id, name=p.name, cpr_masked=mask_cpr(p.cpr), birth_date=p.birth_date)
        for p in svc.search_patients(ctx, q, limit=limit, offset=offset)
    ]
