"""Patient records (CPR masked in lists)."""

from datetime import date
from decimal import Decimal

from pydantic import Field

from api.schemas.common import DecimalStr, Model, Strict


class PatientCreate(Strict):
    cpr: str
    name: str = Field(min_length=1, max_length=200)
    children_at_home: bool = False
    pregnant: bool = False
    weight_kg: Decimal | None = None
    first_contact_on: date | None = None
    parental_consent_on: date | None = None
    own_consent_on: date | None = None


class PatientUpdate(Strict):
    name: str | None = None
    children_at_home: bool | None = None
    pregnant: bool | None = None
    weight_kg: Decimal | None = None
    first_contact_on: date | None = None
    parental_consent_on: date | None = None
    own_consent_on: date | None = None


class PatientRead(Model):
    id: int
    cpr: str
    cpr_masked: str
    birth_date: date
    sex: str
    name: str
    children_at_home: bool
    pregnant: bool
    weight_kg: DecimalStr | None
    first_contact_on: date | None = None
    parental_consent_on: date | None = None
    own_consent_on: date | None = None
    flags: list[str] = []


class PatientListItem(Model):
    id: int
    name: str
    cpr_masked: str
    birth_date: date


class PatientBrief(Model):
    id: int
    name: str
    cpr_masked: str
