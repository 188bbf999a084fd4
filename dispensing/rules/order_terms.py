"""What an order may say (DOMAIN.md rules 1, 5 and 8): the dose a product can measure out, pickup days
within the due days, Antabus only supervised. Pure: the service parses the form and reads the catalogue
entry; these refuse with InvalidInput, changing nothing."""

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from dispensing.catalogue import DrugInfo, Product
from dispensing.enums import Drug
from dispensing.errors import InvalidInput


def check_dose(dose: Decimal, info: DrugInfo, product: Product) -> None:
    """Below the catalogue's sanity limit (800 typed for 80), and a whole multiple of what the product measures."""
    if dose > info.max_dose_mg:
        raise InvalidInput("order.dose_above_max", dose_mg=dose, name=info.name, max_dose_mg=info.max_dose_mg)
    if dose % product.dose_step_mg != 0:
        raise InvalidInput("order.dose_step", dose_mg=dose, name=product.name, dose_step_mg=product.dose_step_mg)


def check_pickup_days(weekdays: Collection[int], pickup_weekdays: Collection[int]) -> None:
    """A pickup day is a day a dose is due; the due days without a pickup are take-home days."""
    if not set(pickup_weekdays) <= set(weekdays):
        raise InvalidInput("order.pickup_not_due")


def check_antabus(drug: Drug, weekdays: Collection[int], pickup_weekdays: Collection[int], supervised: bool) -> None:
    """Antabus (disulfiram) only supervised, after a breath test, never as take-home."""
    if drug == Drug.DISULFIRAM and (set(pickup_weekdays) != set(weekdays) or not supervised):
        raise InvalidInput("order.disulfiram_supervised")


def check_period(start: date, end: date | None) -> None:
    if end is not None and end < start:
        raise InvalidInput("order.end_before_start")
