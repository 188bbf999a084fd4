"""Consecutive missed opioid days and the resulting block (DOMAIN.md rule 4)."""

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from enum import StrEnum

from dispensing.enums import Drug
from dispensing.messages import Message
from dispensing.policy import Policy


class DayOutcome(StrEnum):
    TAKEN = "taken"
    MISSED = "missed"


def consecutive_missed_days(
    day: date,
    is_due: Callable[[date], bool],
    outcomes: Mapping[date, DayOutcome],
    treatment_start: date,
    lookback_days: int = 60,
) -> int:
    """Count due days missed in a row before `day` (`day` itself not counted)."""
    if lookback_days < 0:
        raise ValueError(f"lookback_days must be 0 or more; got {lookback_days}.")
    earliest = max(treatment_start, day - timedelta(days=lookback_days))
    count = 0
    d = day - timedelta(days=1)
    while d >= earliest:
        # Non-due days (weekends, off-days of alternate-day dosing) neither count nor break the run.
        if is_due(d):
            if outcomes.get(d) == DayOutcome.TAKEN:  # == so plain "taken" strings work too
                break
            # Withheld, no-show, or nothing recorded at all: the patient had no dose that day.
            count += 1
        d -= timedelta(days=1)
    return count


def missed_dose_block(drug: Drug, missed: int, policy: Policy, *, released: bool) -> Message | None:
    """Message blocking the next opioid dose after too many missed days, or None if no block."""
    if not drug.is_opioid or released or missed < policy.missed_days_block:
        return None
    new_start = missed >= policy.missed_days_new_start
    # The restart cap is a methadone dose; a mg figure would be wrong for buprenorphine.
    if missed >= policy.missed_days_restart_limit and drug is Drug.METHADONE:
        code = "block.new_start_cap" if new_start else "block.restart_cap"
        return Message(code, missed=missed, restart_max_mg=policy.methadone_restart_max_mg)
    if new_start:
        return Message("block.new_start", missed=missed)
    return Message("block.missed_one_day" if missed == 1 else "block.missed_days", missed=missed)
