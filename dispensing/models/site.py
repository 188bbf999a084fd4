"""Sites (clinic, pharmacy, police station, home nursing) and their weekly dispensing windows."""

from datetime import datetime, time

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Time,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispensing.enums import Drug, SiteKind
from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, 20))
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Rule 17: closed on Danish public holidays unless the admin keeps the site open (e.g. a police station)
    danish_public_holidays: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    windows: Mapped[list["DispensingWindow"]] = relationship(
        lazy="raise", order_by="(DispensingWindow.weekday, DispensingWindow.start)"
    )


class DispensingWindow(Base):
    """A weekly opening of a site's window, optionally for certain drugs only."""

    __tablename__ = "dispensing_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    drugs: Mapped[str | None] = mapped_column(String(200))  # comma list; NULL = all drugs

    def serves(self, drug: Drug) -> bool:
        return self.drugs is None or drug.value in self.drugs.split(",")
