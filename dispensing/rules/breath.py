"""Breathalyser rule (DOMAIN.md rule 3): readings in promille, withhold above the threshold."""

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from dispensing.enums import Drug
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
    reason: str | None


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
                f"A breathalyser reading is required before every {drug.value} dose "
                f"(limit {threshold:.2f} ‰): take a breathalyser reading first.",
            )
        return BreathDecision(BreathOutcome.ALLOW, None)
    # Validate even a Decimal: a negative or absurd reading is a typing or device error.
    reading = parse_promille(reading)
    if threshold is None or reading <= threshold:
        return BreathDecision(BreathOutcome.ALLOW, None)
    if drug is Drug.DISULFIRAM:
        reason = (
            f"Breath alcohol {reading:.2f} ‰ is above the disulfiram limit of {threshold:.2f} ‰: "
            f"dose withheld, doctor alerted. Record the dose as withheld; "
            f"do not give disulfiram today."
        )
    else:
        reason = (
            f"Breath alcohol {reading:.2f} ‰ is above the clinic limit of {threshold:.2f} ‰ for "
            f"{drug.value}: dose withheld. Consult the doctor before giving any dose."
        )
    return BreathDecision(BreathOutcome.WITHHOLD, reason)


def _to_decimal(value: str | int | float | Decimal) -> Decimal:
    """Convert accepted input types to Decimal, or raise ValueError with a human message."""
    if isinstance(value, bool):
        raise ValueError("Breath reading must be a number in promille, e.g. 0.00 or 0,25.")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Breath reading must be a number in promille between 0.00 and 5.00.")
        # repr() is the shortest exact round trip: 0.25 -> "0.25", not 0.2500000000000000055...
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().removesuffix("‰").strip()
        if text.startswith("-"):
            raise ValueError(
                "Breath reading cannot be negative: enter the promille shown on the breathalyser, e.g. 0.00."
            )
        if not _NUMBER_RE.fullmatch(text):
            raise ValueError(
                "Breath reading must be a number in promille, e.g. 0.00 or 0,25 "
                "(digits with one decimal comma or point)."
            )
        try:
            return Decimal(text.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the regex already guarantees a number
            raise ValueError("Breath reading must be a number in promille, e.g. 0.00.") from None
    raise ValueError(f"Breath reading must be a number in promille, not {type(value).__name__}.")


def parse_promille(value: str | int | float | Decimal) -> Decimal:
    """Parse a breathalyser reading in promille (0.00-5.00, at most 2 decimals) to a Decimal."""
    number = _to_decimal(value)
    if not number.is_finite():
        raise ValueError("Breath reading must be a number in promille between 0.00 and 5.00.")
    if number < 0:
        raise ValueError("Breath reading cannot be negative: enter the promille shown on the breathalyser, e.g. 0.00.")
    if number > _MAX_PROMILLE:
        raise ValueError(
            f"Breath reading {number} ‰ is above 5.00 ‰, which is not plausible: check the "
            f"breathalyser and the value typed (promille, not per cent or mg/L)."
        )
    if number != number.quantize(_CENT):
        raise ValueError(
            f"Breath reading {number} ‰ has more than 2 decimals: enter it as shown on the breathalyser, e.g. 0.25."
        )
    if number.is_zero():
        return Decimal("0.00")  # not "-0.00"
    return number.quantize(_CENT)
