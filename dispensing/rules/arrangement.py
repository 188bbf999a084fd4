"""The effective pickup arrangement of an order on a date, with the sanctions in force (rule 8).

One pure function that the roster, the dispense checks and the labels all use: a sanction is
never an automatic penalty, but while the doctor's decision is in force it changes the
arrangement by itself, and when it ends the order's own arrangement returns.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dispensing.enums import SanctionStep

STEP_NAMES = {
    SanctionStep.DAILY_PICKUP: "daily pickup only (no take-home)",
    SanctionStep.POLICE_PICKUP: "pickup at the police station",
    SanctionStep.TERMINATION: "treatment ended in the municipality",
}


@dataclass(frozen=True)
class SanctionTerms:
    step: SanctionStep
    starts_on: date
    ends_on: date | None  # last day in force; None = until lifted
    site_id: int | None = None  # the police station for POLICE_PICKUP
    review_on: date | None = None
    id: int = 0

    def in_force(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def describe(self) -> str:
        review = f", review {self.review_on}" if self.review_on else ""
        return f"sanction '{self.step.value}' ({STEP_NAMES[self.step]}, from {self.starts_on}{review})"


@dataclass(frozen=True)
class Arrangement:
    site_id: int
    weekdays: frozenset[int]
    pickup_weekdays: frozenset[int]
    supervised: bool
    in_force: tuple[SanctionTerms, ...]  # the sanctions in force on the day, strongest first
    changes_on: date | None = None  # the next day a known sanction starts or ends: take-home stops before it

    @property
    def treatment_ended(self) -> bool:
        return any(s.step == SanctionStep.TERMINATION for s in self.in_force)

    @property
    def no_take_home_because(self) -> SanctionTerms | None:
        """The sanction that forbids take-home on this day, if any."""
        return next((s for s in self.in_force if s.step == SanctionStep.DAILY_PICKUP), None)


def effective_arrangement(
    *,
    site_id: int,
    weekdays: Collection[int],
    pickup_weekdays: Collection[int],
    supervised: bool,
    sanctions: Sequence[SanctionTerms],
    day: date,
) -> Arrangement:
    """Where and how the order's doses are handed out on `day`, given the sanctions."""
    return _arrangement(
        site_id, frozenset(weekdays), frozenset(pickup_weekdays), bool(supervised), tuple(sanctions), day
    )


# A roster asks this for ~400 orders that share a handful of schedules and mostly no sanction: the
# answer (immutable) is worked out once per distinct question.
@lru_cache(maxsize=4096)
def _arrangement(
    site_id: int,
    due: frozenset[int],
    pickup: frozenset[int],
    supervised: bool,
    sanctions: tuple[SanctionTerms, ...],
    day: date,
) -> Arrangement:
    active = tuple(
        sorted(
            (s for s in sanctions if s.in_force(day)),
            key=lambda s: (list(SanctionStep).index(s.step), s.starts_on, s.id),
            reverse=True,
        )
    )
    if any(s.step == SanctionStep.DAILY_PICKUP for s in active):
        pickup, supervised = due, True  # every due dose is picked up and taken supervised
    stations = [s.site_id for s in active if s.step == SanctionStep.POLICE_PICKUP and s.site_id is not None]
    if stations:
        site_id = stations[0]  # the most recent decision names the station
    real = [s for s in sanctions if s.ends_on is None or s.ends_on >= s.starts_on]  # lifted before it began: none
    changes = [s.starts_on for s in real if s.starts_on > day]
    changes += [s.ends_on + timedelta(days=1) for s in real if s.ends_on is not None and s.ends_on >= day]
    return Arrangement(
        site_id=site_id,
        weekdays=due,
        pickup_weekdays=pickup,
        supervised=supervised,
        in_force=active,
        changes_on=min(changes, default=None),
    )
