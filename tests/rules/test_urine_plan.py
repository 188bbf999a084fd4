"""rules/urine_plan: who is in the programme, the gaps, and when and why a plan is redrawn."""

from dataclasses import dataclass, replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from dispensing.enums import Drug
from dispensing.policy import Policy
from dispensing.rules.urine_plan import PlanInputs, gaps, plan_inputs, replan_reason

POLICY = Policy()


@dataclass(frozen=True)
class Order:
    drug: Drug
    course_start: date
    pickup_weekday_set: frozenset[int]


inputs = st.builds(
    PlanInputs,
    children_rule=st.booleans(),
    urine_order_id=st.one_of(st.none(), st.integers(1, 10**6)),
    course_start=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    weekdays=st.frozensets(st.integers(0, 6)),
    policy_max_gap=st.integers(7, 400),
    policy_min_gap=st.integers(1, 60),
)


def test_children_at_home_count_only_in_substitution_treatment():
    antabus = Order(Drug.DISULFIRAM, date(2026, 1, 5), frozenset({0, 2}))
    methadone = Order(Drug.METHADONE, date(2026, 2, 2), frozenset({0, 1, 2, 3, 4}))
    assert not plan_inputs(True, [antabus], None, POLICY).children_rule
    both = plan_inputs(True, [antabus, methadone], None, POLICY)
    assert both.children_rule and both.applies and both.rules == ("children_at_home",)
    assert both.course_start == date(2026, 2, 2)  # the opioid course counts
    assert both.weekdays == frozenset({0, 1, 2, 3, 4})


def test_a_urine_order_counts_only_while_an_order_is_in_force():
    assert plan_inputs(False, [], 7, POLICY).urine_order_id is None
    assert not plan_inputs(False, [], 7, POLICY).applies


def test_the_fingerprint_keeps_the_stored_format():
    i = PlanInputs(True, None, date(2026, 3, 2), frozenset({4, 0, 2}), 92, 14)
    assert i.fingerprint() == "children=1;order=-;course=2026-03-02;days=024;policy=92/14"
    assert replace(i, children_rule=False).fingerprint() is None  # the rule does not apply


@given(inputs, inputs)
def test_same_fingerprint_iff_same_inputs(a, b):
    if a.applies and b.applies:
        assert (a.fingerprint() == b.fingerprint()) is (a == b)


@given(inputs, inputs)
def test_the_reason_names_what_changed(old, new):
    if not (old.applies and new.applies):
        return
    reason = replan_reason(old.fingerprint(), new)
    if old == new:
        assert reason == "plan extended"
    else:
        assert reason.startswith("changed: ")
        assert ("children at home" in reason) is (old.children_rule != new.children_rule)
        assert ("attendance days" in reason) is (old.weekdays != new.weekdays)
        assert ("new treatment course" in reason) is (old.course_start != new.course_start)


def test_a_first_plan_says_which_rule_applies():
    i = PlanInputs(True, 5, None, frozenset({1}), 92, 14)
    assert replan_reason(None, i) == "rule applies: children at home, doctor's urine order"


@given(inputs, st.one_of(st.none(), st.integers(2, 365)))
def test_gaps(i, order_max):
    max_gap, min_gap = gaps(i, order_max)
    present = [g for g in (i.policy_max_gap if i.children_rule else None, order_max) if g is not None]
    if not present:
        assert (max_gap, min_gap) == (None, None)
        return
    assert max_gap == min(present)  # the shorter maximum wins
    assert 1 <= min_gap <= max(1, max_gap // 2)  # at most half: the day stays unpredictable
    assert min_gap <= i.policy_min_gap
