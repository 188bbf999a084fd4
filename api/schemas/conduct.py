"""Cooperation agreement, breaches and sanctions (DOMAIN.md rule 8)."""

from datetime import date, datetime

from api.schemas.common import Model, Strict


class AgreementCreate(Strict):
    signed_on: date
    version: str = "1"


class AgreementRead(Model):
    id: int
    patient_id: int
    version: str
    signed_on: date
    created_at: datetime


class BreachCreate(Strict):
    kind: str
    occurred_on: date
    note: str = ""


class BreachRead(Model):
    id: int
    patient_id: int
    kind: str
    occurred_on: date
    note: str
    automatic: bool
    source: str | None
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    sanction_id: int | None


class BreachDecision(Strict):
    note: str


class SanctionCreate(Strict):
    step: str
    starts_on: date
    review_on: date
    reason: str
    site_id: int | None = None
    meeting_on: date | None = None
    breach_ids: list[int] = []
    referral_note: str | None = None


class SanctionLift(Strict):
    ends_on: date
    reason: str


class SanctionRead(Model):
    id: int
    patient_id: int
    step: str
    starts_on: date
    review_on: date
    ends_on: date | None
    reason: str
    meeting_on: date | None
    site_id: int | None
    referral_note: str | None
    decided_at: datetime
    lifted_reason: str | None
    in_force_today: bool = False
    letter_url: str
