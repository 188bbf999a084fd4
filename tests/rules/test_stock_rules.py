"""Doses into stock units, and the count tolerance (pure rules of rule 16)."""

from decimal import Decimal

import pytest

from dispensing.catalogue import STOCK_ITEMS, stock_items_for
from dispensing.rules.stock import beyond_tolerance, count_tolerance, units_for_dose

D = Decimal


def units(product: str, dose: str) -> dict[str, Decimal]:
    return {item.code: n for item, n in units_for_dose(stock_items_for(product), D(dose))}


@pytest.mark.parametrize(
    ("product", "dose", "expected"),
    [
        ("methadone-oral-1", "30", {"methadone-oral-1": D("30")}),
        ("methadone-oral-10", "75", {"methadone-oral-10": D("7.5")}),
        ("methadone-tab-20", "25", {"methadone-tab-20": D("1.25")}),
        ("subutex-sl", "16", {"subutex-sl-8": D("2")}),
        ("subutex-sl", "10.4", {"subutex-sl-8": D("1"), "subutex-sl-2": D("1"), "subutex-sl-0.4": D("1")}),
        ("subutex-sl", "0.8", {"subutex-sl-0.4": D("2")}),
        ("suboxone", "6", {"suboxone-2": D("3")}),
        ("espranor", "18", {"espranor-8": D("2"), "espranor-2": D("1")}),
        ("antabus", "400", {}),  # not controlled: no stock items
    ],
)
def test_a_days_dose_in_stock_units(product, dose, expected):
    assert units(product, dose) == expected


def test_every_controlled_product_has_stock_items_and_the_others_none():
    assert {i.product_code for i in STOCK_ITEMS.values()} >= {"methadone-oral-1", "subutex-sl", "suboxone"}
    assert stock_items_for("campral") == []


@pytest.mark.parametrize(
    ("unit", "expected", "difference", "alert"),
    [
        ("tablet", "100", "0", False),
        ("tablet", "100", "-1", True),
        ("tablet", "100", "0.25", True),
        ("ml", "1000", "-10", False),  # 1 % of 1000 ml
        ("ml", "1000", "10.001", True),
        ("ml", "0", "0.001", True),  # nothing expected: any difference
        ("ml", "-50", "1", True),  # a negative balance has no tolerance
    ],
)
def test_count_tolerance_edges(unit, expected, difference, alert):
    tol = count_tolerance(unit, D(expected), tablets=D("0"), solution_percent=D("1"))
    assert beyond_tolerance(D(difference), tol) is alert
