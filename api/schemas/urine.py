"""Urine tests (DOMAIN.md rule 7)."""

from datetime import date, datetime
from typing import Any

from api.schemas.common import Model, Strict


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
