"""rules/order_terms: the dose a product can measure out, pickup days within due days, Antabus supervised."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug
from dispensing.errors import InvalidInput
from dispensing.rules.order_terms import check_antabus, check_dose, check_period, check_pickup_days

METHADONE = CATALOGUE[Drug.METHADONE]
ORAL_1 = METHADONE.product("methadone-oral-1")  # measures 0.5 mg
TABLET_5 = METHADONE.product("methadone-tab-5")  # measures 5 mg
days = st.sets(st.integers(0, 6))


def refused(fn, *args) -> bool:
    try:
        fn(*args)
    except InvalidInput:
        return True
    return False


@pytest.mark.parametrize(
    "dose, product, ok",
    [
        ("300", TABLET_5, True),  # the catalogue's limit itself
        ("305", TABLET_5, False),  # above it: a typing error
        ("2.5", ORAL_1, True),
        ("2.25", ORAL_1, False),  # the 1 mg/ml solution measures half milligrams
        ("35", TABLET_5, True),
        ("32", TABLET_5, False),  # tablets of 5 mg
    ],
)
def test_dose_edges(dose, product, ok):
    assert refused(check_dose, Decimal(dose), METHADONE, product) is not ok


@given(st.integers(1, 600), st.sampled_from(METHADONE.products))
def test_a_dose_is_allowed_exactly_when_measurable_and_within_the_limit(steps, product):
    dose = product.dose_step_mg * steps
    assert refused(check_dose, dose, METHADONE, product) is (dose > METHADONE.max_dose_mg)
    off = dose + product.dose_step_mg / 2  # between two measurable doses
    assert refused(check_dose, off, METHADONE, product)


@given(days, days)
def test_pickup_days_must_be_due_days(due, pickup):
    assert refused(check_pickup_days, due, pickup) is not (pickup <= due)


@given(st.sampled_from(list(Drug)), days, days, st.booleans())
def test_antabus_only_supervised_without_take_home_and_other_drugs_unaffected(drug, due, pickup, supervised):
    expected = drug == Drug.DISULFIRAM and (pickup != due or not supervised)
    assert refused(check_antabus, drug, due, pickup, supervised) is expected


@given(st.integers(-400, 400))
def test_an_end_before_the_start_is_refused(offset):
    start = date(2026, 3, 2)
    assert refused(check_period, start, start + timedelta(days=offset)) is (offset < 0)
    assert not refused(check_period, start, None)
