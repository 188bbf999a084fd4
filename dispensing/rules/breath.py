"""Breathalyser rule (DOMAIN.md rule 3): readings in promille, withhold above the threshold."""

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from dispensing.enums import Drug
from dispensing.messages import Message, Promille, RuleViolation
from dispensing.policy import Policy

_MAX_PROMILLE = Decimal("5.00")
_CENT = Decimal("0.01")
# Digits with at most one decimal separator; "," is the Danish decimal comma.
_NUMBER_RE = re.compile(r"[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+")


class BreathOutcome(StrEnum):
    ALLOW = "allow"
    WITHHOLD = "withhold"
    MISSING = "missing"


@dataclass(frozen=True)
class BreathDecision:
    outcome: BreathOutcome
    reason: Message | None


def breath_required(drug: Drug, policy: Policy) -> bool:
    """Whether a breathalyser reading is required before this drug is given."""
    if drug is Drug.DISULFIRAM:
        return True
    if drug.is_opioid:
        return policy.opioid_breath_required
    return False


def breath_threshold(drug: Drug, policy: Policy) -> Decimal | None:
    """Promille above which the dose is withheld; None if the drug has no breath rule."""
    if drug is Drug.DISULFIRAM:
        return policy.disulfiram_breath_threshold
    if drug.is_opioid:
        return policy.opioid_breath_threshold
    return None


def check_breath(drug: Drug, reading: Decimal | None, policy: Policy) -> BreathDecision:
    """Decide whether a dose may be given given the breathalyser reading (None = not taken)."""
    threshold = breath_threshold(drug, policy)
    if reading is None:
        if breath_required(drug, policy):
            return BreathDecision(
                BreathOutcome.MISSING,
                Message("breath.required", drug=drug, limit=Promille(threshold or 0)),
            )
        return BreathDecision(BreathOutcome.ALLOW, None)
    # Validate even a Decimal: a negative or absurd reading is a typing or device error.
    reading = parse_promille(reading)
    if threshold is None or reading <= threshold:
        return BreathDecision(BreathOutcome.ALLOW, None)
    if drug is Drug.DISULFIRAM:
        reason = Message("breath.over_disulfiram_limit", reading=Promille(reading), limit=Promille(threshold))
    else:
        reason = Message("breath.over_clinic_limit", reading=Promille(reading), limit=Promille(threshold), drug=drug)
    return BreathDecision(BreathOutcome.WITHHOLD, reason)


def _to_decimal(value: str | int | float | Decimal) -> Decimal:
    """Convert accepted input types to Decimal, or raise ValueError with a human message."""
    if isinstance(value, bool):
        raise RuleViolation("breath.not_a_number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RuleViolation("breath.out_of_range")
        # repr() is the shortest exact round trip: 0.25 -> "0.25", not 0.2500000000000000055...
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().removesuffix("‰").strip()
        if text.startswith("-"):
            raise RuleViolation("breath.negative")
        if not _NUMBER_RE.fullmatch(text):
            raise RuleViolation("breath.not_a_number")
        try:
            return Decimal(text.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the regex already guarantees a number
            raise RuleViolation("breath.not_a_number") from None
    raise RuleViolation("breath.not_a_number")


def parse_promille(value: str | int | float | Decimal) -> Decimal:
    """Parse a breathalyser reading in promille (0.00-5.00, at most 2 decimals) to a Decimal."""
    number = _to_decimal(value)
    if not number.is_finite():
        raise RuleViolation("breath.out_of_range")
    if number < 0:
        raise RuleViolation("breath.negative")
    if number > _MAX_PROMILLE:
        raise RuleViolation("breath.implausible", reading=number)
    if number != number.quantize(_CENT):
        raise RuleViolation("breath.too_many_decimals", reading=number)
    if number.is_zero():
        return Decimal("0.00")  # not "-0.00"
    return number.quantize(_CENT)
