"""Pickup labels."""

from datetime import date
from typing import Any

from api.schemas.common import DecimalStr, Model
from dispensing.enums import Drug


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
