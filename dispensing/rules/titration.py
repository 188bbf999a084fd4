"""Methadone titration limits (DOMAIN.md rule 2): first dose, step and 7-day increase."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dispensing.messages import Message
from dispensing.policy import Policy


@dataclass(frozen=True)
class DoseChange:
    effective: date
    dose_mg: Decimal


def _mg(value: Decimal) -> str:
    """Format a dose without trailing zeros or exponent: 30.50 -> "30.5", 30 -> "30"."""
    return format(Decimal(value).normalize(), "f")


def _dose_on(day: date, ordered: Sequence[DoseChange]) -> Decimal | None:
    """Dose in effect on `day` given changes sorted by effective date, or None before the first."""
    current = None
    for change in ordered:
        if change.effective > day:
            break
        current = change.dose_mg
    return current


def check_methadone_titration(
    new_dose_mg: Decimal,
    effective: date,
    history: Sequence[DoseChange],
    policy: Policy,
    *,
    restart: bool = False,
) -> list[Message]:
    """List the titration limits a new methadone daily dose would break (empty = within limits)."""
    # Two changes on the same date: the later one in `history` superseded the other, so it wins.
    by_day = {c.effective: c for c in history if c.effective < effective}
    earlier = sorted(by_day.values(), key=lambda c: c.effective)

    if restart:
        # After missed days tolerance may be lost, so the cap applies even to a reduced dose.
        limit = policy.methadone_restart_max_mg
        if new_dose_mg > limit:
            return [Message("titration.restart", dose_mg=new_dose_mg, limit_mg=limit)]
        return []

    if not earlier:
        limit = policy.methadone_first_dose_max_mg
        if new_dose_mg > limit:
            return [Message("titration.first_day", dose_mg=new_dose_mg, limit_mg=limit)]
        return []

    problems: list[Message] = []
    day_before = effective - timedelta(days=1)
    previous = _dose_on(day_before, earlier)
    assert previous is not None  # `earlier` is non-empty and all entries are before `effective`
    if new_dose_mg <= previous:
        # Keeping or lowering the current dose is always safe, even after an overridden increase.
        return []
    step = new_dose_mg - previous
    if step > policy.methadone_step_max_mg:
        problems.append(
            Message(
                "titration.step",
                step_mg=step,
                previous_mg=previous,
                dose_mg=new_dose_mg,
                limit_mg=policy.methadone_step_max_mg,
            )
        )

    # Lowest dose in effect on any of the 7 days before; days before the first dose don't count.
    window_start = max(effective - timedelta(days=7), earlier[0].effective)
    in_window = [_dose_on(window_start, earlier)]
    in_window += [c.dose_mg for c in earlier if c.effective > window_start]
    lowest = min(d for d in in_window if d is not None)
    weekly = new_dose_mg - lowest
    if weekly > policy.methadone_weekly_increase_max_mg:
        problems.append(
            Message(
                "titration.weekly",
                dose_mg=new_dose_mg,
                increase_mg=weekly,
                lowest_mg=lowest,
                limit_mg=policy.methadone_weekly_increase_max_mg,
            )
        )
    return problems
