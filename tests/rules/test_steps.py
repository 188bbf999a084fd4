"""Dose schedules: dated steps of a taper or build-up (DOMAIN.md rule 18)."""

from datetime import date
from decimal import Decimal

import pytest

from dispensing.rules.steps import Step, StepProblem, check_steps, dose_in_force, format_steps, parse_steps

START = date(2026, 12, 1)
TAPER = (Step(date(2026, 12, 8), Decimal("55")), Step(date(2026, 12, 15), Decimal("50")))


def test_dose_in_force_switches_on_the_step_date():
    assert dose_in_force(Decimal("60"), TAPER, date(2026, 12, 7)) == Decimal("60")
    assert dose_in_force(Decimal("60"), TAPER, date(2026, 12, 8)) == Decimal("55")
    assert dose_in_force(Decimal("60"), TAPER, date(2026, 12, 14)) == Decimal("55")
    assert dose_in_force(Decimal("60"), TAPER, date(2027, 3, 1)) == Decimal("50")


def test_stored_form_round_trips():
    text = format_steps([Step(date(2026, 12, 8), Decimal("55.50"))])
    assert text == "2026-12-08=55.5"
    assert parse_steps(text) == (Step(date(2026, 12, 8), Decimal("55.5")),)
    assert format_steps([]) is None


def test_steps_are_put_in_date_order():
    assert check_steps(list(reversed(TAPER)), START, None) == TAPER


@pytest.mark.parametrize(
    ("steps", "end", "code"),
    [
        ([Step(date(2026, 12, 8), Decimal("55")), Step(date(2026, 12, 8), Decimal("50"))], None, "order.steps_overlap"),
        ([Step(START, Decimal("55"))], None, "order.step_not_after_start"),
        ([Step(date(2026, 11, 30), Decimal("55"))], None, "order.step_not_after_start"),
        ([Step(date(2026, 12, 20), Decimal("55"))], date(2026, 12, 19), "order.step_after_end"),
        ([Step(date(2026, 12, 8), Decimal("0"))], None, "order.step_dose_not_positive"),
    ],
)
def test_bad_schedules_are_refused(steps, end, code):
    with pytest.raises(StepProblem) as exc:
        check_steps(steps, START, end)
    assert exc.value.code == code


def test_step_on_the_end_date_is_allowed():
    assert check_steps([Step(date(2026, 12, 19), Decimal("55"))], START, date(2026, 12, 19))
