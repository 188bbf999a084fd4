"""Dose schedules: an order's signed, dated steps of a taper or build-up (DOMAIN.md rule 18).

A step (from_date, dose_mg) sets the day's dose from its date until the next step; before the first
step the order's own dose applies. Increases are checked step by step against the titration limits
(rules/titration.py); decreases are free.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Step:
    from_date: date
    dose_mg: Decimal


def format_steps(steps: Sequence[Step]) -> str | None:
    """The canonical stored (and signed) form, None for no steps."""
    if not steps:
        return None
    return ";".join(f"{s.from_date.isoformat()}={format(s.dose_mg.normalize(), 'f')}" for s in steps)


@lru_cache(maxsize=1024)  # a roster parses the same few schedules for many orders
def parse_steps(text: str) -> tuple[Step, ...]:
    steps = []
    for part in text.split(";"):
        day, dose = part.split("=")
        steps.append(Step(date.fromisoformat(day), Decimal(dose)))
    return tuple(steps)


def dose_in_force(base_mg: Decimal, steps: Sequence[Step], day: date) -> Decimal:
    """The dose on `day`: the last step begun by then, else the order's own dose."""
    dose = base_mg
    for step in steps:
        if step.from_date > day:
            break
        dose = step.dose_mg
    return dose


class StepProblem(Exception):
    """A schedule that cannot be signed; `code` names the rule, `params` the values."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def check_steps(steps: Sequence[Step], start: date, end: date | None) -> tuple[Step, ...]:
    """The steps in date order; refuses two steps on one date and steps outside the order's dates."""
    ordered = tuple(sorted(steps, key=lambda s: s.from_date))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.from_date == b.from_date:
            raise StepProblem("order.steps_overlap", from_date=a.from_date)
    for s in ordered:
        if s.from_date <= start:  # the order's own dose applies from its start; a step changes it later
            raise StepProblem("order.step_not_after_start", from_date=s.from_date, start_date=start)
        if end is not None and s.from_date > end:
            raise StepProblem("order.step_after_end", from_date=s.from_date, end_date=end)
        if s.dose_mg <= 0:
            raise StepProblem("order.step_dose_not_positive", from_date=s.from_date)
    return ordered
