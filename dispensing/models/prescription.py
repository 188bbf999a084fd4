"""Doctors' orders (ordinationer): signed, immutable, versioned (DOMAIN.md rule 1)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispensing.enums import Drug
from dispensing.models.base import Base, open_end, str_enum, weekdays_from_str
from dispensing.models.patient import Patient
from dispensing.models.site import Site
from dispensing.models.user import User
from dispensing.rules.split import Part, parse_parts
from dispensing.rules.steps import dose_in_force, parse_steps
from dispensing.types import Milligrams, UTCDateTime


class OrderStatus(StrEnum):
    """draft -> active (signed) -> superseded (by a signed revision) | discontinued;
    draft -> withdrawn (never signed, never applied)."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    DISCONTINUED = "discontinued"
    WITHDRAWN = "withdrawn"


class Prescription(Base):
    """A doctor's order (ordination). Immutable once signed: the signature covers its content.

    Lifecycle events after signing (superseded_on, discontinued_on) live in their own
    columns outside the signed content and are audited.
    """

    __tablename__ = "prescriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))  # indexed below
    drug: Mapped[Drug] = mapped_column(str_enum(Drug, 32))
    product: Mapped[str] = mapped_column(String(200))
    dose_mg: Mapped[Decimal] = mapped_column(Milligrams())
    weekdays: Mapped[str] = mapped_column(String(7))
    pickup_weekdays: Mapped[str] = mapped_column(String(7))
    supervised: Mapped[bool] = mapped_column(Boolean)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))  # indexed below
    start_date: Mapped[date] = mapped_column(Date)  # for a revision: its effective date
    course_start: Mapped[date] = mapped_column(Date)  # first day of the first version (missed-day counting)
    end_date: Mapped[date | None] = mapped_column(Date)  # planned end / review date
    indication: Mapped[str] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    pickup_change_reason: Mapped[str | None] = mapped_column(Text)
    # Rule 18: a signed taper or build-up, "YYYY-MM-DD=mg;..." in date order (rules/steps.py); NULL = none
    dose_steps: Mapped[str | None] = mapped_column(Text)
    # Rule 18: the day's dose split in timed parts, "HH:MM=mg:s|t;..." (rules/split.py); NULL = one dose
    dose_parts: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("prescriptions.id"))
    revision_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, 20), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signature: Mapped[str | None] = mapped_column(String(128))
    superseded_on: Mapped[date | None] = mapped_column(Date)  # first day the successor applies
    discontinued_on: Mapped[date | None] = mapped_column(Date)  # last day a dose is given
    discontinue_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(lazy="raise")
    site: Mapped[Site] = relationship(lazy="raise")
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id], lazy="raise")

    @property
    def weekday_set(self) -> frozenset[int]:
        return weekdays_from_str(self.weekdays)

    @property
    def pickup_weekday_set(self) -> frozenset[int]:
        return weekdays_from_str(self.pickup_weekdays)

    @property
    def last_day(self) -> date | None:
        """Last day this version governs: the earliest of end, discontinuation and supersession."""
        candidates = [d for d in (self.end_date, self.discontinued_on) if d is not None]
        if self.superseded_on is not None:
            candidates.append(date.fromordinal(self.superseded_on.toordinal() - 1))
        return min(candidates) if candidates else None

    def dose_on(self, day: date) -> Decimal:
        """The day's dose: the step in force on `day`, else the order's dose."""
        if self.dose_steps is None:
            return self.dose_mg
        return dose_in_force(self.dose_mg, parse_steps(self.dose_steps), day)

    @property
    def parts(self) -> tuple[Part, ...]:
        """The day's dose in parts (split doses), empty for one undivided dose."""
        return parse_parts(self.dose_parts) if self.dose_parts else ()

    @property
    def part_count(self) -> int:
        """Slots a due day has: one per part, at least one."""
        return len(self.parts) or 1

    def dose_for(self, day: date, part: int) -> Decimal:
        """The dose of one slot: the part's share of a split dose, else the day's dose."""
        parts = self.parts
        return parts[part].dose_mg if part < len(parts) else self.dose_on(day)

    def governs(self, day: date) -> bool:
        """True when this signed version is the order in force on `day`."""
        if self.signed_at is None or day < self.start_date:
            return False
        last = self.last_day
        return last is None or day <= last


# The orders that may be in force on a day, by site (every roster) and by patient (urine plans,
# sanctions, moved slots), read without walking every version ever written (see open_end).
PRESCRIPTION_OPEN_END = open_end(Prescription.end_date, Prescription.discontinued_on, Prescription.superseded_on)
# The status is in them so that SQLite prefers them to the status index (every signed order).
Index("ix_prescriptions_site_open_end", Prescription.site_id, Prescription.status, PRESCRIPTION_OPEN_END)
Index("ix_prescriptions_patient_open_end", Prescription.patient_id, Prescription.status, PRESCRIPTION_OPEN_END)
