"""Consecutive missed days and the missed-dose block, for many patients in one go."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from dispensing.enums import Drug
from dispensing.messages import Message
from dispensing.models import BlockRelease, Prescription, Slot, SlotStatus
from dispensing.rules.missed import DayOutcome, consecutive_missed_days, missed_dose_block
from dispensing.rules.schedule import local_today
from dispensing.services.context import Ctx
from dispensing.services.sql import among_pairs

LOOKBACK_DAYS = 30  # a run longer than this is shown as 30: it is a new start either way
RECENT_DAYS = 3  # first read only this many days back: a weekend and the day before it (see missed_states)

_OUTCOME = {
    SlotStatus.DISPENSED: DayOutcome.TAKEN,
    SlotStatus.COVERED: DayOutcome.TAKEN,
    SlotStatus.MISSED: DayOutcome.MISSED,
    SlotStatus.WITHHELD: DayOutcome.MISSED,  # no medicine that day: tolerance falls all the same
}


# Which status speaks for a day of several slots (the parts of a split dose): a dose taken, else a
# dose missed or withheld, else one still open; cancelled only when every part was.
_RANK = {
    SlotStatus.CANCELLED: 0,
    SlotStatus.DUE: 1,
    SlotStatus.PREPARED: 1,
    SlotStatus.MISSED: 2,
    SlotStatus.WITHHELD: 2,
    SlotStatus.DISPENSED: 3,
    SlotStatus.COVERED: 3,
}


@dataclass(frozen=True)
class MissedState:
    missed: int
    blocked_reason: Message | None


def missed_states(ctx: Ctx, orders: Sequence[Prescription], day: date) -> dict[tuple[int, Drug], MissedState]:
    """For each order's (patient, drug): missed days in a row before `day`, and the block if any.

    A doctor's review (a block release, or signing a version of the order) on or after the
    run began lifts the block; days missed after the review count again.
    """
    if not orders:
        return {}
    keys = {(o.patient_id, o.drug) for o in orders}
    since = day - timedelta(days=LOOKBACK_DAYS)
    # The pairs go to the (patient, drug, day) unique index (services/sql.among_pairs): a row-value IN
    # made SQLite read the whole slots table, and PostgreSQL's generic plan for a plain patient array
    # read each patient's whole history. A run walks back from `day` and stops at the last day a dose
    # was taken, and days from today on are never due. Nearly everyone took a dose within the last
    # few days: read those for all, and the rest of the window only for those who did not (not 30
    # days of 400 patients on every roster).
    end = min(day, ctx.today)
    recent = max(since, end - timedelta(days=RECENT_DAYS))
    outcomes: dict[tuple[int, Drug], dict[date, SlotStatus]] = defaultdict(dict)

    def read(pairs: set[tuple[int, Drug]], lo: date, hi: date) -> None:
        stmt = select(Slot.patient_id, Slot.drug, Slot.slot_date, Slot.status).where(
            Slot.slot_date >= lo, Slot.slot_date < hi
        )
        for patient_id, drug, slot_date, status in ctx.session.execute(
            among_pairs(ctx.session, stmt, Slot.patient_id, Slot.drug, pairs)
        ):
            day_statuses = outcomes[(patient_id, drug)]
            # A split dose has a slot per part: the day counts as taken when any part was (rule 18).
            if slot_date not in day_statuses or _RANK.get(status, 1) > _RANK.get(day_statuses[slot_date], 1):
                day_statuses[slot_date] = status

    read(keys, recent, end)
    older = {k for k in keys if not any(_OUTCOME.get(s) == DayOutcome.TAKEN for s in outcomes[k].values())}
    if older and since < recent:
        read(older, since, recent)

    policy = ctx.policy
    today = ctx.today
    runs = {}
    for order in orders:
        key = (order.patient_id, order.drug)
        statuses = outcomes.get(key, {})

        def is_due(d: date, statuses: dict[date, SlotStatus] = statuses, order: Prescription = order) -> bool:
            if d >= today:  # days that have not happened yet are neither taken nor missed
                return False
            if d in statuses:
                return statuses[d] != SlotStatus.CANCELLED
            return d.weekday() in order.weekday_set and d >= order.course_start

        day_outcomes = {d: _OUTCOME[s] for d, s in statuses.items() if s in _OUTCOME}
        runs[key] = (
            order,
            consecutive_missed_days(day, is_due, day_outcomes, order.course_start, LOOKBACK_DAYS),
            is_due,
            day_outcomes,
        )

    # Shorter runs block nothing: look for a doctor's review only behind the long ones (nearly never).
    long_runs = {key for key, (_, run, _, _) in runs.items() if run >= policy.missed_days_block}
    released = _last_releases(ctx, long_runs)
    result = {}
    for key, (order, run, is_due, day_outcomes) in runs.items():
        blocked = None
        if key in long_runs:
            reviews = [
                d for d in (released.get(key), local_today(order.signed_at, ctx.tz) if order.signed_at else None) if d
            ]
            review = max(reviews, default=order.course_start)
            since_review = consecutive_missed_days(
                day, is_due, day_outcomes, max(order.course_start, review), LOOKBACK_DAYS
            )
            blocked = missed_dose_block(order.drug, run, policy, released=since_review < policy.missed_days_block)
        result[key] = MissedState(run, blocked)
    return result


def _last_releases(ctx: Ctx, keys: set[tuple[int, Drug]]) -> dict[tuple[int, Drug], date]:
    """The day of the latest block release per (patient, drug)."""
    if not keys:
        return {}
    stmt = select(BlockRelease.patient_id, BlockRelease.drug, func.max(BlockRelease.released_on)).group_by(
        BlockRelease.patient_id, BlockRelease.drug
    )
    rows = ctx.session.execute(among_pairs(ctx.session, stmt, BlockRelease.patient_id, BlockRelease.drug, keys))
    return {(patient_id, drug): last for patient_id, drug, last in rows if (patient_id, drug) in keys}
