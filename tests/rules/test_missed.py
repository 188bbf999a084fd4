from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispensing.enums import Drug
from dispensing.policy import DEFAULT_POLICY, Policy
from dispensing.rules.missed import DayOutcome, consecutive_missed_days, missed_dose_block
from dispensing.rules.schedule import is_due

TAKEN, MISSED = DayOutcome.TAKEN, DayOutcome.MISSED
START = date(2026, 1, 5)  # a Monday
MON = date(2026, 3, 2)  # a Monday, well after START
DAILY = set(range(7))
WEEKDAYS = {0, 1, 2, 3, 4}


def d(offset: int) -> date:
    """Day relative to MON (negative = earlier)."""
    return MON + timedelta(days=offset)


def due(weekdays, start=START, end=None):
    return partial(is_due, weekdays=weekdays, start=start, end=end)


def taken_all_before(day: date, start=START) -> dict:
    return {start + timedelta(days=k): TAKEN for k in range((day - start).days)}


# --- consecutive_missed_days ---------------------------------------------------------


def test_nothing_missed():
    assert consecutive_missed_days(MON, due(DAILY), taken_all_before(MON), START) == 0


def test_yesterday_missed():
    outcomes = taken_all_before(MON) | {d(-1): MISSED}
    assert consecutive_missed_days(MON, due(DAILY), outcomes, START) == 1


def test_run_ended_by_taken_day():
    outcomes = taken_all_before(MON) | {d(-1): MISSED, d(-2): MISSED, d(-4): MISSED}
    assert consecutive_missed_days(MON, due(DAILY), outcomes, START) == 2


def test_no_outcome_counts_as_missed():
    outcomes = taken_all_before(MON)
    for k in (1, 2, 3):
        del outcomes[d(-k)]
    assert consecutive_missed_days(MON, due(DAILY), outcomes, START) == 3


def test_day_itself_not_counted():
    outcomes = taken_all_before(MON) | {MON: MISSED}
    assert consecutive_missed_days(MON, due(DAILY), outcomes, START) == 0


def test_weekend_does_not_break_or_count():
    # Due Mon-Fri. Missed Thu and Fri; Sat/Sun not due; today Monday -> 2.
    outcomes = taken_all_before(MON) | {d(-4): MISSED, d(-3): MISSED}
    del outcomes[d(-2)], outcomes[d(-1)]  # nothing recorded at the weekend
    assert consecutive_missed_days(MON, due(WEEKDAYS), outcomes, START) == 2
    # ... and missing Wednesday too makes 3 across the weekend.
    outcomes[d(-5)] = MISSED
    assert consecutive_missed_days(MON, due(WEEKDAYS), outcomes, START) == 3


def test_taken_outcome_on_non_due_day_ignored():
    outcomes = {d(-4): MISSED, d(-3): MISSED, d(-2): TAKEN, d(-5): TAKEN}
    assert consecutive_missed_days(MON, due(WEEKDAYS), outcomes, START) == 2


def test_alternate_day_buprenorphine():
    # Due Mon/Wed/Fri. Missed Fri and Wed; Tue/Thu/Sat/Sun are off days; Mon before taken.
    outcomes = {d(-7): TAKEN, d(-5): MISSED}  # d(-3) Friday: nothing recorded
    assert consecutive_missed_days(MON, due({0, 2, 4}), outcomes, START) == 2


def test_covered_by_take_home_is_taken():
    # Take-home days are recorded as TAKEN: a patient on weekly pickup is not "missing".
    outcomes = {d(-k): TAKEN for k in range(1, 8)}
    assert consecutive_missed_days(MON, due(DAILY), outcomes, START) == 0


def test_treatment_start_bound():
    # Started 3 days ago and never came: 3 missed, not 60.
    start = d(-3)
    assert consecutive_missed_days(MON, due(DAILY, start), {}, start) == 3


def test_treatment_start_bound_even_if_is_due_says_otherwise():
    start = d(-3)
    assert consecutive_missed_days(MON, due(DAILY), {}, start) == 3


def test_first_day_of_treatment_counts_nothing():
    assert consecutive_missed_days(MON, due(DAILY, MON), {}, MON) == 0


def test_treatment_start_after_day():
    assert consecutive_missed_days(MON, due(DAILY), {}, d(5)) == 0


def test_lookback_bound():
    assert consecutive_missed_days(MON, due(DAILY), {}, START) == 56  # START is 56 days before
    early = date(2025, 1, 1)
    fn = due(DAILY, early)
    assert consecutive_missed_days(MON, fn, {}, early) == 60
    assert consecutive_missed_days(MON, fn, {}, early, lookback_days=10) == 10
    assert consecutive_missed_days(MON, fn, {}, early, lookback_days=1) == 1
    assert consecutive_missed_days(MON, fn, {}, early, lookback_days=0) == 0


def test_negative_lookback_rejected():
    with pytest.raises(ValueError):
        consecutive_missed_days(MON, due(DAILY), {}, START, lookback_days=-1)


def test_order_ended_stops_being_due():
    # Order ended Friday: weekend days not due, so they neither count nor break.
    fn = due(DAILY, START, d(-3))
    outcomes = taken_all_before(d(-3)) | {d(-3): MISSED}
    assert consecutive_missed_days(MON, fn, outcomes, START) == 1


def test_plain_string_outcomes_accepted():
    outcomes = {d(-1): "missed", d(-2): "taken"}
    assert consecutive_missed_days(MON, due(DAILY), outcomes, START) == 1


@given(st.lists(st.sampled_from([TAKEN, MISSED, None]), min_size=0, max_size=40), st.frozensets(st.integers(0, 6)))
def test_matches_brute_force(history, weekdays):
    start = MON - timedelta(days=len(history))
    outcomes = {start + timedelta(days=k): o for k, o in enumerate(history) if o is not None}
    fn = due(weekdays, start)
    # Brute force: due days before MON, newest first, count until a TAKEN.
    due_days = [x for x in (start + timedelta(days=k) for k in range(len(history))) if fn(x)]
    expected = 0
    for x in reversed(due_days):
        if outcomes.get(x) is TAKEN:
            break
        expected += 1
    assert consecutive_missed_days(MON, fn, outcomes, start) == expected


# --- missed_dose_block ---------------------------------------------------------------

OPIOIDS = [Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE]


@pytest.mark.parametrize("drug", OPIOIDS)
@pytest.mark.parametrize("missed", [0, 1, 2])
def test_no_block_below_3(drug, missed):
    assert missed_dose_block(drug, missed, DEFAULT_POLICY, released=False) is None


def test_block_at_3():
    msg = missed_dose_block(Drug.METHADONE, 3, DEFAULT_POLICY, released=False)
    assert msg == "3 consecutive missed days: dose blocked until a doctor reviews."


def test_block_at_4_adds_restart_limit():
    msg = missed_dose_block(Drug.METHADONE, 4, DEFAULT_POLICY, released=False)
    assert msg == "4 consecutive missed days: dose blocked until a doctor reviews; restart at most 30 mg."


@pytest.mark.parametrize("missed", [5, 9])
def test_block_at_5_adds_new_start(missed):
    msg = missed_dose_block(Drug.METHADONE, missed, DEFAULT_POLICY, released=False)
    assert msg == (
        f"{missed} consecutive missed days: dose blocked until a doctor reviews; "
        "restart at most 30 mg; treat as a new start."
    )


@pytest.mark.parametrize("drug", [Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE])
def test_buprenorphine_block_has_no_methadone_mg(drug):
    assert missed_dose_block(drug, 3, DEFAULT_POLICY, released=False) == (
        "3 consecutive missed days: dose blocked until a doctor reviews."
    )
    msg4 = missed_dose_block(drug, 4, DEFAULT_POLICY, released=False)
    assert msg4.startswith("4 consecutive missed days: dose blocked until a doctor reviews")
    assert "mg" not in msg4
    msg5 = missed_dose_block(drug, 5, DEFAULT_POLICY, released=False)
    assert "treat as a new start" in msg5 and "mg" not in msg5


@pytest.mark.parametrize("drug", OPIOIDS)
@pytest.mark.parametrize("missed", [3, 4, 5, 20])
def test_released_means_no_block(drug, missed):
    assert missed_dose_block(drug, missed, DEFAULT_POLICY, released=True) is None


@pytest.mark.parametrize("drug", [Drug.DISULFIRAM, Drug.ACAMPROSATE])
@pytest.mark.parametrize("missed", [3, 5, 30])
def test_non_opioids_never_blocked(drug, missed):
    assert missed_dose_block(drug, missed, DEFAULT_POLICY, released=False) is None


def test_thresholds_from_policy():
    policy = Policy(
        missed_days_block=2,
        missed_days_restart_limit=3,
        missed_days_new_start=7,
        methadone_restart_max_mg=Decimal("25"),
    )
    assert missed_dose_block(Drug.METHADONE, 1, policy, released=False) is None
    assert missed_dose_block(Drug.METHADONE, 2, policy, released=False) == (
        "2 consecutive missed days: dose blocked until a doctor reviews."
    )
    assert "restart at most 25 mg" in missed_dose_block(Drug.METHADONE, 3, policy, released=False)
    assert "new start" not in missed_dose_block(Drug.METHADONE, 6, policy, released=False)
    assert "new start" in missed_dose_block(Drug.METHADONE, 7, policy, released=False)


def test_singular_day():
    policy = Policy(missed_days_block=1)
    assert missed_dose_block(Drug.METHADONE, 1, policy, released=False) == (
        "1 consecutive missed day: dose blocked until a doctor reviews."
    )


def test_counts_feed_block():
    # End to end: Mon-Fri dosing, missed Wed, Thu, Fri; Monday's dose is blocked.
    outcomes = taken_all_before(MON)
    for k in (3, 4, 5):
        outcomes[d(-k)] = MISSED
    missed = consecutive_missed_days(MON, due(WEEKDAYS), outcomes, START)
    assert missed == 3
    assert missed_dose_block(Drug.METHADONE, missed, DEFAULT_POLICY, released=False) is not None
