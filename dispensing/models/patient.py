"""Patients and their doctor's consultations (DOMAIN.md rules 9-12)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.enums import Sex
from dispensing.models.base import Base, str_enum
from dispensing.types import Milligrams, UTCDateTime


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
