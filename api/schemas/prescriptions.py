"""Doctors' orders and the drug catalogue."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import model_validator

from api.schemas.common import DecimalStr, Model, Strict
from api.schemas.corrections import SignOverrideRead
from dispensing.enums import Drug


class PrescriptionCreate(Strict):
    patient_id: int
    drug: Drug
    product: str | None = None
    dose_mg: Decimal
    weekdays: list[int] = [0, 1, 2, 3, 4, 5, 6]
    pickup_weekdays: list[int] | None = None
    supervised: bool = True
    site_id: int
    start_date: date
    end_date: date | None = None
    indication: str
    override_reason: str | None = None


class PrescriptionRevise(Strict):
    """Only the fields given change; null is allowed only where it means something (no end date,
    no override reason)."""

    effective_date: date
    reason: str
    product: str | None = None
    dose_mg: Decimal | None = None
    weekdays: list[int] | None = None
    pickup_weekdays: list[int] | None = None
    supervised: bool | None = None
    site_id: int | None = None
    end_date: date | None = None
    indication: str | None = None
    override_reason: str | None = None

    @model_validator(mode="after")
    def no_nulls_where_a_value_is_needed(self):
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None and f not in NULLABLE_ON_REVISE)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null: leave the field out to keep the current value")
        return self


NULLABLE_ON_REVISE = {"end_date", "override_reason"}


NULLABLE_ON_REVISE = {"end_date", "override_reason"}


class SignRequest(Strict):
    password: str
    window_override_reason: str | None = None  # due weekdays without a window for the drug at the site
    opioid_overlap_reason: str | None = None  # another opioid in force the same days (a planned switch)


class DiscontinueRequest(Strict):
    end_date: date
    reason: str


class PrescriptionRead(Model):
    id: int
    patient_id: int
    drug: Drug
    product: str
    product_name: str
    dose_mg: DecimalStr
    dose_ml: DecimalStr | None
    weekdays: list[int]
    pickup_weekdays: list[int]
    take_home: bool
    supervised: bool
    site_id: int
    start_date: date
    end_date: date | None
    indication: str
    override_reason: str | None
    pickup_change_reason: str | None
    version: int
    supersedes_id: int | None
    revision_reason: str | None
    status: str
    created_at: datetime
    signed_by: str | None
    signed_at: datetime | None
    signature: str | None
    signature_valid: bool | None
    superseded_on: date | None
    discontinued_on: date | None
    discontinue_reason: str | None
    sign_overrides: list[SignOverrideRead] = []  # the doctor's reasons to sign despite a flag
    warnings: list[str] = []


class ProductRead(Model):
    code: str
    name: str
    strength: str
    form: str
    dose_step_mg: DecimalStr
    mg_per_ml: DecimalStr | None


class DrugRead(Model):
    code: Drug
    name: str
    controlled: bool
    max_dose_mg: DecimalStr
    breathalyser_required: bool
    products: list[ProductRead]
