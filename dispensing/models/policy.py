"""The clinic's policy overrides."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base
from dispensing.types import UTCDateTime


class ClinicPolicy(Base):
    """The clinic's policy overrides (one row); absent keys take DOMAIN.md's defaults."""

    __tablename__ = "clinic_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
