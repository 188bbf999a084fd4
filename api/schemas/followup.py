"""Consultations, the treatment guarantee and the SIB report."""

from datetime import date

from api.schemas.common import Model, Strict
from api.schemas.patients import PatientBrief


class ConsultationCreate(Strict):
    held_on: date
    plan: str


class ConsultationRead(Model):
    id: int
    patient_id: int
    held_on: date
    plan: str
    doctor_id: int


class ConsultationDue(Model):
    patient: PatientBrief
    due_on: date
    last_on: date | None


class GuaranteeRead(Model):
    patient: PatientBrief
    first_contact_on: date
    deadline: date
    treatment_started: bool
    consultation_held: bool


class SibRowRead(Model):
    cpr: str
    drug: str
    product: str
    prescriber_authorisation_id: str | None
    first_day: date
    last_day: date
