"""Urine tests (DOMAIN.md rule 7): the doctor's urine orders, the drawn plans and their days, the tests."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base, str_enum
from dispensing.types import UTCDateTime


class UrineOrderStatus(StrEnum):
    """active -> superseded (by the doctor's next urine order) | ended (by the doctor)."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    ENDED = "ended"


class UrineOrder(Base):
    """A doctor's order of urine tests for one patient: a shorter maximum gap and/or extra test days.

    One active order per patient; a new order supersedes the previous one. It applies until
    `ends_on` (inclusive) or until ended. The extra days are future test days: doctors only.
    """

    __tablename__ = "urine_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    max_gap_days: Mapped[int | None] = mapped_column(Integer)  # None: the clinic policy (or none) applies
    extra_days: Mapped[list[str]] = mapped_column(JSON)  # ISO dates
    reason: Mapped[str] = mapped_column(Text)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[UrineOrderStatus] = mapped_column(str_enum(UrineOrderStatus, 20))
    ordered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str | None] = mapped_column(Text)


class UrinePlanStatus(StrEnum):
    """current -> superseded (redrawn after a test, or its inputs changed, or the rule stopped applying)."""

    CURRENT = "current"
    SUPERSEDED = "superseded"


class UrinePlan(Base):
    """One drawing of a patient's unannounced test days. Never deleted: a redraw is a new version.

    `basis` fingerprints the inputs (children at home, urine order, treatment course, attendance
    weekdays, policy gaps); when they change, the plan is redrawn. The seed is derived from the
    server secret, so the days are stable and auditable but not guessable from the ids.
    """

    __tablename__ = "urine_plans"
    __table_args__ = (
        UniqueConstraint("patient_id", "version", name="uq_urine_plans_patient_version"),
        Index("ix_urine_plans_patient_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    version: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))  # hex of rules.urine.seed_for(patient, version, secret)
    start_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date] = mapped_column(Date)
    last_test_on: Mapped[date | None] = mapped_column(Date)  # the last test the drawing counted from
    max_gap_days: Mapped[int | None] = mapped_column(Integer)  # None: extra days only, nothing drawn
    min_gap_days: Mapped[int | None] = mapped_column(Integer)
    attendance_weekdays: Mapped[str] = mapped_column(String(7))
    basis: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(200))
    urine_order_id: Mapped[int | None] = mapped_column(ForeignKey("urine_orders.id"))
    status: Mapped[UrinePlanStatus] = mapped_column(str_enum(UrinePlanStatus, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UrineDayKind(StrEnum):
    START = "start"  # the first test of the rule (treatment start, children at home, a new order)
    DRAWN = "drawn"  # drawn at random within the gaps
    EXTRA = "extra"  # an extra day the doctor ordered
    CARRIED = "carried"  # a missed due day carried into a redrawn plan: it stays due


class UrineDayStatus(StrEnum):
    """planned -> collected (a sample on or after it) | refused (the patient refused) | superseded (redrawn).

    A planned day on or before today is due: it stays due on every later visit until resolved.
    """

    PLANNED = "planned"
    COLLECTED = "collected"
    REFUSED = "refused"
    SUPERSEDED = "superseded"


class UrinePlanDay(Base):
    """A day a sample is due (shown to the window only from that day on)."""

    __tablename__ = "urine_plan_days"
    __table_args__ = (Index("ix_urine_plan_days_plan_status_due", "plan_id", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("urine_plans.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[UrineDayKind] = mapped_column(str_enum(UrineDayKind, 20))
    status: Mapped[UrineDayStatus] = mapped_column(str_enum(UrineDayStatus, 20))
    test_id: Mapped[int | None] = mapped_column(ForeignKey("urine_tests.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UrineOutcome(StrEnum):
    COLLECTED = "collected"  # a sample with panel results
    REFUSED = "refused"  # a breach of the cooperation agreement
    NOT_POSSIBLE = "not_possible"  # could not give one today: stays due, no breach


class UrineTest(Base):
    """A urine test at the window (FHIR Observation per panel item). Never changed once recorded."""

    __tablename__ = "urine_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    outcome: Mapped[UrineOutcome] = mapped_column(str_enum(UrineOutcome, 20))
    taken_on: Mapped[date] = mapped_column(Date)  # collected_on for a sample; the day of a refusal
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"cocaine": "pos", ...}
    side_abuse: Mapped[list[str] | None] = mapped_column(JSON)  # positives not explained by the orders
    prescribed: Mapped[str] = mapped_column(String(200), default="")  # drugs in force when taken, comma list
    reason: Mapped[str | None] = mapped_column(Text)
    was_due: Mapped[bool] = mapped_column(Boolean, default=False)  # it resolved (or, not possible, met) a due day
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    breach_id: Mapped[int | None] = mapped_column(ForeignKey("breaches.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


__all__ = [
    "UrineDayKind",
    "UrineDayStatus",
    "UrineOrder",
    "UrineOrderStatus",
    "UrineOutcome",
    "UrinePlan",
    "UrinePlanDay",
    "UrinePlanStatus",
    "UrineTest",
]
