from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispensing.rules.schedule import is_due, local_today, take_home_dates, window_bounds_utc

CPH = ZoneInfo("Europe/Copenhagen")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
DAILY = set(range(7))
WEEKDAYS = {MON, TUE, WED, THU, FRI}

# A reference week: 2026-03-02 is a Monday.
WEEK = {wd: date(2026, 3, 2) + timedelta(days=wd) for wd in range(7)}
NEXT = {wd: d + timedelta(days=7) for wd, d in WEEK.items()}


def test_reference_week():
    assert [d.weekday() for d in WEEK.values()] == list(range(7))


# --- is_due ------------------------------------------------------------------


def test_is_due_weekday():
    assert is_due(WEEK[MON], {MON, THU}, WEEK[MON], None)
    assert not is_due(WEEK[TUE], {MON, THU}, WEEK[MON], None)
    assert is_due(WEEK[THU], [MON, THU], WEEK[MON], None)


def test_is_due_start_inclusive():
    assert is_due(WEEK[TUE], DAILY, WEEK[TUE], None)
    assert not is_due(WEEK[MON], DAILY, WEEK[TUE], None)


def test_is_due_end_inclusive():
    assert is_due(WEEK[FRI], DAILY, WEEK[MON], WEEK[FRI])
    assert not is_due(WEEK[SAT], DAILY, WEEK[MON], WEEK[FRI])


def test_is_due_open_ended():
    assert is_due(date(2030, 1, 7), {MON}, WEEK[MON], None)  # a Monday years later


def test_is_due_empty_weekdays():
    assert not is_due(WEEK[MON], set(), WEEK[MON], None)


def test_is_due_bad_weekday():
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6 \\(Sunday\\)"):
        is_due(WEEK[MON], {7}, WEEK[MON], None)


# --- take_home_dates ---------------------------------------------------------------


def test_mon_thu_pickup_daily_dosing():
    assert take_home_dates(WEEK[MON], DAILY, {MON, THU}, 14, None) == [WEEK[TUE], WEEK[WED]]
    assert take_home_dates(WEEK[THU], DAILY, {MON, THU}, 14, None) == [WEEK[FRI], WEEK[SAT], WEEK[SUN]]


def test_mon_thu_pickup_weekday_dosing_over_weekend():
    # Due Mon-Fri: Thursday's handout is Friday only; the weekend has no dose, Monday is pickup.
    assert take_home_dates(WEEK[THU], WEEKDAYS, {MON, THU}, 14, None) == [WEEK[FRI]]
    assert take_home_dates(WEEK[MON], WEEKDAYS, {MON, THU}, 14, None) == [WEEK[TUE], WEEK[WED]]


def test_friday_pickup_covers_weekend():
    # Clinic closed at weekends: due daily, pickups Mon-Fri -> Friday takes Sat and Sun home.
    assert take_home_dates(WEEK[FRI], DAILY, WEEKDAYS, 14, None) == [WEEK[SAT], WEEK[SUN]]
    assert take_home_dates(WEEK[WED], DAILY, WEEKDAYS, 14, None) == []


def test_weekly_pickup_under_cap():
    # Weekly Monday pickup: 6 take-home doses, well under 14 days.
    expected = [WEEK[wd] for wd in (TUE, WED, THU, FRI, SAT, SUN)]
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 14, None) == expected


def test_max_days_cap_with_weekly_pickup():
    # max_days counts `day` itself: 3 days = today + 2 take-home.
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 3, None) == [WEEK[TUE], WEEK[WED]]
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 7, None) == [WEEK[wd] for wd in (TUE, WED, THU, FRI, SAT, SUN)]
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 1, None) == []


def test_max_days_14_without_further_pickup():
    # No pickup weekdays: bounded by max_days only -> 13 doses after today.
    result = take_home_dates(WEEK[MON], DAILY, set(), 14, None)
    assert len(result) == 13
    assert result[0] == WEEK[TUE]
    assert result[-1] == WEEK[MON] + timedelta(days=13)


def test_max_days_cap_14_with_weekday_dosing():
    result = take_home_dates(WEEK[MON], WEEKDAYS, set(), 14, None)
    assert result == [d for d in (WEEK[MON] + timedelta(days=k) for k in range(1, 14)) if d.weekday() < 5]
    assert len(result) == 9


def test_last_day_cap_inclusive():
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 14, WEEK[WED]) == [WEEK[TUE], WEEK[WED]]
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 14, WEEK[MON]) == []
    assert take_home_dates(WEEK[MON], DAILY, {MON}, 14, WEEK[MON] - timedelta(days=3)) == []


def test_last_day_beyond_next_pickup_has_no_effect():
    assert take_home_dates(WEEK[MON], DAILY, {MON, THU}, 14, NEXT[MON]) == [WEEK[TUE], WEEK[WED]]


def test_catch_up_visit_on_non_pickup_day():
    # Pickups Mon+Thu; patient missed Monday and comes Tuesday: gets Wednesday only.
    assert take_home_dates(WEEK[TUE], DAILY, {MON, THU}, 14, None) == [WEEK[WED]]
    assert take_home_dates(WEEK[WED], DAILY, {MON, THU}, 14, None) == []
    # Weekly Monday pickup, comes Friday instead: Sat and Sun.
    assert take_home_dates(WEEK[FRI], DAILY, {MON}, 14, None) == [WEEK[SAT], WEEK[SUN]]


@pytest.mark.parametrize("weekdays", [DAILY, WEEKDAYS, {MON, WED, FRI}, {TUE}])
def test_no_take_home_when_pickup_equals_weekdays(weekdays):
    for d in WEEK.values():
        assert take_home_dates(d, weekdays, set(weekdays), 14, None) == []
        assert take_home_dates(d, sorted(weekdays), tuple(weekdays), 14, None) == []


def test_alternate_day_buprenorphine():
    # Due Mon/Wed/Fri, weekly Monday pickup.
    assert take_home_dates(WEEK[MON], {MON, WED, FRI}, {MON}, 14, None) == [WEEK[WED], WEEK[FRI]]


def test_disulfiram_twice_weekly_supervised():
    assert take_home_dates(WEEK[MON], {MON, THU}, {MON, THU}, 14, None) == []


def test_invalid_arguments():
    with pytest.raises(ValueError, match="at least 1 day"):
        take_home_dates(WEEK[MON], DAILY, {MON}, 0, None)
    with pytest.raises(ValueError, match="Pickup weekdays"):
        take_home_dates(WEEK[MON], DAILY, {-1}, 14, None)
    with pytest.raises(ValueError, match="Due weekdays"):
        take_home_dates(WEEK[MON], {0, 9}, {MON}, 14, None)


def test_answers_are_remembered_per_schedule_but_bad_input_is_still_refused():
    first = take_home_dates(WEEK[MON], DAILY, {MON, THU}, 14, None)
    first.append(WEEK[SUN])  # the caller's list is its own: the remembered answer is not changed
    assert take_home_dates(WEEK[MON], DAILY, {MON, THU}, 14, None) == [WEEK[TUE], WEEK[WED]]
    with pytest.raises(ValueError, match="Pickup weekdays"):  # 3.0 == 3 would find the answer above
        take_home_dates(WEEK[MON], DAILY, {MON, 3.0}, 14, None)


weekday_sets = st.frozensets(st.integers(0, 6))


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    weekday_sets,
    weekday_sets,
    st.integers(1, 60),
    st.one_of(st.none(), st.integers(-5, 70)),
)
def test_take_home_properties(day, weekdays, pickups, max_days, last_offset):
    last_day = None if last_offset is None else day + timedelta(days=last_offset)
    result = take_home_dates(day, weekdays, pickups, max_days, last_day)

    assert result == sorted(set(result))
    assert all(d > day for d in result)
    assert all(d.weekday() in weekdays for d in result)
    assert all(d < day + timedelta(days=max_days) for d in result)
    if last_day is not None:
        assert all(d <= last_day for d in result)
    next_pickup = next(
        (day + timedelta(days=k) for k in range(1, 8) if (day + timedelta(days=k)).weekday() in pickups),
        None,
    )
    if next_pickup is not None:
        assert all(d < next_pickup for d in result)
    if set(pickups) == set(weekdays):
        assert result == []

    # Completeness: every due date in the allowed span is included.
    horizon = day + timedelta(days=max_days)
    if next_pickup is not None:
        horizon = min(horizon, next_pickup)
    if last_day is not None:
        horizon = min(horizon, last_day + timedelta(days=1))
    expected = [
        day + timedelta(days=k)
        for k in range(1, max_days)
        if day + timedelta(days=k) < horizon and (day + timedelta(days=k)).weekday() in weekdays
    ]
    if set(pickups) != set(weekdays):
        assert result == expected


# --- local_today -------------------------------------------------------------------


def test_local_today_summer_after_midnight():
    assert local_today(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), CPH) == date(2026, 7, 1)


def test_local_today_summer_before_midnight():
    assert local_today(datetime(2026, 6, 30, 21, 59, tzinfo=UTC), CPH) == date(2026, 6, 30)


def test_local_today_winter():
    assert local_today(datetime(2026, 1, 15, 22, 59, tzinfo=UTC), CPH) == date(2026, 1, 15)
    assert local_today(datetime(2026, 1, 15, 23, 0, tzinfo=UTC), CPH) == date(2026, 1, 16)


def test_local_today_new_year():
    assert local_today(datetime(2026, 12, 31, 23, 0, tzinfo=UTC), CPH) == date(2027, 1, 1)


def test_local_today_accepts_other_aware_offsets():
    now = datetime(2026, 7, 1, 5, 30, tzinfo=timezone(timedelta(hours=7)))  # 2026-06-30 22:30Z
    assert local_today(now, CPH) == date(2026, 7, 1)


def test_local_today_rejects_naive():
    with pytest.raises(ValueError, match="timezone-aware"):
        local_today(datetime(2026, 6, 30, 22, 30), CPH)


# --- window_bounds_utc --------------------------------------------------------------


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "day, start_utc, end_utc",
    [
        (date(2026, 3, 28), utc(2026, 3, 28, 7), utc(2026, 3, 28, 9)),  # CET, day before spring DST
        (date(2026, 3, 29), utc(2026, 3, 29, 6), utc(2026, 3, 29, 8)),  # CEST from 02:00 local
        (date(2026, 10, 24), utc(2026, 10, 24, 6), utc(2026, 10, 24, 8)),  # still CEST
        (date(2026, 10, 25), utc(2026, 10, 25, 7), utc(2026, 10, 25, 9)),  # back to CET at 03:00
        (date(2026, 1, 15), utc(2026, 1, 15, 7), utc(2026, 1, 15, 9)),
        (date(2026, 7, 1), utc(2026, 7, 1, 6), utc(2026, 7, 1, 8)),
    ],
)
def test_window_8_to_10_local(day, start_utc, end_utc):
    start, end = window_bounds_utc(day, time(8), time(10), CPH)
    assert (start, end) == (start_utc, end_utc)
    assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    assert start.tzinfo is UTC


def test_window_across_spring_transition_is_shorter():
    start, end = window_bounds_utc(date(2026, 3, 29), time(1), time(4), CPH)
    assert (start, end) == (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))


def test_window_across_autumn_transition_is_longer():
    start, end = window_bounds_utc(date(2026, 10, 25), time(1), time(4), CPH)
    assert (start, end) == (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))


def test_window_time_in_spring_gap_maps_forward():
    # 02:30 does not exist on 2026-03-29; read with the pre-transition offset (= 03:30 CEST).
    start, _ = window_bounds_utc(date(2026, 3, 29), time(2, 30), time(5), CPH)
    assert start == utc(2026, 3, 29, 1, 30)


def test_window_ambiguous_autumn_time_takes_first_occurrence():
    start, _ = window_bounds_utc(date(2026, 10, 25), time(2, 30), time(5), CPH)
    assert start == utc(2026, 10, 25, 0, 30)


@pytest.mark.parametrize("start, end", [(time(10), time(8)), (time(8), time(8))])
def test_window_end_must_be_after_start(start, end):
    with pytest.raises(ValueError, match="after its start"):
        window_bounds_utc(date(2026, 3, 2), start, end, CPH)


def test_window_rejects_aware_times():
    with pytest.raises(ValueError, match="wall-clock"):
        window_bounds_utc(date(2026, 3, 2), time(8, tzinfo=UTC), time(10), CPH)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_window_round_trips_to_local_wall_clock(day):
    start, end = window_bounds_utc(day, time(8), time(10, 30), CPH)
    assert start.astimezone(CPH).replace(tzinfo=None) == datetime.combine(day, time(8))
    assert end.astimezone(CPH).replace(tzinfo=None) == datetime.combine(day, time(10, 30))
    assert end - start == timedelta(hours=2, minutes=30)
    assert local_today(start, CPH) == day
