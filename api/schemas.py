"""Request and response bodies. Doses go out as decimal strings ("80", "2.5"), never floats."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from dispensing.enums import Drug, Role, SiteKind


def _decimal_str(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


DecimalStr = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str, when_used="always")]
HHMM = Annotated[time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class TokenRead(Model):
    access_token: str
    token_type: str = "bearer"


class UserRead(Model):
    id: int
    username: str
    full_name: str
    role: Role
    site_id: int | None
    can_prescribe_addictive: bool


class WindowIn(Strict):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start: time
    end: time
    drugs: list[Drug] | None = None


class WindowRead(Model):
    weekday: int
    start: HHMM
    end: HHMM
    drugs: list[str] | None


class SiteCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: SiteKind
    address: str = ""


class SiteRead(Model):
    id: int
    name: str
    kind: SiteKind
    address: str
    windows: list[WindowRead] = []


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


class SignRequest(Strict):
    password: str


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
    warnings: list[str] = []


class RosterWindow(Model):
    start: HHMM
    end: HHMM


class RosterItem(Model):
    slot_id: int
    date: date
    patient: PatientBrief
    prescription_id: int
    drug: Drug
    product_name: str
    dose_mg: DecimalStr
    supervised: bool
    window: RosterWindow | None
    windows: list[RosterWindow]
    status: str
    breathalyser_required: bool
    urine_sample_due: bool
    missed_consecutive: int
    blocked_reason: str | None
    take_home_days: int
    sanctions: list[str] = []  # steps in force, e.g. ["daily_pickup"]
    flags: list[str] = []  # under_18, pregnant, children_at_home


class DispenseRequest(Strict):
    breath_alcohol_promille: Decimal | str | None = None
    supervised: bool
    take_home_days: int | None = None


class DispenseCreated(Model):
    dispense_id: int
    status: str = "dispensed"
    drug: Drug
    dose_mg: DecimalStr
    total_mg: DecimalStr
    covers: list[date]
    label_url: str | None


class DispenseWithheld(Model):
    status: str = "withheld"
    reason: str


class SlotRead(Model):
    slot_id: int
    date: date
    patient_id: int
    drug: Drug
    status: str
    reason: str | None


class ReleaseRequest(Strict):
    drug: Drug
    reason: str


class AlertRead(Model):
    id: int
    patient_id: int | None  # None: a site alert (controlled-drug stock)
    site_id: int | None = None
    code: str | None = None
    kind: str
    drug: Drug | None
    slot_id: int | None
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class ResolveRequest(Strict):
    resolution: str


class AuditRead(Model):
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    detail: dict[str, Any]
    hash: str


class AuditVerifyRead(Model):
    ok: bool
    entries: int
    first_bad_seq: int | None = None


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


class PrepareRequest(Strict):
    take_home_days: int | None = None


class ReasonRequest(Strict):
    reason: str


class DispenseRead(Model):
    id: int
    number: str
    slot_id: int
    patient: PatientBrief
    prescription_id: int
    site_id: int
    drug: Drug
    dose_mg: DecimalStr
    total_mg: DecimalStr
    supervised: bool
    take_home_days: int
    covers: list[date]
    status: str
    dispensed_by_id: int
    dispensed_at: datetime
    handed_out_at: datetime | None
    returned_at: datetime | None
    return_reason: str | None
    voided_at: datetime | None
    void_reason: str | None
    label_url: str | None


class LabelCheck(Model):
    valid: bool
    dispense_id: int | None = None
    dispense_number: str | None = None
    copy_no: int | None = None
    patient_name: str | None = None
    cpr_masked: str | None = None
    drug: Drug | None = None
    dose_mg: DecimalStr | None = None
    covers: list[date] = []
    site: dict[str, Any] | None = None
    status: str | None = None


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


# --- urine tests (DOMAIN.md rule 7) ---------------------------------------------------------------


class UrineTestCreate(Strict):
    """A sample (collected_on + results), or refused: true, or not_possible: true with a reason."""

    collected_on: date | None = None
    results: dict[str, Any] | None = None  # {"opioids": "neg"|"pos", ...}; checked by the service
    refused: bool = False
    not_possible: bool = False
    reason: str | None = None


class UrinePanelItem(Model):
    """One panel item as a FHIR-style Observation: substance, result and LOINC code where known."""

    substance: str
    name: str
    result: str
    loinc: str | None


class UrineTestRead(Model):
    id: int
    outcome: str  # collected | refused | not_possible
    date: date  # the day collected (or refused, or not possible)
    collected_on: date | None
    results: dict[str, str] | None
    panel: list[UrinePanelItem]
    side_abuse: list[str]
    reason: str | None
    was_due: bool
    alert_id: int | None
    breach_id: int | None
    recorded_by_id: int
    recorded_at: datetime


class UrineTestRecorded(UrineTestRead):
    sample_due_today: bool  # still due after this (true after "not possible")


class UrinePlannedDay(Model):
    date: date
    kind: str  # start | drawn | extra | carried
    overdue: bool  # due on an earlier day and not yet answered


class UrinePlanRead(Model):
    id: int
    version: int
    start_on: date
    until_on: date
    last_test_on: date | None
    max_gap_days: int | None
    min_gap_days: int | None
    attendance_weekdays: list[int]
    reason: str
    urine_order_id: int | None
    created_at: datetime


class UrineOrderCreate(Strict):
    max_gap_days: int | None = None
    extra_days: list[date] = []
    reason: str
    ends_on: date | None = None


class UrineOrderRead(Model):
    id: int
    patient_id: int
    max_gap_days: int | None
    extra_days: list[date]
    reason: str
    ends_on: date | None
    status: str
    ordered_by_id: int
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class UrineTestsRead(Model):
    """What staff see: results and whether a sample is due today (never the future days)."""

    patient_id: int
    in_programme: bool
    rules: list[str]  # children_at_home | doctor_order
    max_gap_days: int | None
    sample_due_today: bool
    due_since: date | None
    last_sample_on: date | None
    tests: list[UrineTestRead]


class UrineTestsDoctorRead(UrineTestsRead):
    """A doctor's view adds the plan: the open and future test days and the urine order."""

    plan: UrinePlanRead | None
    planned_days: list[UrinePlannedDay]
    urine_order: UrineOrderRead | None


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
