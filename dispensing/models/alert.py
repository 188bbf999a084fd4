"""What the window flags for the doctor to review."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.enums import Drug
from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime


class AlertKind(StrEnum):
    WITHHELD_DOSE = "withheld_dose"
    MISSED_DOSE_BLOCK = "missed_dose_block"
    PAPER_RECORD_REFUSED = "paper_record_refused"  # given from the contingency sheet, refused by a rule
    POSITIVE_URINE = "positive_urine"  # side abuse in a urine sample (services/urine.py)
    STOCK_NEGATIVE = "stock_negative"  # site alert (no patient): rule 16
    STOCK_COUNT_DIFFERENCE = "stock_count_difference"


class Alert(Base):
    """Something the window flags for the doctor to review. open -> resolved."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)  # None: a site alert
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(40))
    drug: Mapped[Drug | None] = mapped_column(str_enum(Drug, 32))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    message: Mapped[str] = mapped_column(Text)
    # A message by code (dispensing/messages) with its values, so each screen says it in its language.
    code: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
