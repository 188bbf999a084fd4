"""Staff accounts and their roles (a doctor's right to prescribe addictive medicine, §41)."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.enums import Role
from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    password_hash: Mapped[str] = mapped_column(String(255))
    # site_staff are bound to one site; nurses may have a home site (roster default)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    # autorisationsloven §41: only such a doctor signs methadone/buprenorphine orders
    can_prescribe_addictive: Mapped[bool] = mapped_column(Boolean, default=False)
    authorisation_id: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Logging out of the web UI ends every browser session of the user that began before this moment
    # (a copied cookie stops working).
    sessions_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
