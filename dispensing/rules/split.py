"""Split doses (DOMAIN.md rule 18): the day's dose in parts, each at a time of day, supervised or
taken home (e.g. late pregnancy: part supervised in the morning, part taken home for the evening).

Each part is its own slot on the roster (part 0, 1, ...) with its own window; the titration limits
apply to the day's total, which the parts must add up to.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Part:
    at: time | None  # time of day in the clinic's zone (None: not fixed)
    dose_mg: Decimal
    supervised: bool


class SplitProblem(Exception):
    """A split that cannot be signed; `code` names the rule, `params` the values."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def format_parts(parts: Sequence[Part]) -> str | None:
    """Canonical stored (and signed) form: "08:00=40:s;20:00=20:t", None for an undivided dose."""
    if not parts:
        return None
    return ";".join(
        f"{p.at.strftime('%H:%M') if p.at else ''}={format(p.dose_mg.normalize(), 'f')}:{'s' if p.supervised else 't'}"
        for p in parts
    )


@lru_cache(maxsize=1024)
def parse_parts(text: str) -> tuple[Part, ...]:
    parts = []
    for item in text.split(";"):
        at, rest = item.split("=")
        dose, kind = rest.split(":")
        parts.append(Part(time.fromisoformat(at) if at else None, Decimal(dose), kind == "s"))
    return tuple(parts)


def check_parts(parts: Sequence[Part], total_mg: Decimal) -> tuple[Part, ...]:
    """The parts in time order (untimed last); refuses one part, two at the same time, a part of no
    dose, and parts that do not add up to the day's dose."""
    if not parts:
        return ()
    if len(parts) < 2:
        raise SplitProblem("order.split_one_part")
    times = [p.at for p in parts]
    for at in times:
        if times.count(at) > 1:
            raise SplitProblem("order.split_same_time", at=at.strftime("%H:%M") if at else "-")
    if any(p.dose_mg <= 0 for p in parts):
        raise SplitProblem("order.split_dose_not_positive")
    total = sum((p.dose_mg for p in parts), Decimal(0))
    if total != total_mg:
        raise SplitProblem("order.split_sum", parts_mg=total, dose_mg=total_mg)
    return tuple(sorted(parts, key=lambda p: (p.at is None, p.at or time.min)))


def window_for(at: time | None, index: int, windows: Sequence[tuple[time, time]]) -> int | None:
    """Which of the day's windows (sorted by start) a part belongs to: the one open at its time, else
    the last one opening before it (a take-home evening part is handed out at the last window
    before), else the first; an untimed part takes the window of its position."""
    if not windows:
        return None
    if at is None:
        return min(index, len(windows) - 1)
    for i, (start, end) in enumerate(windows):
        if start <= at < end:
            return i
    before = [i for i, (start, _) in enumerate(windows) if start <= at]
    return before[-1] if before else 0
