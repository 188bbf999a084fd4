"""A site's dispensing windows for a drug (DOMAIN.md rule 14): is the window open now, when does it
open next, which weekdays have none, and when does a patient's last window of the day end.

A window is open from its start minute through its end minute ("14:30-16:00" takes 14:30:00 up to
16:00:59): the clock on the wall says 16:00, the patient is on time. Pure functions: the windows,
the drug and the local wall-clock time are parameters.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from dispensing.enums import Drug


class WeeklyWindow(Protocol):
    """What the rules need of a window (models.DispensingWindow has it)."""

    weekday: int  # 0 = Monday
    start: time
    end: time

    def serves(self, drug: Drug) -> bool: ...


@dataclass(frozen=True)
class Opening:
    """One window on a calendar day."""

    day: date
    start: time
    end: time


def _minute(t: time) -> time:
    return t.replace(second=0, microsecond=0)


def windows_on(windows: Iterable[WeeklyWindow], drug: Drug, weekday: int) -> list[WeeklyWindow]:
    """The windows serving `drug` on a weekday, earliest first."""
    return sorted((w for w in windows if w.weekday == weekday and w.serves(drug)), key=lambda w: (w.start, w.end))


def is_open(windows: Iterable[WeeklyWindow], drug: Drug, local_now: datetime) -> bool:
    """True when `local_now` (the clinic's wall clock) lies inside a window for `drug`."""
    at = _minute(local_now.time())
    return any(w.start <= at <= w.end for w in windows_on(windows, drug, local_now.weekday()))


def next_opening(windows: Sequence[WeeklyWindow], drug: Drug, local_now: datetime) -> Opening | None:
    """The next window for `drug` that has not yet ended at `local_now` (today's later one, or a coming
    day's within a week); None when the site has no window for the drug at all."""
    at = _minute(local_now.time())
    for ahead in range(8):
        day = local_now.date() + timedelta(days=ahead)
        for w in windows_on(windows, drug, day.weekday()):
            if ahead > 0 or w.end >= at:
                return Opening(day, w.start, w.end)
    return None


def weekdays_without_window(windows: Sequence[WeeklyWindow], drug: Drug, weekdays: Iterable[int]) -> list[int]:
    """The due weekdays on which the site has no window for `drug` (sorted, 0 = Monday)."""
    return sorted({d for d in weekdays if not windows_on(windows, drug, d)})


def last_window_end(windows: Sequence[WeeklyWindow], drug: Drug, day: date) -> time | None:
    """When the last window for `drug` on `day` ends (None: no window that day)."""
    todays = windows_on(windows, drug, day.weekday())
    return max((w.end for w in todays), default=None)


def window_still_ahead(windows: Sequence[WeeklyWindow], drug: Drug, day: date, local_now: datetime) -> bool:
    """True when the patient can still come on `day`: it is today or later and its last window for the
    drug has not ended (a day without any window for the drug has nothing ahead)."""
    if day > local_now.date():
        return True
    if day < local_now.date():
        return False
    end = last_window_end(windows, drug, day)
    return end is not None and _minute(local_now.time()) <= end
