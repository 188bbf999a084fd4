"""Closed days of a site and the doctor's decisions to move a closed day's dose (DOMAIN.md rule 17)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.enums import Drug
from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime

__all__ = ["ClosureMove", "SiteClosure"]


class SiteClosure(Base):
    """A day the admin closed a site, with the reason (besides the public holidays of its rule)."""

    __tablename__ = "site_closures"
    __table_args__ = (UniqueConstraint("site_id", "day", name="uq_site_closures_site_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClosureMove(Base):
    """The doctor's decision: on a day its own site is closed, a patient's dose of a drug is handed
    out at another, open site. Not a sanction: it changes that one day only."""

    __tablename__ = "closure_moves"
    __table_args__ = (UniqueConstraint("patient_id", "drug", "day", name="uq_closure_moves_patient_drug_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    drug: Mapped[Drug] = mapped_column(str_enum(Drug, 32))
    day: Mapped[date] = mapped_column(Date)
    from_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    to_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
