"""The pure parts of the FHIR export: order status on a day, the day search, JSON numbers."""

import json
from datetime import date, time
from decimal import Decimal

import pytest

from dispensing.errors import InvalidInput
from dispensing.fhir.bundle import to_json, with_references
from dispensing.fhir.resources import DoseLine, dosage, order_status
from dispensing.models import OrderStatus, Prescription
from dispensing.services.fhir import handed_over_matches, parse_date_params, parse_patient_param

START, TODAY = date(2026, 3, 2), date(2026, 3, 10)


def order(status: OrderStatus, **kw) -> Prescription:
    fields = dict(id=1, version=1, start_date=START, signed_at=None, end_date=None, superseded_on=None)
    fields |= dict(discontinued_on=None, discontinue_reason=None)
    return Prescription(status=status, **(fields | kw))


@pytest.mark.parametrize(
    ("status", "kw", "expected"),
    [
        (OrderStatus.DRAFT, {}, "draft"),
        (OrderStatus.WITHDRAWN, {}, "cancelled"),
        (OrderStatus.ACTIVE, {}, "active"),
        (OrderStatus.ACTIVE, {"end_date": TODAY}, "active"),  # its last day is today
        (OrderStatus.ACTIVE, {"end_date": date(2026, 3, 9)}, "completed"),
        (OrderStatus.SUPERSEDED, {"superseded_on": date(2026, 3, 11)}, "active"),  # the successor starts tomorrow
        (OrderStatus.SUPERSEDED, {"superseded_on": TODAY}, "stopped"),
        (OrderStatus.DISCONTINUED, {"discontinued_on": TODAY}, "active"),  # today's dose is still given
        (OrderStatus.DISCONTINUED, {"discontinued_on": date(2026, 3, 9)}, "stopped"),
    ],
)
def test_order_status_on_the_day(status, kw, expected):
    assert order_status(order(status, **kw), None, TODAY)[0] == expected


def test_a_stopped_version_names_its_successor_and_a_discontinued_one_its_reason():
    old = order(OrderStatus.SUPERSEDED, superseded_on=TODAY)
    new = order(OrderStatus.ACTIVE, id=7, version=2, supersedes_id=1)
    assert order_status(old, new, TODAY)[1] == "Erstattet af version 2 (ordination 7) fra 10. marts 2026"
    stopped = order(OrderStatus.DISCONTINUED, discontinued_on=START, discontinue_reason="Ønsker udtrapning")
    assert order_status(stopped, None, TODAY) == ("stopped", "Seponeret: Ønsker udtrapning")


def test_a_split_part_and_a_dated_step_map_to_time_of_day_and_bounds():
    line = DoseLine(Decimal("2.5"), frozenset({0, 3}), False, time_of_day=None, start=START, end=TODAY)
    d = dosage(line, 2, pickup_weekdays=frozenset({0}))
    assert d["sequence"] == 2 and d["timing"]["repeat"]["boundsPeriod"] == {"start": "2026-03-02", "end": "2026-03-10"}
    assert d["text"] == "2,5 mg man, tor, afhentes man; øvrige dage som hjemmedosis"
    evening = dosage(
        DoseLine(Decimal("20"), frozenset({0}), True, time_of_day=time(18, 0)), 1, pickup_weekdays=frozenset({0})
    )
    assert evening["timing"]["repeat"]["timeOfDay"] == ["18:00:00"] and "kl. 18:00" in evening["text"]


@pytest.mark.parametrize(
    ("values", "day", "expected"),
    [
        ([], None, True),  # no condition: every dispense, also one never handed over
        (["ge2026-03-02"], None, False),
        (["ge2026-03-02"], "2026-03-02T23:59:00+01:00", True),
        (["gt2026-03-02"], "2026-03-02T23:59:00+01:00", False),
        (["lt2026-03-03", "ge2026-03-02"], "2026-03-02T08:00:00+01:00", True),
        (["le2026-03-01"], "2026-03-02T00:10:00+01:00", False),  # the clinic's day, not UTC's (1 March)
        (["2026-03-02"], "2026-03-02T10:00:00+01:00", True),
        (["ne2026-03-02"], "2026-03-02T10:00:00+01:00", False),
    ],
)
def test_handed_over_day_conditions(values, day, expected):
    resource = {"whenHandedOver": day} if day else {}
    assert handed_over_matches(resource, parse_date_params(values)) is expected


@pytest.mark.parametrize("value", ["2026-02-30", "ge26-03-02", "ap2026-03-02", "ge2026-03-02T10:00:00Z", " "])
def test_bad_days_are_refused_with_a_code(value):
    with pytest.raises(InvalidInput) as err:
        parse_date_params([value])
    assert err.value.code == "fhir.search_date"


@pytest.mark.parametrize(("value", "expected"), [("12", 12), ("Patient/12", 12), (" 12 ", 12)])
def test_patient_param(value, expected):
    assert parse_patient_param(value) == expected


@pytest.mark.parametrize("value", [None, "", "Patient/", "Practitioner/12", "-1", "12,13"])
def test_bad_patient_param(value):
    with pytest.raises(InvalidInput) as err:
        parse_patient_param(value)
    assert err.value.code == "fhir.search_patient"


def test_decimals_are_json_numbers_and_danish_letters_stay_utf8():
    raw = to_json({"value": Decimal("2.500"), "whole": Decimal("80.000"), "text": "Æblegård ‰"})
    assert raw == '{"value": 2.5, "whole": 80, "text": "Æblegård ‰"}'.encode()
    assert json.loads(raw)["value"] == 2.5


def test_references_are_followed_through_each_other_but_not_to_outside():
    pool = [
        {"resourceType": "MedicationRequest", "id": "1"},
        {"resourceType": "MedicationRequest", "id": "2", "priorPrescription": {"reference": "MedicationRequest/1"}},
        {"resourceType": "Patient", "id": "9"},
    ]
    match = {
        "resourceType": "MedicationDispense",
        "id": "5",
        "authorizingPrescription": [{"reference": "MedicationRequest/2"}],
    }
    assert [r["id"] for r in with_references([match], pool)] == ["1", "2"]
