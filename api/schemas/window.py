"""The dispensing window: roster, dispense, slots, missed-dose releases, custody of prepared doses."""

from datetime import date, datetime
from decimal import Decimal

from api.schemas.common import HHMM, DecimalStr, Model, Strict
from api.schemas.patients import PatientBrief
from dispensing.enums import Drug


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
    outside_window: bool = False  # due today, and no window for its drug is open at this minute
    part: int = 0  # a split dose (rule 18): which part this slot is (0, 1, ...)
    part_time: HHMM | None = None  # the part's time of day
    sanctions: list[str] = []  # steps in force, e.g. ["daily_pickup"]
    flags: list[str] = []  # under_18, pregnant, children_at_home
    recorded_afterwards: bool = False  # handed out from the paper sheet, entered later


class DispenseRequest(Strict):
    breath_alcohol_promille: Decimal | str | None = None
    supervised: bool
    take_home_days: int | None = None
    outside_window_reason: str | None = None  # required outside every window for the drug (rule 14)
    # A paper record entered afterwards: the time on the contingency sheet, with its UTC offset.
    given_at: datetime | None = None


class RecordedBy(Model):
    id: int
    username: str
    full_name: str


class DispenseCreated(Model):
    dispense_id: int
    status: str = "dispensed"
    drug: Drug
    dose_mg: DecimalStr
    total_mg: DecimalStr
    covers: list[date]
    label_url: str | None
    given_at: datetime
    recorded_at: datetime
    recorded_by: RecordedBy
    recorded_afterwards: bool


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
    given_at: datetime  # when the dose was handed out (= dispensed_at)
    recorded_at: datetime  # when the record was entered
    recorded_by: RecordedBy
    recorded_afterwards: bool
    handed_out_at: datetime | None
    returned_at: datetime | None
    return_reason: str | None
    voided_at: datetime | None
    void_reason: str | None
    void_witness_id: int | None = None
    outside_window_reason: str | None = None
    label_url: str | None
