"""Decisions a doctor records to sign an order despite a warning (DOMAIN.md rules 14 and 15)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime


class SignOverrideKind(StrEnum):
    NO_WINDOW = "no_window"  # due weekdays without a window for the drug at the site
    OPIOID_OVERLAP = "opioid_overlap"  # another opioid in force on the same day (a planned switch)


class SignOverride(Base):
    """Why the doctor signed an order although a rule flagged it; kept with the order."""

    __tablename__ = "sign_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id"), index=True)
    kind: Mapped[SignOverrideKind] = mapped_column(str_enum(SignOverrideKind, 20))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # what was flagged: weekdays, or the other order
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
