"""The timing of a paper record entered afterwards: the slot's own day, not in the future, entered by the next day."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispensing.rules.afterwards import paper_record_refusal

TZ = ZoneInfo("Europe/Copenhagen")
DAY = date(2026, 3, 2)  # a Monday
SPRING = date(2026, 3, 29)  # clocks go 02:00 -> 03:00
AUTUMN = date(2026, 10, 25)  # clocks go 03:00 -> 02:00


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


def code(given_at, slot_date, now):
    refusal = paper_record_refusal(given_at, slot_date, now, TZ)
    return refusal.code if refusal else None


def test_earlier_the_same_day_is_accepted():
    assert code(local(DAY, 8, 15), DAY, local(DAY, 11)) is None


def test_the_next_day_is_accepted_up_to_its_last_minute():
    assert code(local(DAY, 8, 15), DAY, local(DAY + timedelta(days=1), 23, 59)) is None


def test_two_days_later_is_too_late_from_midnight():
    assert code(local(DAY, 8, 15), DAY, local(DAY + timedelta(days=2), 0, 0)) == "paper.entered_too_late"


def test_a_time_in_the_future_is_refused_even_by_a_minute():
    assert code(local(DAY, 11, 1), DAY, local(DAY, 11)) == "paper.given_in_future"
    assert code(local(DAY, 11), DAY, local(DAY, 11)) is None  # this very minute is not the future


def test_a_slot_of_tomorrow_cannot_take_a_paper_record():
    tomorrow = DAY + timedelta(days=1)
    assert code(local(DAY, 10), tomorrow, local(DAY, 11)) == "paper.given_on_other_day"
    assert code(local(tomorrow, 8), tomorrow, local(DAY, 11)) == "paper.given_in_future"


def test_midnight_belongs_to_the_next_day():
    assert code(local(DAY, 23, 59), DAY, local(DAY + timedelta(days=1), 9)) is None
    assert code(local(DAY + timedelta(days=1), 0, 0), DAY, local(DAY + timedelta(days=1), 9)) == (
        "paper.given_on_other_day"
    )


def test_the_day_is_the_clinics_not_utcs():
    # 23:30 UTC on 2 March is 00:30 on 3 March in Copenhagen.
    late_utc = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert code(late_utc, DAY, local(DAY + timedelta(days=1), 9)) == "paper.given_on_other_day"
    assert code(late_utc, DAY + timedelta(days=1), local(DAY + timedelta(days=1), 9)) is None


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_dst_days_keep_their_edges(day):
    # The last minute of a 23- or 25-hour day is still that day; an offset of +01:00 or +02:00 is read as given.
    assert code(local(day, 23, 59), day, local(day + timedelta(days=1), 9)) is None
    assert code(local(day, 0, 0), day, local(day, 12)) is None
    assert code(local(day, 8), day, local(day, 9)) is None
    # 22:30 UTC is 00:30 of the next day in summer time (after SPRING) but 23:30 the same day in winter (after AUTUMN).
    utc_2230 = datetime.combine(day, time(22, 30), tzinfo=UTC)
    expected = "paper.given_on_other_day" if day == SPRING else None
    assert code(utc_2230, day, local(day + timedelta(days=1), 9)) == expected


def test_a_time_without_a_zone_is_refused_rather_than_guessed():
    assert code(datetime(2026, 3, 2, 8, 15), DAY, local(DAY, 11)) == "paper.given_at_without_zone"


def test_the_refusal_carries_what_its_message_needs():
    refusal = paper_record_refusal(local(DAY, 8), DAY, local(DAY + timedelta(days=3), 9), TZ)
    assert refusal.params == {"slot_date": DAY, "today": DAY + timedelta(days=3)}
