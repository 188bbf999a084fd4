"""A paper record entered afterwards (the system was down): when the dose was given, when it may be entered.

A dose handed out from the contingency sheet is entered later with the time written on the sheet
(`given_at`). That time must lie on the slot's own calendar day in the clinic's zone, never in the
future, and the record must be entered on that day or the next (a longer gap is no longer a record
of memory and paper, but a correction for the doctor).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ENTRY_DAYS_AFTER = 1  # the record is entered on the slot's day or this many days after


@dataclass(frozen=True)
class Refusal:
    """Why the paper record cannot be entered: a stable code and the values its message needs."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


def paper_record_refusal(given_at: datetime, slot_date: date, now: datetime, tz: ZoneInfo) -> Refusal | None:
    """None when a dose given at `given_at` for the slot of `slot_date` may be entered at `now`."""
    if given_at.tzinfo is None or given_at.utcoffset() is None:
        # 08:15 without a zone is 08:15 where? Refuse rather than guess (DST shifts it by an hour).
        return Refusal("paper.given_at_without_zone")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if given_at > now:
        return Refusal("paper.given_in_future", {"given_at": given_at.astimezone(tz), "now": now.astimezone(tz)})
    given_on = given_at.astimezone(tz).date()
    if given_on != slot_date:
        return Refusal("paper.given_on_other_day", {"given_on": given_on, "slot_date": slot_date})
    today = now.astimezone(tz).date()
    if today > slot_date + timedelta(days=ENTRY_DAYS_AFTER):
        return Refusal("paper.entered_too_late", {"slot_date": slot_date, "today": today})
    return None
