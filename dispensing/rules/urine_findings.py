"""Rule 7, reading a sample: the panel, what the prescribed drugs explain, and side abuse.

Side abuse is a positive panel item the patient's orders do not explain. Methadone is expected for a
methadone order, buprenorphine for a buprenorphine(/naloxone) order, with orders in force up to
WASHOUT_DAYS before the sample counting (a patient switched from methadone still tests positive for
some days). "opioids" (the opiate immunoassay: morphine, heroin, codeine) is never explained: neither
methadone nor buprenorphine shows on it. Benzodiazepines, cannabis, cocaine, amphetamine and alcohol
are always flagged (a benzodiazepine from the GP is for the doctor to check).
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from dispensing.enums import Drug

# The panel, in the order it is shown, with the LOINC code of the screen (FHIR Observation.code).
PANEL: dict[str, tuple[str, str | None]] = {
    "opioids": ("Opiates (morphine, heroin, codeine)", "19295-5"),
    "methadone": ("Methadone", "19550-3"),
    "buprenorphine": ("Buprenorphine", "58359-1"),
    "benzodiazepines": ("Benzodiazepines", "14316-4"),
    "cannabis": ("Cannabis", "18282-4"),
    "cocaine": ("Cocaine", "19359-9"),
    "amphetamine": ("Amphetamine", "19261-7"),
    "alcohol_etg": ("Alcohol (EtG)", None),  # no verified LOINC code for the EtG screen here
}
RESULT_VALUES = ("neg", "pos")

# Positive by design for the drug prescribed (not side abuse).
EXPECTED_POSITIVE: dict[Drug, frozenset[str]] = {
    Drug.METHADONE: frozenset({"methadone"}),
    Drug.BUPRENORPHINE: frozenset({"buprenorphine"}),
    Drug.BUPRENORPHINE_NALOXONE: frozenset({"buprenorphine"}),
}
WASHOUT_DAYS = 7  # an order that ended up to this many days before the sample still explains a positive


def explains_sample(start: date, last_day: date | None, sample_day: date) -> bool:
    """Whether an order (first day `start`, last day `last_day` or open) still explains a sample on
    `sample_day`: begun by then, and in force on it or up to WASHOUT_DAYS before it. An order whose
    last day is before its first (withdrawn before it began) explains nothing."""
    if start > sample_day:
        return False
    return last_day is None or (last_day >= start and last_day >= sample_day - timedelta(days=WASHOUT_DAYS))


def side_abuse(results: Mapping[str, str], prescribed: Iterable[Drug]) -> list[str]:
    """Positive panel items the prescribed drugs do not explain (in panel order)."""
    expected: set[str] = set()
    for drug in prescribed:
        expected |= EXPECTED_POSITIVE.get(drug, frozenset())
    return [k for k in PANEL if results.get(k) == "pos" and k not in expected]
