"""Closed days of sites and the closure plan (rule 17)."""

from datetime import date

from pydantic import Field

from api.schemas.common import DecimalStr, Model, Strict
from api.schemas.patients import PatientBrief
from dispensing.enums import Drug

__all__ = ["ClosedDayRead", "ClosureIn", "ClosureMoveIn", "ClosureMoveRead", "ClosurePlanItem", "HolidayRule"]


class ClosureIn(Strict):
    date: date
    reason: str = Field(min_length=1, max_length=500)


class ClosedDayRead(Model):
    date: date
    reason: str
    source: str  # "holiday" | "added"


class HolidayRule(Strict):
    danish_public_holidays: bool


class ClosurePlanItem(Model):
    date: date
    closed_reason: str
    site_id: int
    patient: PatientBrief
    prescription_id: int
    drug: Drug
    dose_mg: DecimalStr
    status: str  # "take_home" | "moved" | "unresolved"
    pickup_date: date | None  # take_home: the last open day before, when the doses are handed out
    moved_to_site_id: int | None
    unresolved_reason: str | None  # supervised_only | antabus | no_take_home_sanction | span_too_long | ...
    done: bool  # already handed out / covered


class ClosureMoveIn(Strict):
    prescription_id: int
    date: date
    site_id: int  # the open clinic that hands the dose out that day
    reason: str = Field(min_length=1)


class ClosureMoveRead(Model):
    id: int
    patient_id: int
    drug: Drug
    date: date
    from_site_id: int
    to_site_id: int
    reason: str
