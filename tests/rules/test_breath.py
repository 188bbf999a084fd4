from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispensing.enums import Drug
from dispensing.policy import DEFAULT_POLICY, Policy
from dispensing.rules.breath import (
    BreathDecision,
    BreathOutcome,
    breath_required,
    breath_threshold,
    check_breath,
    parse_promille,
)

OPIOIDS = [Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE]
REQUIRED = Policy(opioid_breath_required=True)


# --- required / threshold -------------------------------------------------------


def test_disulfiram_always_required():
    assert breath_required(Drug.DISULFIRAM, DEFAULT_POLICY) is True
    assert breath_required(Drug.DISULFIRAM, REQUIRED) is True


@pytest.mark.parametrize("drug", OPIOIDS)
def test_opioid_required_follows_policy(drug):
    assert breath_required(drug, DEFAULT_POLICY) is False
    assert breath_required(drug, REQUIRED) is True


def test_acamprosate_never_required():
    assert breath_required(Drug.ACAMPROSATE, DEFAULT_POLICY) is False
    assert breath_required(Drug.ACAMPROSATE, REQUIRED) is False


def test_thresholds():
    assert breath_threshold(Drug.DISULFIRAM, DEFAULT_POLICY) == Decimal("0.00")
    for drug in OPIOIDS:
        assert breath_threshold(drug, DEFAULT_POLICY) == Decimal("0.50")
    assert breath_threshold(Drug.ACAMPROSATE, DEFAULT_POLICY) is None


def test_thresholds_from_policy():
    policy = Policy(disulfiram_breath_threshold=Decimal("0.05"), opioid_breath_threshold=Decimal("0.20"))
    assert breath_threshold(Drug.DISULFIRAM, policy) == Decimal("0.05")
    assert breath_threshold(Drug.METHADONE, policy) == Decimal("0.20")
    assert check_breath(Drug.DISULFIRAM, Decimal("0.05"), policy).outcome is BreathOutcome.ALLOW
    assert check_breath(Drug.METHADONE, Decimal("0.21"), policy).outcome is BreathOutcome.WITHHOLD


# --- disulfiram -----------------------------------------------------------------


def test_disulfiram_zero_allows():
    assert check_breath(Drug.DISULFIRAM, Decimal("0.00"), DEFAULT_POLICY) == BreathDecision(BreathOutcome.ALLOW, None)


@pytest.mark.parametrize("reading", ["0.01", "0.50", "1.20"])
def test_disulfiram_above_zero_withholds(reading):
    d = check_breath(Drug.DISULFIRAM, Decimal(reading), DEFAULT_POLICY)
    assert d.outcome is BreathOutcome.WITHHOLD
    assert "disulfiram" in d.reason
    assert "0.00 ‰" in d.reason
    assert f"{Decimal(reading):.2f} ‰" in d.reason
    assert "withheld" in d.reason and "doctor alerted" in d.reason


def test_disulfiram_missing():
    d = check_breath(Drug.DISULFIRAM, None, DEFAULT_POLICY)
    assert d.outcome is BreathOutcome.MISSING
    assert "take a breathalyser reading first" in d.reason
    assert "disulfiram" in d.reason


# --- opioids ---------------------------------------------------------------------


@pytest.mark.parametrize("drug", OPIOIDS)
@pytest.mark.parametrize("reading", ["0.00", "0.49", "0.50"])
def test_opioid_at_or_below_threshold_allows(drug, reading):
    d = check_breath(drug, Decimal(reading), DEFAULT_POLICY)
    assert d == BreathDecision(BreathOutcome.ALLOW, None)


@pytest.mark.parametrize("drug", OPIOIDS)
@pytest.mark.parametrize("reading", ["0.51", "2.00"])
def test_opioid_above_threshold_withholds(drug, reading):
    d = check_breath(drug, Decimal(reading), DEFAULT_POLICY)
    assert d.outcome is BreathOutcome.WITHHOLD
    assert "0.50 ‰" in d.reason
    assert drug.value.replace("_", "/") in d.reason
    assert "withheld" in d.reason and "doctor" in d.reason


def test_opioid_reading_checked_even_when_not_required():
    assert not breath_required(Drug.METHADONE, DEFAULT_POLICY)
    d = check_breath(Drug.METHADONE, Decimal("0.51"), DEFAULT_POLICY)
    assert d.outcome is BreathOutcome.WITHHOLD


@pytest.mark.parametrize("drug", OPIOIDS)
def test_opioid_missing_depends_on_policy(drug):
    assert check_breath(drug, None, DEFAULT_POLICY) == BreathDecision(BreathOutcome.ALLOW, None)
    d = check_breath(drug, None, REQUIRED)
    assert d.outcome is BreathOutcome.MISSING
    assert "take a breathalyser reading first" in d.reason
    assert "0.50 ‰" in d.reason


def test_opioid_required_policy_same_threshold():
    assert check_breath(Drug.METHADONE, Decimal("0.50"), REQUIRED).outcome is BreathOutcome.ALLOW
    assert check_breath(Drug.METHADONE, Decimal("0.51"), REQUIRED).outcome is BreathOutcome.WITHHOLD


# --- acamprosate -----------------------------------------------------------------


@pytest.mark.parametrize("reading", [None, Decimal("0.00"), Decimal("3.00")])
def test_acamprosate_always_allows(reading):
    assert check_breath(Drug.ACAMPROSATE, reading, REQUIRED) == BreathDecision(BreathOutcome.ALLOW, None)


# --- check_breath validates the reading ------------------------------------------


@pytest.mark.parametrize("reading", [Decimal("-0.01"), Decimal("5.01"), Decimal("0.255")])
def test_check_breath_rejects_invalid_reading(reading):
    with pytest.raises(ValueError):
        check_breath(Drug.DISULFIRAM, reading, DEFAULT_POLICY)


def test_outcome_values():
    assert [o.value for o in BreathOutcome] == ["allow", "withhold", "missing"]


# --- parse_promille ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0.00", "0.00"),
        ("0", "0.00"),
        ("0,25", "0.25"),
        ("0.25", "0.25"),
        (" 0,5 ", "0.50"),
        (",5", "0.50"),
        ("1.", "1.00"),
        ("0.250", "0.25"),
        ("0,2500", "0.25"),
        ("5", "5.00"),
        ("5.00", "5.00"),
        ("0.35 ‰", "0.35"),
        (0, "0.00"),
        (1, "1.00"),
        (5, "5.00"),
        (0.25, "0.25"),
        (0.1, "0.10"),
        (-0.0, "0.00"),
        (Decimal("0.5"), "0.50"),
        (Decimal("0.510"), "0.51"),
        (Decimal("-0.00"), "0.00"),
    ],
)
def test_parse_valid(value, expected):
    result = parse_promille(value)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert str(result) == expected  # exactly 2 decimals, no "-0.00"


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "number in promille"),
        ("abc", "number in promille"),
        ("0.2.5", "number in promille"),
        ("0,2,5", "number in promille"),
        ("1.000,5", "number in promille"),
        ("1e-2", "number in promille"),
        ("NaN", "number in promille"),
        ("-0.01", "negative"),
        ("-0", "negative"),
        (-1, "negative"),
        (Decimal("-0.01"), "negative"),
        ("5.01", "above 5.00"),
        ("50", "above 5.00"),
        (6, "above 5.00"),
        (5.5, "above 5.00"),
        (Decimal("1E+3"), "above 5.00"),
        ("0.255", "more than 2 decimals"),
        ("0,001", "more than 2 decimals"),
        (0.255, "more than 2 decimals"),
        (0.1 + 0.2, "more than 2 decimals"),
        (Decimal("0.001"), "more than 2 decimals"),
        (float("nan"), "between 0.00 and 5.00"),
        (float("inf"), "between 0.00 and 5.00"),
        (Decimal("NaN"), "between 0.00 and 5.00"),
        (Decimal("Infinity"), "between 0.00 and 5.00"),
        (True, "number in promille"),
        (None, "number in promille"),
        ([0.1], "number in promille"),
    ],
)
def test_parse_invalid(value, fragment):
    with pytest.raises(ValueError) as exc:
        parse_promille(value)
    assert fragment in str(exc.value)


@given(st.integers(0, 500), st.sampled_from([".", ","]))
def test_parse_round_trip(cents, sep):
    expected = Decimal(cents) / 100
    text = f"{cents // 100}{sep}{cents % 100:02d}"
    assert parse_promille(text) == expected
    assert parse_promille(str(parse_promille(text))) == parse_promille(text)
    assert parse_promille(expected) == expected


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("5"), places=2))
def test_threshold_property_strictly_above(reading):
    d = check_breath(Drug.METHADONE, reading, DEFAULT_POLICY)
    assert (d.outcome is BreathOutcome.WITHHOLD) == (reading > Decimal("0.50"))
    d = check_breath(Drug.DISULFIRAM, reading, DEFAULT_POLICY)
    assert (d.outcome is BreathOutcome.WITHHOLD) == (reading > 0)
