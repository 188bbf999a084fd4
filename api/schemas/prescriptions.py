"""Doctors' orders and the drug catalogue."""

from datetime import date, datetime
from datetime import time as time_of_day
from decimal import Decimal

from pydantic import model_validator

from api.schemas.common import HHMM, DecimalStr, Model, Strict
from api.schemas.corrections import SignOverrideRead
from dispensing.enums import Drug


class DoseStep(Strict):
    """A step of a dose schedule (rule 18): the day's dose from this date until the next step."""

    from_date: date
    dose_mg: Decimal


class DoseStepRead(Model):
    from_date: date
    dose_mg: DecimalStr


class DosePart(Strict):
    """A part of a split dose (rule 18): its own slot on the roster, supervised or taken home."""

    time: time_of_day | None = None
    dose_mg: Decimal
    supervised: bool = True


class DosePartRead(Model):
    time: HHMM | None
    dose_mg: DecimalStr
    supervised: bool


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
    steps: list[DoseStep] = []  # a signed taper or build-up
    doses: list[DosePart] = []  # a split dose: parts adding up to dose_mg


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
    steps: list[DoseStep] | None = None  # the revision's own schedule; the old one's remaining steps end
    doses: list[DosePart] | None = None  # a new split ([] = undivided); kept when neither it nor the dose changes

    @model_validator(mode="after")
    def no_nulls_where_a_value_is_needed(self):
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None and f not in NULLABLE_ON_REVISE)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null: leave the field out to keep the current value")
        return self


NULLABLE_ON_REVISE = {"end_date", "override_reason", "steps", "doses"}


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
    steps: list[DoseStepRead] = []
    doses: list[DosePartRead] = []
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
