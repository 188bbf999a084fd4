"""Cooperation agreement, breaches and sanctions (DOMAIN.md rule 8)."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.enums import SanctionStep
from dispensing.models.base import Base, open_end, str_enum
from dispensing.types import UTCDateTime


class Agreement(Base):
    """The signed cooperation agreement (samarbejdsaftale) about attendance and behaviour."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[str] = mapped_column(String(40))
    signed_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BreachKind(StrEnum):
    MISSED_PICKUPS = "missed_pickups"
    THREATS_OR_VIOLENCE = "threats_or_violence"
    SALE_OR_HANDOVER = "sale_or_handover"
    SIDE_ABUSE = "side_abuse"
    REFUSED_URINE_SAMPLE = "refused_urine_sample"
    OTHER = "other"


class Breach(Base):
    """A breach of the agreement. open -> decided (a sanction, or a decision of no sanction)."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    kind: Mapped[BreachKind] = mapped_column(str_enum(BreachKind, 40))
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    # An automatic note as a code and its values (messages.to_json), so the desk shows it in Danish.
    note_code: Mapped[str | None] = mapped_column(String(80))
    note_params: Mapped[dict | None] = mapped_column(JSON)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # recorded by the system itself
    source: Mapped[str | None] = mapped_column(String(80))  # e.g. "urine_test:12", "no_shows:2026-03-05"
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    sanction_id: Mapped[int | None] = mapped_column(ForeignKey("sanctions.id"))


class Sanction(Base):
    """A doctor's documented decision after a treatment meeting: in force from starts_on until
    lifted (ends_on = last day in force); review_on is when the doctor looks at it again."""

    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    step: Mapped[SanctionStep] = mapped_column(str_enum(SanctionStep, 20))
    starts_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    meeting_on: Mapped[date | None] = mapped_column(Date)  # the treatment meeting that decided it
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))  # the police station
    referral_note: Mapped[str | None] = mapped_column(Text)  # termination: free-choice referral
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_reason: Mapped[str | None] = mapped_column(Text)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Every roster asks which patients a police-pickup sanction sends to its site on the day: read the
# sanctions that may still be in force there, not the site's whole history (see open_end).
SANCTION_OPEN_END = open_end(Sanction.ends_on)
Index("ix_sanctions_site_open_end", Sanction.site_id, SANCTION_OPEN_END)
