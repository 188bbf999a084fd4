"""What one printed label shows: the renderer's input, built by the dispense service."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class LabelData:
    """One take-home bottle or pack: everything printed on its label."""

    dispense_id: int
    dispense_number: str  # human dispense number printed on the label, e.g. "U-000123"
    copy_no: int  # 1-based bottle/pack number
    copies: int  # total bottles/packs in this dispense
    patient_name: str
    patient_cpr: str  # full "DDMMYY-SSSS" (printed on the physical label, as pharmacy labels do)
    drug: str  # code, e.g. "methadone"
    drug_name: str  # display name, e.g. "Metadon"
    product: str  # e.g. "Metadon DAK oral opløsning 1 mg/ml"
    strength: str  # e.g. "1 mg/ml"
    form: str  # e.g. "oral opløsning"
    dose_mg: Decimal  # per day
    dose_ml: Decimal | None  # per day, for oral solution (None otherwise)
    covers: tuple[date, ...]  # the dates this bottle/pack covers
    total_mg: Decimal
    total_ml: Decimal | None
    site_name: str  # pickup site
    prescriber: str
    dispensed_by: str
    dispensed_on: date
    token: str  # the signed QR token (see tokens.py)
    recorded_afterwards: bool = False  # handed out from the paper sheet, entered later

    def __post_init__(self) -> None:
        # A label that cannot be printed correctly must fail here, not on paper.
        if not self.covers:
            raise ValueError("a label must cover at least one day")
        if len(set(self.covers)) != len(self.covers):
            raise ValueError("a label covers each day at most once")
        if not 1 <= self.copy_no <= self.copies:
            raise ValueError(f"copy_no {self.copy_no} is outside 1..{self.copies}")
