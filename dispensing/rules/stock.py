"""Controlled-drug accounting (DOMAIN.md rule 16): doses into stock units, and the count tolerance.

Pure: no database, no clock. Quantities are Decimal in the stock item's unit (ml or tablets).
"""

from decimal import Decimal

from dispensing.catalogue import StockItem

ZERO = Decimal("0")


def units_for_dose(items: list[StockItem], dose_mg: Decimal) -> list[tuple[StockItem, Decimal]]:
    """One day's dose in stock units: ml of a solution, or tablets, strongest tablets first.

    `items` are the product's stock items, strongest first (catalogue.stock_items_for). A product of
    one strength gives dose / strength (a quarter of a 20 mg tablet for 5 mg is 0.25 tablet). Several
    strengths (Subutex 0.4/2/8 mg) are filled greedily, which is exact because every dose is a whole
    multiple of the weakest strength (the product's dose step).
    """
    if not items or dose_mg <= 0:
        return []
    if len(items) == 1:
        return [(items[0], dose_mg / items[0].mg_per_unit)]
    parts: list[tuple[StockItem, Decimal]] = []
    rest = dose_mg
    for i, item in enumerate(items):
        last = i == len(items) - 1
        n = rest / item.mg_per_unit if last else Decimal(int(rest // item.mg_per_unit))
        if n > 0:
            parts.append((item, n))
            rest -= n * item.mg_per_unit
    return parts


def count_tolerance(unit: str, expected: Decimal, *, tablets: Decimal, solution_percent: Decimal) -> Decimal:
    """How far a count may differ from the ledger without an alert (policy): tablets absolute, solutions
    a percentage of the expected balance (none when the balance is zero or negative)."""
    if unit == "tablet":
        return tablets
    return max(expected, ZERO) * solution_percent / Decimal(100)


def beyond_tolerance(difference: Decimal, tolerance: Decimal) -> bool:
    return abs(difference) > tolerance
