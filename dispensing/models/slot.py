"""The window: a slot per patient, drug and day, its breath tests, its dispense, missed-dose releases."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.enums import Drug
from dispensing.models.base import Base, str_enum
from dispensing.types import Milligrams, Promille, UTCDateTime


class SlotStatus(StrEnum):
    """due -> dispensed | withheld | missed; due -> covered (by a take-home dispense);
    due -> prepared (for an external site) -> dispensed (site handed it out) | missed (returned);
    due -> cancelled (its order stopped governing the day before anything happened).
    A void dispense puts its slots from today on back to due. Corrections the same day (rule 13):
    withheld -> due, or dispensed with its dispense voided -> due (the doctor re-opens);
    missed by a no-show -> due (the nurse undoes it)."""

    DUE = "due"
    PREPARED = "prepared"
    DISPENSED = "dispensed"
    WITHHELD = "withheld"
    MISSED = "missed"
    COVERED = "covered"
    CANCELLED = "cancelled"


class Slot(Base):
    """One patient's dose of one drug on one day (or one part of it, for a split dose). Unique per
    (patient, drug, day, part), so a revision of the order can never open a second slot for a dose
    already dispensed."""

    __tablename__ = "slots"
    __table_args__ = (
        # A split dose has a slot per part (rule 18); an undivided dose is part 0.
        UniqueConstraint("patient_id", "drug", "slot_date", "part", name="uq_slots_patient_drug_day_part"),
        Index("ix_slots_site_day", "site_id", "slot_date"),
        # The roster's "these patients' slots on this day": without it each patient's whole history is read.
        Index("ix_slots_day_patient", "slot_date", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    drug: Mapped[Drug] = mapped_column(str_enum(Drug, 32))
    slot_date: Mapped[date] = mapped_column(Date)
    part: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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


IN_EFFECT = (DispenseStatus.PREPARED, DispenseStatus.DISPENSED)
IN_EFFECT_SQL = "status IN ('prepared', 'dispensed')"


class Dispense(Base):
    """A handout at the window (today's dose plus take-home days), or doses prepared at the
    clinic for an external site, which hands them out and confirms it."""

    __tablename__ = "dispenses"
    __table_args__ = (
        Index("ix_dispenses_site_first_day", "site_id", "first_day"),
        Index("ix_dispenses_recorded_at", "recorded_at"),  # the doctor's list of the day's paper records
        # At most one dispense IN EFFECT per slot, guaranteed by the database itself even under concurrent
        # requests; a voided or returned one is history, and the slot may be dispensed or prepared again.
        Index(
            "uq_dispenses_slot_in_effect",
            "slot_id",
            unique=True,
            sqlite_where=text(IN_EFFECT_SQL),
            postgresql_where=text(IN_EFFECT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
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
    # When the dose was handed out (prepared, for a site). At the window that is the moment of the
    # record; a paper record entered afterwards (the system was down) carries the time on the sheet.
    dispensed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When and by whom the record was entered into the system.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Chain of custody at an external site (pharmacy, police, home nursing)
    handed_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a dose already handed over (spilt at the window) is voided before a witness
    void_witness_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # why the nurse handed it out outside every window for the drug (listed on the doctor's desk)
    outside_window_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def in_effect(self) -> bool:
        """Prepared or handed out: not voided, not returned."""
        return self.status in IN_EFFECT

    @property
    def given_at(self) -> datetime:
        """When the dose was handed out (the API's name for dispensed_at)."""
        return self.dispensed_at

    @property
    def recorded_afterwards(self) -> bool:
        """Entered later from the paper contingency sheet ("registreret efterfølgende")."""
        return self.recorded_at > self.dispensed_at

    @property
    def number(self) -> str:
        """The dispense number printed on labels."""
        return f"U-{self.id:06d}"


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
