"""Dispensing windows (DOMAIN rule 14): open at the start and end minute, Antabus-only windows, days without."""

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest

from dispensing.enums import Drug
from dispensing.rules.windows import (
    Opening,
    is_open,
    last_window_end,
    next_opening,
    weekdays_without_window,
    window_still_ahead,
)

MONDAY = date(2026, 3, 2)


@dataclass(frozen=True)
class W:
    weekday: int
    start: time
    end: time
    drugs: tuple[Drug, ...] | None = None

    def serves(self, drug: Drug) -> bool:
        return self.drugs is None or drug in self.drugs


# Norddjurs (seeds): opioids mornings on weekdays; Antabus Mon 14:30-16:00, Thu 08:30-10:30 and 14:30-16:00.
OPIOIDS = (Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE)
SITE = [W(d, time(8), time(10), OPIOIDS) for d in range(5)] + [
    W(0, time(14, 30), time(16), (Drug.DISULFIRAM,)),
    W(3, time(8, 30), time(10, 30), (Drug.DISULFIRAM,)),
    W(3, time(14, 30), time(16), (Drug.DISULFIRAM,)),
]


def at(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss))


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "open_"),
    [
        (14, 29, 59, False),  # a second before the start minute
        (14, 30, 0, True),  # the start minute
        (15, 0, 0, True),
        (16, 0, 0, True),  # the end minute is still inside
        (16, 0, 59, True),
        (16, 1, 0, False),  # the minute after the end
    ],
)
def test_antabus_window_edges(hh, mm, ss, open_):
    assert is_open(SITE, Drug.DISULFIRAM, at(MONDAY, hh, mm, ss)) is open_


def test_an_antabus_only_window_does_not_open_for_methadone_and_vice_versa():
    assert is_open(SITE, Drug.METHADONE, at(MONDAY, 15, 0)) is False
    assert is_open(SITE, Drug.DISULFIRAM, at(MONDAY, 9, 0)) is False
    assert is_open(SITE, Drug.METHADONE, at(MONDAY, 9, 0)) is True


def test_a_window_for_all_drugs_serves_every_drug():
    site = [W(0, time(8), time(9))]
    assert all(is_open(site, drug, at(MONDAY, 8, 30)) for drug in Drug)


def test_no_window_that_weekday_is_closed_all_day():
    saturday = date(2026, 3, 7)
    assert not is_open(SITE, Drug.METHADONE, at(saturday, 9, 0))
    assert not is_open([], Drug.METHADONE, at(MONDAY, 9, 0))


def test_next_opening_is_later_today_while_todays_window_has_not_ended():
    assert next_opening(SITE, Drug.DISULFIRAM, at(MONDAY, 9, 0)) == Opening(MONDAY, time(14, 30), time(16))
    # inside the window: the open one itself
    assert next_opening(SITE, Drug.DISULFIRAM, at(MONDAY, 16, 0)) == Opening(MONDAY, time(14, 30), time(16))


def test_next_opening_after_the_last_window_is_the_next_day_with_one():
    thursday = date(2026, 3, 5)
    assert next_opening(SITE, Drug.DISULFIRAM, at(MONDAY, 20, 24)) == Opening(thursday, time(8, 30), time(10, 30))
    assert next_opening(SITE, Drug.DISULFIRAM, at(thursday, 11, 0)) == Opening(thursday, time(14, 30), time(16))
    # Thursday evening: round the week to Monday
    assert next_opening(SITE, Drug.DISULFIRAM, at(thursday, 17, 0)) == Opening(date(2026, 3, 9), time(14, 30), time(16))


def test_a_weekly_window_on_the_same_weekday_is_found_a_week_later():
    site = [W(0, time(8), time(9))]
    assert next_opening(site, Drug.METHADONE, at(MONDAY, 9, 1)) == Opening(date(2026, 3, 9), time(8), time(9))


def test_no_window_for_the_drug_at_all_has_no_next_opening():
    assert next_opening(SITE, Drug.ACAMPROSATE, at(MONDAY, 9, 0)) is None
    assert next_opening([], Drug.METHADONE, at(MONDAY, 9, 0)) is None


def test_weekdays_without_a_window_for_the_drug():
    assert weekdays_without_window(SITE, Drug.DISULFIRAM, [0, 3]) == []
    assert weekdays_without_window(SITE, Drug.DISULFIRAM, [0, 2, 4]) == [2, 4]
    assert weekdays_without_window(SITE, Drug.METHADONE, range(7)) == [5, 6]
    assert weekdays_without_window([], Drug.METHADONE, [1, 1]) == [1]


def test_last_window_end_of_the_day():
    thursday = date(2026, 3, 5)
    assert last_window_end(SITE, Drug.DISULFIRAM, thursday) == time(16)
    assert last_window_end(SITE, Drug.METHADONE, thursday) == time(10)
    assert last_window_end(SITE, Drug.DISULFIRAM, date(2026, 3, 3)) is None


@pytest.mark.parametrize(
    ("hh", "mm", "ahead"),
    [(10, 5, True), (13, 30, True), (14, 0, True), (14, 1, False), (20, 0, False)],
)
def test_a_window_is_still_ahead_until_the_end_minute_of_the_last_one(hh, mm, ahead):
    site = [W(0, time(8), time(9)), W(0, time(13), time(14))]
    assert window_still_ahead(site, Drug.METHADONE, MONDAY, at(MONDAY, hh, mm)) is ahead


def test_window_still_ahead_for_other_days_and_days_without_a_window():
    site = [W(0, time(13), time(14))]
    assert window_still_ahead(site, Drug.METHADONE, date(2026, 3, 3), at(MONDAY, 20, 0)) is True  # tomorrow
    assert window_still_ahead(site, Drug.METHADONE, date(2026, 3, 1), at(MONDAY, 9, 0)) is False  # yesterday
    assert window_still_ahead(site, Drug.METHADONE, date(2026, 3, 3), at(date(2026, 3, 3), 9, 0)) is False
