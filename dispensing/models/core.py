"""Core tables: users, sites, patients, orders, slots, dispenses, alerts, audit. Schema only from migrations/."""

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dispensing.enums import Drug, Role, Sex, SiteKind
from dispensing.types import Milligrams, Promille, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def str_enum(enum_cls: type[StrEnum], length: int = 32) -> Enum:
    """Store a StrEnum by its value as a plain string column (same on SQLite and PostgreSQL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def open_end(*days):
    """The first of these date columns that is set, else 9999-12-31.

    Never earlier than the last day a row is in force, so an index on (key, open_end(...)) lets
    "in force on day D" read only the rows whose bound is D or later instead of the key's whole history
    (every order version or sanction ever written). The far date is a literal, not a bound parameter,
    so that a query's expression is the index's on both databases. SQLite cannot reflect such indexes:
    a later batch migration that rebuilds these tables must create them again (tests/services/
    test_in_force.py fails without them).
    """
    return func.coalesce(*days, literal_column("'9999-12-31'"))


def weekdays_to_str(days) -> str:
    """Canonical storage of a weekday set: sorted digits, 0 = Monday ("0123456")."""
    return "".join(str(d) for d in sorted(set(days)))


@lru_cache(maxsize=256)  # a roster parses the same few strings for every order, several times each
def weekdays_from_str(text: str) -> frozenset[int]:
    return frozenset(int(c) for c in text)


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


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, 20))
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

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


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    cpr: Mapped[str] = mapped_column(String(10), unique=True)  # digits only
    name: Mapped[str] = mapped_column(String(200), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 10))
    children_at_home: Mapped[bool] = mapped_column(Boolean, default=False)
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False)
    weight_kg: Mapped[Decimal | None] = mapped_column(Milligrams())
    first_contact_on: Mapped[date | None] = mapped_column(Date)  # treatment guarantee (SUL §142)
    parental_consent_on: Mapped[date | None] = mapped_column(Date)  # under 18
    own_consent_on: Mapped[date | None] = mapped_column(Date)  # 15-17: the young person's own consent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consultation(Base):
    """A doctor's consultation with a new treatment plan (at least every 6 months, rule 9)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(Text)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class SlotStatus(StrEnum):
    """due -> dispensed | withheld | missed; due -> covered (by a take-home dispense);
    due -> prepared (for an external site) -> dispensed (site handed it out) | missed (returned);
    due -> cancelled (its order stopped governing the day before anything happened).
    A void dispense puts its slots from today on back to due."""

    DUE = "due"
    PREPARED = "prepared"
    DISPENSED = "dispensed"
    WITHHELD = "withheld"
    MISSED = "missed"
    COVERED = "covered"
    CANCELLED = "cancelled"


class Slot(Base):
    """One patient's dose of one drug on one day. Unique per (patient, drug, day), so a
    revision of the order can never open a second slot for a day already dispensed."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("patient_id", "drug", "slot_date", name="uq_slots_patient_drug_day"),
        Index("ix_slots_site_day", "site_id", "slot_date"),
        # The roster's "these patients' slots on this day": without it each patient's whole history is read.
        Index("ix_slots_day_patient", "slot_date", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    drug: Mapped[Drug] = mapped_column(str_enum(Drug, 32))
    slot_date: Mapped[date] = mapped_column(Date)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[SlotStatus] = mapped_column(str_enum(SlotStatus, 20))
    reason: Mapped[str | None] = mapped_column(Text)
    covered_by_dispense_id: Mapped[int | None] = mapped_column(ForeignKey("dispenses.id", use_alter=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BreathTest(Base):
    """A breathalyser reading at the window (FHIR Observation, LOINC 104133-4)."""

    __tablename__ = "breath_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    promille: Mapped[Decimal] = mapped_column(Promille())
    threshold: Mapped[Decimal | None] = mapped_column(Promille())
    outcome: Mapped[str] = mapped_column(String(20))  # allow | withhold
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DispenseStatus(StrEnum):
    """At the window: dispensed. For an external site: prepared -> dispensed (handed out there)
    | returned (not collected, back at the clinic). Either -> void (spilt, broken, wrong dose)."""

    PREPARED = "prepared"
    DISPENSED = "dispensed"
    RETURNED = "returned"
    VOID = "void"


class Dispense(Base):
    """A handout at the window (today's dose plus take-home days), or doses prepared at the
    clinic for an external site, which hands them out and confirms it."""

    __tablename__ = "dispenses"
    __table_args__ = (Index("ix_dispenses_site_first_day", "site_id", "first_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: the database itself guarantees at most one dispense per slot
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    drug: Mapped[Drug] = mapped_column(str_enum(Drug, 32))
    dose_mg: Mapped[Decimal] = mapped_column(Milligrams())
    supervised: Mapped[bool] = mapped_column(Boolean)
    take_home_days: Mapped[int] = mapped_column(Integer, default=0)
    total_mg: Mapped[Decimal] = mapped_column(Milligrams())
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    covers: Mapped[list[str]] = mapped_column(JSON)  # ISO dates, first is the slot's own day
    breath_test_id: Mapped[int | None] = mapped_column(ForeignKey("breath_tests.id"))
    status: Mapped[DispenseStatus] = mapped_column(str_enum(DispenseStatus, 20))
    void_reason: Mapped[str | None] = mapped_column(Text)
    dispensed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dispensed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Chain of custody at an external site (pharmacy, police, home nursing)
    handed_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def number(self) -> str:
        """The dispense number printed on labels."""
        return f"U-{self.id:06d}"


class AlertKind(StrEnum):
    WITHHELD_DOSE = "withheld_dose"
    MISSED_DOSE_BLOCK = "missed_dose_block"
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


class BlockRelease(Base):
    """A doctor's review that lets the next dose through after a run of missed days."""

    __tablename__ = "block_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    drug: Mapped[Drug] = mapped_column(str_enum(Drug, 32))
    released_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClinicPolicy(Base):
    """The clinic's policy overrides (one row); absent keys take DOMAIN.md's defaults."""

    __tablename__ = "clinic_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(Base):
    """Append-only, hash-chained: hash = sha256(prev_hash + canonical entry)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives users
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip (one row). Appenders lock it, so concurrent writers never fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
