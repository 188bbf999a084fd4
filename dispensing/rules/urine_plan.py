"""Rule 7, the plan: who is in the test programme, the gaps between tests, and when a plan must be
redrawn. A plan is drawn from its inputs (PlanInputs); a stored plan carries their fingerprint, and a
plan whose fingerprint no longer matches the patient's inputs is redrawn (with the reason why)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from dispensing.enums import OPIOIDS, Drug
from dispensing.policy import Policy


class OrderInForce(Protocol):
    """What the plan reads of a signed order in force."""

    @property
    def drug(self) -> Drug: ...
    @property
    def course_start(self) -> date: ...
    @property
    def pickup_weekday_set(self) -> frozenset[int]: ...


@dataclass(frozen=True)
class PlanInputs:
    """Everything a patient's plan depends on."""

    children_rule: bool  # children at home and in substitution treatment
    urine_order_id: int | None  # the doctor's urine order in force
    course_start: date | None  # the treatment course the gaps count within
    weekdays: frozenset[int]  # the days the patient comes
    policy_max_gap: int
    policy_min_gap: int

    @property
    def applies(self) -> bool:
        return bool(self.weekdays) and (self.children_rule or self.urine_order_id is not None)

    @property
    def rules(self) -> tuple[str, ...]:
        """Why the patient is in the programme: "children_at_home", "doctor_order"."""
        return tuple(
            r
            for r, on in (("children_at_home", self.children_rule), ("doctor_order", self.urine_order_id is not None))
            if on
        )

    def _parts(self) -> dict[str, str]:
        return {
            "children": str(int(self.children_rule)),
            "order": str(self.urine_order_id or "-"),
            "course": str(self.course_start),
            "days": "".join(str(d) for d in sorted(self.weekdays)),
            "policy": f"{self.policy_max_gap}/{self.policy_min_gap}",
        }

    def fingerprint(self) -> str | None:
        """What a stored plan keeps of its inputs (UrinePlan.basis); None when the rule does not apply."""
        if not self.applies:
            return None
        return ";".join(f"{k}={v}" for k, v in self._parts().items())


def plan_inputs(
    children_at_home: bool, orders: Iterable[OrderInForce], urine_order_id: int | None, policy: Policy
) -> PlanInputs:
    """The inputs from a patient's flags and signed orders in force (the doctor's urine order counts
    only while some order is in force)."""
    orders = list(orders)
    opioid = [o for o in orders if o.drug in OPIOIDS]
    courses = [o.course_start for o in (opioid or orders)]
    weekdays: set[int] = set()
    for o in orders:  # the patient comes on the pickup days of every order in force
        weekdays |= o.pickup_weekday_set
    return PlanInputs(
        children_rule=children_at_home and bool(opioid),
        urine_order_id=urine_order_id if orders else None,
        course_start=min(courses) if courses else None,
        weekdays=frozenset(weekdays),
        policy_max_gap=policy.urine_max_gap_days,
        policy_min_gap=policy.urine_min_gap_days,
    )


def gaps(inputs: PlanInputs, order_max_gap: int | None) -> tuple[int | None, int | None]:
    """(max gap, min gap) in days; (None, None) when only the doctor's extra days apply. The shorter
    maximum wins; the minimum keeps tests apart but is at most half the maximum, so the day stays
    unpredictable."""
    maxima = [g for g in (inputs.policy_max_gap if inputs.children_rule else None, order_max_gap) if g is not None]
    if not maxima:
        return None, None
    max_gap = min(maxima)
    return max_gap, min(inputs.policy_min_gap, max(1, max_gap // 2))


_NAMES = {
    "children": "children at home",
    "order": "doctor's urine order",
    "course": "new treatment course",
    "days": "attendance days",
    "policy": "clinic policy",
}


def replan_reason(old_fingerprint: str | None, new: PlanInputs) -> str:
    """Why a plan is (re)drawn, for the plan's record: which inputs changed since the stored plan."""
    if old_fingerprint is None:
        return "rule applies: " + ", ".join(_NAMES[k] for k in ("children", "order") if k in _on(new))
    old = dict(part.split("=", 1) for part in old_fingerprint.split(";"))
    changed = [k for k, v in new._parts().items() if old.get(k) != v]
    return "changed: " + ", ".join(_NAMES[k] for k in changed) if changed else "plan extended"


def _on(inputs: PlanInputs) -> set[str]:
    return {k for k, on in (("children", inputs.children_rule), ("order", inputs.urine_order_id is not None)) if on}
