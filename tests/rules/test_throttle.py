"""The throttle's rule at its edges."""

from datetime import UTC, datetime, timedelta

from dispensing.rules.throttle import WINDOW, retry_after

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ago(**kw) -> datetime:
    return NOW - timedelta(**kw)


def test_fewer_failures_than_the_limit_never_wait():
    assert retry_after([ago(seconds=1)] * 9, NOW, 10) is None
    assert retry_after([], NOW, 1) is None


def test_the_limit_reached_waits_until_the_oldest_counted_failure_leaves_the_window():
    failures = [ago(seconds=s) for s in range(10)]  # newest first: 0 s ... 9 s ago
    assert retry_after(failures, NOW, 10) == int(WINDOW.total_seconds()) - 9


def test_failures_older_than_the_window_do_not_count():
    failures = [ago(minutes=15)] * 10
    assert retry_after(failures, NOW, 10) is None
    almost = [ago(minutes=15) + timedelta(milliseconds=1)] * 10
    assert retry_after(almost, NOW, 10) == 1  # never "wait 0 seconds"
