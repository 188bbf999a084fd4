from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispensing.policy import DEFAULT_POLICY, Policy
from dispensing.rules.titration import DoseChange, check_methadone_titration

D1 = date(2026, 3, 2)  # "day 1" of treatment


def day(n: int) -> date:
    return D1 + timedelta(days=n - 1)


def ch(n: int, mg: str) -> DoseChange:
    return DoseChange(day(n), Decimal(mg))


def check(mg: str, n: int, history, policy: Policy = DEFAULT_POLICY, **kw) -> list[str]:
    return check_methadone_titration(Decimal(mg), day(n), history, policy, **kw)


# --- first day ----------------------------------------------------------------


@pytest.mark.parametrize("mg", ["5", "30", "30.0", "29.99"])
def test_first_day_within_limit(mg):
    assert check(mg, 1, []) == []


@pytest.mark.parametrize("mg", ["30.5", "30.01", "40"])
def test_first_day_over_limit(mg):
    problems = check(mg, 1, [])
    assert len(problems) == 1
    msg = problems[0]
    assert "first day" in msg.lower()
    assert "30 mg" in msg
    assert "override reason" in msg


def test_first_day_message_formats_dose():
    assert "30.5 mg exceeds" in check("30.5", 1, [])[0]


def test_first_day_when_history_only_on_or_after_effective():
    # Entries on or after the effective date are ignored: still a first day.
    history = [ch(1, "20"), ch(5, "30")]
    assert check("30", 1, history) == []
    assert len(check("35", 1, history)) == 1


def test_first_day_limit_from_policy():
    policy = Policy(methadone_first_dose_max_mg=Decimal("20"))
    assert check("20", 1, [], policy) == []
    assert "20 mg" in check("25", 1, [], policy)[0]


# --- step --------------------------------------------------------------------


@pytest.mark.parametrize("mg", ["40", "39.5", "30", "35"])
def test_step_within_limit(mg):
    assert check(mg, 2, [ch(1, "30")]) == []


@pytest.mark.parametrize("mg", ["40.1", "45"])
def test_step_over_limit(mg):
    problems = check(mg, 2, [ch(1, "30")])
    assert len(problems) == 1
    assert "step" in problems[0].lower()
    assert "10 mg" in problems[0]
    assert "override reason" in problems[0]


def test_step_message_names_increase_and_previous_dose():
    msg = check("40.1", 2, [ch(1, "30")])[0]
    assert "10.1 mg" in msg
    assert "from 30 mg" in msg


def test_step_compares_with_dose_in_effect_day_before():
    # 30 from day 1, 40 from day 4; on day 10 the dose in effect is 40.
    history = [ch(1, "30"), ch(4, "40")]
    assert check("50", 12, history) == []
    assert len(check("50.5", 12, history)) == 1


def test_history_any_order():
    history = [ch(4, "40"), ch(1, "30")]
    assert check("50", 12, history) == []
    assert check("50.5", 12, list(reversed(history))) == check("50.5", 12, history)


def test_same_day_changes_later_one_wins():
    # Two orders effective day 1: the 40 mg one superseded the 30 mg one.
    assert check("50", 10, [ch(1, "30"), ch(1, "40")]) == []
    problems = check("50", 10, [ch(1, "40"), ch(1, "30")])
    assert len(problems) == 1 and "from 30 mg" in problems[0]


def test_step_limit_from_policy():
    policy = Policy(methadone_step_max_mg=Decimal("5"))
    assert check("35", 2, [ch(1, "30")], policy) == []
    assert "5 mg" in check("36", 2, [ch(1, "30")], policy)[0]


# --- weekly ------------------------------------------------------------------


def test_equal_dose_after_overridden_jump_passes():
    # 30 -> 60 on day 2 (doctor overrode); re-signing 60 on day 5 needs no new override.
    assert check("60", 5, [ch(1, "30"), ch(2, "60")]) == []
    assert len(check("60.5", 5, [ch(1, "30"), ch(2, "60")])) == 1


def test_weekly_two_steps_reach_exactly_20():
    # 30 -> 40 on day 4 -> 50: +20 over the window, at the limit.
    history = [ch(1, "30"), ch(4, "40")]
    assert check("50", 8, history) == []
    assert check("50", 7, history) == []


def test_weekly_third_step_within_7_days_refused():
    # 30 (day 1) -> 40 (day 4) -> 50 (day 7) -> 60 on day 8: 30 mg above day 1's 30 mg.
    history = [ch(1, "30"), ch(4, "40"), ch(7, "50")]
    problems = check("60", 8, history)
    assert len(problems) == 1
    msg = problems[0]
    assert "7-day" in msg
    assert "20 mg per 7 days" in msg
    assert "lowest dose of the past 7 days (30 mg)" in msg
    assert "override reason" in msg


def test_weekly_window_is_the_7_days_before():
    history = [ch(1, "30"), ch(4, "40"), ch(7, "50")]
    # day 11: window days 4..10, lowest 40 -> +20 ok
    assert check("60", 11, history) == []
    # day 10: window days 3..9, day 3 still at 30 -> +30 refused
    assert len(check("60", 10, history)) == 1


def test_weekly_boundary_20_vs_20_01():
    history = [ch(1, "30"), ch(4, "40"), ch(6, "45")]
    assert check("50", 8, history) == []
    problems = check("50.01", 8, history)  # step 5.01 is fine, +20.01 over 7 days is not
    assert len(problems) == 1 and "7-day" in problems[0]


def test_weekly_and_step_both_reported():
    history = [ch(1, "30"), ch(4, "40")]
    problems = check("55", 6, history)
    assert len(problems) == 2
    assert "step" in problems[0].lower()
    assert "7-day" in problems[1]


def test_weekly_ignores_days_before_first_history_entry():
    # Only 2 days of history: no phantom 0 mg days before treatment start.
    assert check("40", 2, [ch(1, "30")]) == []


def test_weekly_sees_a_dip_inside_the_window():
    # 60 -> 40 (day 5) -> 50 (day 6) -> 55 (day 8) -> 60 on day 9: lowest in window is 40,
    # +20 ok; 60.5 would be +20.5 (step 5.5 is fine).
    history = [ch(1, "60"), ch(5, "40"), ch(6, "50"), ch(8, "55")]
    assert check("60", 9, history) == []
    problems = check("60.5", 9, history)
    assert len(problems) == 1 and "(40 mg)" in problems[0]


def test_weekly_considers_dose_in_effect_at_window_start():
    # Dose 30 set long ago, 40 on day 20, 50 on day 23; window for day 25 is 18..24 and
    # starts in the 30 mg period.
    history = [ch(1, "30"), ch(20, "40"), ch(23, "50")]
    assert len(check("60", 25, history)) == 1  # +30 over 30
    assert check("50", 25, history) == []


def test_weekly_limit_from_policy():
    policy = Policy(methadone_weekly_increase_max_mg=Decimal("15"))
    history = [ch(1, "30"), ch(4, "40")]
    assert check("45", 7, history, policy) == []
    assert "15 mg per 7 days" in check("46", 7, history, policy)[0]


# --- decreases ----------------------------------------------------------------


@pytest.mark.parametrize("mg", ["80", "70", "10", "0.5"])
def test_decrease_or_equal_always_passes(mg):
    history = [ch(1, "30"), ch(4, "40"), ch(7, "50"), ch(10, "60"), ch(13, "70"), ch(16, "80")]
    assert check(mg, 17, history) == []


def test_increase_after_decrease_measured_from_window_low():
    history = [ch(1, "80"), ch(10, "50")]
    assert check("60", 12, history) == []  # +10 step, +10 over the 50 mg low
    problems = check("70", 12, history)  # +20 step; +20 over the 50 mg low is at the limit
    assert len(problems) == 1 and "step" in problems[0].lower()
    problems = check("70", 15, [ch(1, "80"), ch(10, "50"), ch(12, "60")])  # step 10, +20: ok
    assert problems == []
    problems = check("71", 15, [ch(1, "80"), ch(10, "50"), ch(12, "61")])  # step 10, +21
    assert len(problems) == 1 and "7-day" in problems[0]


# --- restart -------------------------------------------------------------------


def test_restart_within_limit():
    assert check("30", 20, [ch(1, "80")], restart=True) == []


def test_restart_over_limit_even_if_decrease():
    problems = check("40", 20, [ch(1, "80")], restart=True)
    assert len(problems) == 1
    msg = problems[0]
    assert "restart" in msg.lower()
    assert "missed days" in msg
    assert "30 mg" in msg
    assert "override reason" in msg


def test_restart_uses_restart_limit_not_first_day_limit():
    policy = Policy(methadone_first_dose_max_mg=Decimal("30"), methadone_restart_max_mg=Decimal("20"))
    assert check("20", 20, [ch(1, "80")], policy, restart=True) == []
    assert "20 mg" in check("25", 20, [ch(1, "80")], policy, restart=True)[0]
    assert check("25", 1, [], policy) == []  # first day still uses 30


def test_restart_without_history():
    assert "restart" in check("35", 1, [], restart=True)[0].lower()


def test_restart_skips_step_and_weekly():
    # 10 -> 30 would break the step rule, but a restart is judged by the restart cap only.
    assert check("30", 20, [ch(19, "10")], restart=True) == []


# --- properties -----------------------------------------------------------------

doses = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("200"), places=1)


@st.composite
def histories(draw):
    n = draw(st.integers(1, 8))
    offsets = sorted(draw(st.lists(st.integers(1, 40), min_size=n, max_size=n, unique=True)))
    return [ch(o, str(draw(doses))) for o in offsets]


@given(histories(), st.integers(0, 20))
def test_equal_or_lower_than_current_dose_always_passes(history, gap):
    # Even if the current dose was reached by an overridden increase within the week.
    eff = history[-1].effective + timedelta(days=gap + 1)
    current = history[-1].dose_mg
    assert check_methadone_titration(current, eff, history, DEFAULT_POLICY) == []
    assert check_methadone_titration(current / 2, eff, history, DEFAULT_POLICY) == []


@given(histories(), st.integers(0, 20), doses)
def test_matches_brute_force(history, gap, new):
    eff = history[-1].effective + timedelta(days=gap + 1)
    problems = check_methadone_titration(new, eff, history, DEFAULT_POLICY)

    def dose_on(d):
        in_effect = [c for c in history if c.effective <= d]
        return in_effect[-1].dose_mg if in_effect else None

    prev = dose_on(eff - timedelta(days=1))
    week = [dose_on(eff - timedelta(days=k)) for k in range(1, 8)]
    low = min(w for w in week if w is not None)
    step_bad = new - prev > Decimal("10")
    week_bad = new > prev and new - low > Decimal("20")
    assert len(problems) == step_bad + week_bad
    assert any("step" in p.lower() for p in problems) == step_bad
    assert any("7-day" in p for p in problems) == week_bad


@given(histories(), st.integers(0, 20), doses)
def test_future_entries_ignored(history, gap, new):
    eff = history[-1].effective + timedelta(days=gap + 1)
    future = [DoseChange(eff, Decimal("1")), DoseChange(eff + timedelta(days=3), Decimal("500"))]
    assert check_methadone_titration(new, eff, history + future, DEFAULT_POLICY) == (
        check_methadone_titration(new, eff, history, DEFAULT_POLICY)
    )
