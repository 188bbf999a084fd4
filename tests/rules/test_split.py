"""Split doses: the day's dose in timed parts (DOMAIN.md rule 18)."""

from datetime import time
from decimal import Decimal

import pytest

from dispensing.rules.split import Part, SplitProblem, check_parts, format_parts, parse_parts, window_for

MORNING = Part(time(8, 0), Decimal("40"), True)
EVENING = Part(time(20, 0), Decimal("20"), False)


def test_parts_round_trip_and_sort_by_time():
    assert check_parts([EVENING, MORNING], Decimal("60")) == (MORNING, EVENING)
    text = format_parts([MORNING, EVENING])
    assert text == "08:00=40:s;20:00=20:t"
    assert parse_parts(text) == (MORNING, EVENING)
    assert format_parts([]) is None and check_parts([], Decimal("60")) == ()


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ([MORNING], "order.split_one_part"),
        ([MORNING, Part(time(8, 0), Decimal("20"), False)], "order.split_same_time"),
        ([Part(None, Decimal("30"), True), Part(None, Decimal("30"), True)], "order.split_same_time"),
        ([MORNING, Part(time(20, 0), Decimal("10"), False)], "order.split_sum"),
        (
            [MORNING, Part(time(20, 0), Decimal("0"), False), Part(time(21, 0), Decimal("20"), False)],
            "order.split_dose_not_positive",
        ),
    ],
)
def test_bad_splits_are_refused(parts, code):
    with pytest.raises(SplitProblem) as exc:
        check_parts(parts, Decimal("60"))
    assert exc.value.code == code


WINDOWS = [(time(8, 0), time(10, 0)), (time(14, 30), time(16, 0))]


@pytest.mark.parametrize(
    ("at", "index", "expected"),
    [
        (time(8, 0), 0, 0),  # opens at its time
        (time(9, 59), 1, 0),
        (time(10, 0), 1, 0),  # after the morning window closes: the last one opened before
        (time(15, 0), 0, 1),
        (time(20, 0), 1, 1),  # an evening take-home part: handed out at the afternoon window
        (time(6, 0), 0, 0),  # before any window: the first
        (None, 1, 1),
        (None, 5, 1),
    ],
)
def test_window_for_a_part(at, index, expected):
    assert window_for(at, index, WINDOWS) == expected
    assert window_for(at, index, []) is None
