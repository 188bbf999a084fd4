"""Closed days and how a due dose on one is covered (DOMAIN.md rule 17).

Pure functions: which days a site is closed (Danish public holidays from the maintained `holidays`
package, when the site keeps the rule, plus days the admin adds), and for a due dose on a closed
day, the plan: take-home on the last open pickup day before, or unresolved (the doctor decides).
Moving a dose to another site is the doctor's decision, recorded elsewhere; it wins over both.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays

from dispensing.enums import Drug

# Besides the public holidays, Christmas Eve: the package files it as an "optional" Danish day, but
# the clinics close on it like on the two Christmas days (the 24-26 December).
_EXTRA_OPTIONAL = {"Juleaftensdag"}


@lru_cache(maxsize=64)
def danish_holidays(year: int) -> dict[date, str]:
    """Denmark's public holidays of `year` (Danish names), with Christmas Eve."""
    public = holidays.country_holidays("DK", years=year, language="da")
    optional = holidays.country_holidays("DK", years=year, language="da", categories=("optional",))
    days = dict(public.items())
    days |= {d: name for d, name in optional.items() if name in _EXTRA_OPTIONAL}
    return days


def closed_days(
    first: date,
    last: date,
    *,
    public_holidays: bool,
    added: Mapping[date, str],
) -> dict[date, str]:
    """The closed days in [first, last] with the reason for each: the site's added days, and the
    Danish public holidays unless the site keeps them open."""
    if last < first:
        return {}
    result: dict[date, str] = {}
    if public_holidays:
        for year in range(first.year, last.year + 1):
            result |= {d: name for d, name in danish_holidays(year).items() if first <= d <= last}
    result |= {d: reason for d, reason in added.items() if first <= d <= last}  # the admin's words win
    return dict(sorted(result.items()))


class CoverKind(StrEnum):
    TAKE_HOME = "take_home"  # handed out on the last open pickup day before
    MOVED = "moved"  # the doctor moved the dose to an open site for the day
    UNRESOLVED = "unresolved"  # the doctor has to decide


class Unresolved(StrEnum):
    """Why a closed day's dose cannot be covered by take-home (the message codes name them)."""

    SUPERVISED_ONLY = "supervised_only"
    ANTABUS = "antabus"
    NO_TAKE_HOME_SANCTION = "no_take_home_sanction"
    SPAN_TOO_LONG = "span_too_long"
    NO_OPEN_DAY_BEFORE = "no_open_day_before"


@dataclass(frozen=True)
class Cover:
    kind: CoverKind
    pickup_day: date | None = None  # TAKE_HOME: the day the dose is handed out
    why: Unresolved | None = None  # UNRESOLVED: why not by take-home


def allows_take_home(drug: Drug, supervised: bool, weekdays: Collection[int], pickup_weekdays: Collection[int]) -> bool:
    """Whether an order may hand out a closed day's dose in advance. Never Antabus, never an order
    whose every dose is picked up and taken supervised: those are the doctor's decision."""
    if drug == Drug.DISULFIRAM:
        return False
    return not (supervised and frozenset(pickup_weekdays) >= frozenset(weekdays))


def cover_by_take_home(
    day: date,
    *,
    closed: Collection[date],
    weekdays: Collection[int],
    pickup_weekdays: Collection[int],
    start: date,
    today: date,
    max_days: int,
) -> Cover:
    """The plan for a dose due on the closed `day` of an order that allows take-home: handed out on
    the last open pickup day before (a due pickup day, from today and the order's start on), if the
    span from there to `day` stays within `max_days` calendar days counting the pickup day."""
    earliest = max(today, start)
    p = day - timedelta(days=1)
    while p >= earliest:
        if (day - p).days >= max_days:
            return Cover(CoverKind.UNRESOLVED, why=Unresolved.SPAN_TOO_LONG)
        if p.weekday() in pickup_weekdays and p.weekday() in weekdays and p not in closed:
            return Cover(CoverKind.TAKE_HOME, pickup_day=p)
        p -= timedelta(days=1)
    return Cover(CoverKind.UNRESOLVED, why=Unresolved.NO_OPEN_DAY_BEFORE)
