"""Failed password attempts: the throttle's state, shared by every server process through the database."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base
from dispensing.types import UTCDateTime


class AuthFailure(Base):
    """One wrong password (a login, or a re-entry when signing or witnessing).

    The user name and the client address are kept only as keyed hashes: a "user name" is often a
    password typed in the wrong field, and neither is needed in clear to count attempts.
    """

    __tablename__ = "auth_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_key: Mapped[str] = mapped_column(String(32))
    address_key: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(16))  # login | reentry

    __table_args__ = (
        Index("ix_auth_failures_user_key_at", "user_key", "at"),
        Index("ix_auth_failures_address_key_at", "address_key", "at"),
    )


__all__ = ["AuthFailure"]
