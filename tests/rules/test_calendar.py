"""Closed days and covering a closed day's dose (DOMAIN.md rule 17), at the calendar's edges."""

from datetime import date, timedelta

import pytest

from dispensing.enums import Drug
from dispensing.rules.calendar import (
    Cover,
    CoverKind,
    Unresolved,
    allows_take_home,
    closed_days,
    cover_by_take_home,
)
from dispensing.rules.schedule import take_home_dates

DAILY = frozenset(range(7))
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def holidays_between(first: date, last: date) -> dict[date, str]:
    return closed_days(first, last, public_holidays=True, added={})


def test_easter_2027_maundy_thursday_to_easter_monday():
    days = holidays_between(date(2027, 3, 20), date(2027, 4, 5))
    assert list(days) == [date(2027, 3, 25), date(2027, 3, 26), date(2027, 3, 28), date(2027, 3, 29)]
    assert days[date(2027, 3, 25)] == "Skærtorsdag"
    assert days[date(2027, 3, 26)] == "Langfredag"
    assert days[date(2027, 3, 29)] == "Anden påskedag"
    assert date(2027, 3, 27) not in days  # Easter Saturday is an ordinary day


def test_ascension_and_whit_monday_2027():
    days = holidays_between(date(2027, 5, 1), date(2027, 5, 31))
    assert date(2027, 5, 6) in days  # Kristi himmelfartsdag
    assert date(2027, 5, 17) in days  # Anden pinsedag
    assert date(2027, 5, 16) in days  # Pinsedag (a Sunday)
    assert date(2027, 5, 1) not in days  # 1 May is not a public holiday
    assert date(2027, 5, 7) not in days  # the Friday after Ascension is not


def test_christmas_and_new_year():
    days = holidays_between(date(2026, 12, 20), date(2027, 1, 3))
    assert [d for d in days] == [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)]
    assert days[date(2026, 12, 24)] == "Juleaftensdag"
    assert date(2026, 12, 31) not in days  # New Year's Eve: open


def test_constitution_day_is_open():
    assert date(2027, 6, 5) not in holidays_between(date(2027, 6, 1), date(2027, 6, 30))


def test_rule_switched_off_keeps_only_added_days():
    added = {date(2026, 12, 28): "Personaledag"}
    days = closed_days(date(2026, 12, 20), date(2027, 1, 3), public_holidays=False, added=added)
    assert days == added


def test_added_day_reason_wins_and_range_is_inclusive():
    added = {date(2026, 12, 25): "Lukket for vandskade", date(2027, 1, 4): "udenfor"}
    days = closed_days(date(2026, 12, 25), date(2027, 1, 1), public_holidays=True, added=added)
    assert days[date(2026, 12, 25)] == "Lukket for vandskade"
    assert date(2027, 1, 1) in days and date(2027, 1, 4) not in days
    assert closed_days(date(2027, 1, 2), date(2027, 1, 1), public_holidays=True, added=added) == {}


@pytest.mark.parametrize(
    ("drug", "supervised", "pickup", "allowed"),
    [
        (Drug.METHADONE, True, {MON, THU}, True),  # a take-home arrangement
        (Drug.METHADONE, False, DAILY, True),  # daily pickup, not supervised
        (Drug.METHADONE, True, DAILY, False),  # supervised-only
        (Drug.DISULFIRAM, True, {MON, THU}, False),  # Antabus: never
        (Drug.BUPRENORPHINE, True, {MON}, True),
    ],
)
def test_allows_take_home(drug, supervised, pickup, allowed):
    assert allows_take_home(drug, supervised, DAILY, pickup) is allowed


CHRISTMAS = frozenset(holidays_between(date(2026, 12, 1), date(2027, 1, 31)))


def test_daily_dose_over_christmas_is_handed_out_on_the_23rd():
    for day in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)):
        cover = cover_by_take_home(
            day,
            closed=CHRISTMAS,
            weekdays=DAILY,
            pickup_weekdays=DAILY,
            start=date(2026, 1, 1),
            today=date(2026, 12, 20),
            max_days=14,
        )
        assert cover == Cover(CoverKind.TAKE_HOME, pickup_day=date(2026, 12, 23))


def test_pickup_days_only_count_as_the_last_open_day():
    # Pickup Monday and Thursday; Thursday 24 December is closed: the Monday before carries it.
    cover = cover_by_take_home(
        date(2026, 12, 25),
        closed=CHRISTMAS,
        weekdays=DAILY,
        pickup_weekdays={MON, THU},
        start=date(2026, 1, 1),
        today=date(2026, 12, 1),
        max_days=14,
    )
    assert cover.pickup_day == date(2026, 12, 21)


def test_span_over_the_policy_maximum_is_unresolved():
    cover = cover_by_take_home(
        date(2026, 12, 25),
        closed=CHRISTMAS,
        weekdays=DAILY,
        pickup_weekdays={MON, THU},
        start=date(2026, 1, 1),
        today=date(2026, 12, 1),
        max_days=4,  # 21 -> 25 is 5 days
    )
    assert cover == Cover(CoverKind.UNRESOLVED, why=Unresolved.SPAN_TOO_LONG)
    exactly = cover_by_take_home(
        date(2026, 12, 25),
        closed=CHRISTMAS,
        weekdays=DAILY,
        pickup_weekdays={MON, THU},
        start=date(2026, 1, 1),
        today=date(2026, 12, 1),
        max_days=5,
    )
    assert exactly.pickup_day == date(2026, 12, 21)


def test_no_open_day_left_before_is_unresolved():
    # Today is the 24th (closed): the 23rd has passed.
    cover = cover_by_take_home(
        date(2026, 12, 25),
        closed=CHRISTMAS,
        weekdays=DAILY,
        pickup_weekdays=DAILY,
        start=date(2026, 1, 1),
        today=date(2026, 12, 24),
        max_days=14,
    )
    assert cover.why == Unresolved.NO_OPEN_DAY_BEFORE
    # An order starting on a closed day has no open day before it either.
    first = cover_by_take_home(
        date(2026, 12, 25),
        closed=CHRISTMAS,
        weekdays=DAILY,
        pickup_weekdays=DAILY,
        start=date(2026, 12, 24),
        today=date(2026, 12, 1),
        max_days=14,
    )
    assert first.why == Unresolved.NO_OPEN_DAY_BEFORE


def test_take_home_span_runs_over_closed_pickup_days():
    # Pickup Mon/Thu: from Monday 21 December the span normally stops at Thursday 24; closed, so it
    # runs to the next open pickup, Monday 28 December.
    span = take_home_dates(date(2026, 12, 21), DAILY, {MON, THU}, 14, None, CHRISTMAS)
    assert span == [date(2026, 12, 21) + timedelta(days=i) for i in range(1, 7)]
    assert take_home_dates(date(2026, 12, 21), DAILY, {MON, THU}, 14, None) == [date(2026, 12, 22), date(2026, 12, 23)]


def test_take_home_span_across_closure_keeps_the_maximum():
    span = take_home_dates(date(2026, 12, 21), DAILY, {MON, THU}, 4, None, CHRISTMAS)
    assert span == [date(2026, 12, 22), date(2026, 12, 23), date(2026, 12, 24)]


def test_daily_unsupervised_order_takes_closed_days_home_only_with_the_flag():
    on_23 = take_home_dates(date(2026, 12, 23), DAILY, DAILY, 14, None, CHRISTMAS, closed_take_home=True)
    assert on_23 == [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)]
    assert take_home_dates(date(2026, 12, 23), DAILY, DAILY, 14, None, CHRISTMAS) == []
    # an ordinary day without a closure ahead: nothing to take home
    assert take_home_dates(date(2026, 12, 1), DAILY, DAILY, 14, None, CHRISTMAS, closed_take_home=True) == []
