"""Corrections at the window (DOMAIN rules 13-15): re-open, undo a no-show, void before a witness."""

from datetime import date, datetime

from api.schemas.common import Model, Strict


class CorrectionRequest(Strict):
    reason: str


class NoShowRequest(Strict):
    reason: str | None = None  # required while the patient's window that day is still ahead
    given_at: datetime | None = None  # a no-show noted on the paper sheet, entered afterwards


class SignOverrideRead(Model):
    kind: str  # no_window | opioid_overlap
    reason: str
    detail: dict


class OutsideWindowRead(Model):
    dispense_id: int
    slot_id: int
    date: date
    patient_id: int
    patient_name: str
    drug: str
    site_id: int
    dispensed_at: str
    dispensed_by: str
    reason: str
