"""Rule 7: unannounced urine tests for patients with children living at home.

The caller draws the test days ahead of time with a stored, secret-derived seed,
keeps the list (auditable, stable on redraw) and shows the window only the
current day's entry. Nothing here reads the clock or the database.
"""

import hashlib
import hmac
import random
from collections.abc import Collection
from datetime import date, timedelta

from dispensing.policy import DEFAULT_POLICY

_DAY = timedelta(days=1)


def _weekday_set(attendance_weekdays: Collection[int]) -> frozenset[int]:
    days = frozenset(attendance_weekdays)
    if not days:
        raise ValueError("The patient has no attendance weekdays, so no urine test can be planned.")
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValueError(f"Attendance weekdays must be 0 (Monday) to 6 (Sunday), got {sorted(days)}.")
    return days


def _first_attendance_on_or_after(day: date, weekdays: frozenset[int]) -> date:
    return day + timedelta(days=min((w - day.weekday()) % 7 for w in weekdays))


def _attendance_days_between(lo: date, hi: date, weekdays: frozenset[int]) -> list[date]:
    return [lo + i * _DAY for i in range((hi - lo).days + 1) if (lo + i * _DAY).weekday() in weekdays]


def _next_test(lo: date, hi: date, weekdays: frozenset[int], rng: random.Random) -> date:
    # Uniform over the whole window so neither weekday nor gap length is predictable.
    candidates = _attendance_days_between(lo, hi, weekdays)
    if candidates:
        return rng.choice(candidates)
    # No attendance day fits: the minimum gap is kept, the test is as early as
    # the patient's schedule allows (so it is late, never too close).
    return _first_attendance_on_or_after(lo, weekdays)


def draw_urine_days(
    *,
    start: date,
    until: date,
    last_test: date | None,
    attendance_weekdays: Collection[int],
    max_gap_days: int = DEFAULT_POLICY.urine_max_gap_days,
    min_gap_days: int = DEFAULT_POLICY.urine_min_gap_days,
    rng: random.Random,
) -> list[date]:
    """Draw the unannounced urine-test days in [start, until] on attendance weekdays."""
    weekdays = _weekday_set(attendance_weekdays)
    if min_gap_days < 1:
        raise ValueError(f"The minimum gap between urine tests must be at least 1 day, got {min_gap_days}.")
    if min_gap_days > max_gap_days:
        raise ValueError(
            f"The minimum gap between urine tests ({min_gap_days} days) is longer than "
            f"the maximum gap ({max_gap_days} days); no plan can satisfy both."
        )

    if last_test is None or last_test + timedelta(days=max_gap_days) < start:
        # Treatment start, or already overdue: test on the first day the patient comes.
        day = _first_attendance_on_or_after(start, weekdays)
    else:
        # A test collected before the plan began counts; stay within its max gap.
        lo = max(start, last_test + timedelta(days=min_gap_days))
        day = _next_test(lo, last_test + timedelta(days=max_gap_days), weekdays, rng)

    days: list[date] = []
    # Drawing sequentially keeps earlier days unchanged when the caller extends `until`.
    while day <= until:
        days.append(day)
        day = _next_test(day + timedelta(days=min_gap_days), day + timedelta(days=max_gap_days), weekdays, rng)
    return days


def next_due_after_miss(missed_day: date, today: date, attendance_weekdays: Collection[int]) -> date:
    """Return the day a missed test is due again: the next attendance day on or after today."""
    if today < missed_day:
        raise ValueError(f"A test due on {missed_day} cannot be missed before that day (today is {today}).")
    # A missed test stays due; it is never silently skipped to the next drawn day.
    return _first_attendance_on_or_after(today, _weekday_set(attendance_weekdays))


def seed_for(patient_id: int, plan_version: int, secret: bytes) -> int:
    """Return a stable RNG seed for a patient's plan, not guessable without the server secret."""
    if not secret:
        raise ValueError("A server secret is required, otherwise test days are guessable from the ids.")
    # Domain-separated, unambiguous message so other HMAC uses of the secret never collide.
    message = f"urine-days/v1:{int(patient_id)}:{int(plan_version)}".encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest(), "big")
