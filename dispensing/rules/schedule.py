"""Due days, take-home spans (DOMAIN.md rule 5) and local-time helpers for the window."""

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


def _check_weekdays(weekdays: Collection[int], what: str) -> None:
    """Reject weekday numbers outside 0 (Monday) .. 6 (Sunday)."""
    bad = sorted(d for d in weekdays if not (isinstance(d, int) and 0 <= d <= 6))
    if bad:
        raise ValueError(f"{what} must be numbers 0 (Monday) to 6 (Sunday); got {bad}.")


def is_due(day: date, weekdays: Collection[int], start: date, end: date | None) -> bool:
    """Whether a dose is due on `day` (weekday 0=Monday; `end` inclusive, None = open-ended)."""
    _check_weekdays(weekdays, "Due weekdays")
    if day < start or (end is not None and day > end):
        return False
    return day.weekday() in weekdays


def take_home_dates(
    day: date,
    weekdays: Collection[int],
    pickup_weekdays: Collection[int],
    max_days: int,
    last_day: date | None,
    closed: Collection[date] = (),
    *,
    closed_take_home: bool = False,
) -> list[date]:
    """Due dates after `day` whose doses are handed out today, up to the next pickup day.

    A pickup day on which the site is `closed` is no pickup day: the span runs on to the next open
    one (rule 17), still at most `max_days`. With `closed_take_home` an order without a take-home
    arrangement (collected every due day, not supervised) also takes its closed days' doses home.
    """
    _check_weekdays(weekdays, "Due weekdays")  # checked before the cache: 1.0 would hit the entry of 1
    _check_weekdays(pickup_weekdays, "Pickup weekdays")
    if max_days < 1:
        raise ValueError(f"Maximum take-home span must be at least 1 day; got {max_days}.")
    return list(
        _take_home_dates(
            day,
            frozenset(weekdays),
            frozenset(pickup_weekdays),
            max_days,
            last_day,
            frozenset(closed),
            closed_take_home and bool(closed),
        )
    )


# A roster asks this for ~400 orders that share a handful of schedules: worked out once per schedule.
@lru_cache(maxsize=4096)
def _take_home_dates(
    day: date,
    weekdays: frozenset[int],
    pickup_weekdays: frozenset[int],
    max_days: int,
    last_day: date | None,
    closed: frozenset[date],
    closed_take_home: bool,
) -> tuple[date, ...]:
    if pickup_weekdays == weekdays and not closed_take_home:
        return ()  # pickup on every due day: no take-home arrangement
    result: list[date] = []
    # The handout covers at most max_days calendar days counting `day` itself.
    for offset in range(1, max_days):
        d = day + timedelta(days=offset)
        if last_day is not None and d > last_day:
            break
        if d.weekday() in pickup_weekdays and d not in closed:
            break  # the patient collects from here on at the next pickup
        if d.weekday() in weekdays:
            result.append(d)
    return tuple(result)


def local_today(now_utc: datetime, tz: ZoneInfo) -> date:
    """The calendar date in `tz` at the aware instant `now_utc`."""
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        # A naive datetime is ambiguous: server-local or UTC? Refuse rather than guess.
        raise ValueError("now_utc must be timezone-aware (e.g. datetime.now(timezone.utc)).")
    return now_utc.astimezone(tz).date()


def window_bounds_utc(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Convert a local wall-clock window on `day` in `tz` to aware UTC datetimes."""
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("Window times must be local wall-clock times without a timezone.")
    if end <= start:
        raise ValueError(f"Window end {end:%H:%M} must be after its start {start:%H:%M} on the same day.")
    # fold=0: a time skipped by DST (spring) maps an hour later, a repeated time (autumn) to its
    # first occurrence; opening hours are never set inside 02:00-03:00, so this is only a fallback.
    start_utc = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    end_utc = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    return start_utc, end_utc
