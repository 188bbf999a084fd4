"""A patient's record as FHIR resources, and the Bundles and CapabilityStatement that carry them. Pure."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from dispensing.enums import SiteKind
from dispensing.fhir import codes
from dispensing.fhir import resources as r
from dispensing.models import BreathTest, Dispense, Patient, Prescription, Site, Slot, UrineTest, User


@dataclass
class Record:
    """The rows of one patient's record that the export translates (read by services.fhir)."""

    patient: Patient
    orders: list[Prescription]
    dispenses: list[Dispense]
    breath_tests: list[BreathTest]
    urine_tests: list[UrineTest]
    slots: dict[int, Slot] = field(default_factory=dict)  # the slots of withheld doses, by id
    users: dict[int, User] = field(default_factory=dict)
    sites: dict[int, Site] = field(default_factory=dict)


def key(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def references(node) -> Iterable[str]:
    """Every `reference` inside a resource."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from references(v)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def record_resources(record: Record, clinic: r.Clinic, urine_panel: dict) -> list[dict]:
    """Every resource of the record: the patient, the orders, doses and tests, and the people and
    sites they refer to (only those)."""
    orders = {o.id: o for o in record.orders}
    successor = {o.supersedes_id: o for o in record.orders if o.supersedes_id is not None}
    clinical: list[dict] = [r.patient(record.patient)]
    clinical += [r.medication_request(o, successor.get(o.id), clinic) for o in record.orders]
    clinical += [
        r.medication_dispense(d, orders[d.prescription_id], record.sites[d.site_id], clinic) for d in record.dispenses
    ]
    for b in record.breath_tests:
        if b.outcome == "withhold":
            slot = record.slots[b.slot_id]
            clinical.append(r.withheld(b, slot, orders[slot.prescription_id]))
    clinical += [
        r.medication_administration(d, orders[d.prescription_id], clinic)
        for d in record.dispenses
        if d.supervised and record.sites[d.site_id].kind == SiteKind.CLINIC
    ]
    clinical += [r.breath_observation(b, clinic) for b in record.breath_tests]
    for t in record.urine_tests:
        clinical += r.urine_observations(t, urine_panel, clinic)
    wanted = {ref for res in clinical for ref in references(res)}
    support = [
        r.organization(s)
        for s in record.sites.values()
        if f"Organization/{s.id}" in wanted or f"Location/{s.id}" in wanted
    ]
    support += [r.location(s) for s in record.sites.values() if f"Location/{s.id}" in wanted]
    support += [r.practitioner(u) for u in record.users.values() if f"Practitioner/{u.id}" in wanted]
    return clinical[:1] + support + clinical[1:]


def with_references(matches: list[dict], pool: list[dict]) -> list[dict]:
    """The resources of `pool` that `matches` refer to, directly or through each other (not the matches)."""
    by_key = {key(res): res for res in pool}
    seen = {key(m) for m in matches}
    todo = [ref for m in matches for ref in references(m)]
    found = []
    while todo:
        ref = todo.pop()
        if ref in seen or ref not in by_key:
            continue
        seen.add(ref)
        found.append(by_key[ref])
        todo.extend(references(by_key[ref]))
    order = {key(res): i for i, res in enumerate(pool)}
    return sorted(found, key=lambda res: order[key(res)])


def searchset(matches: list[dict], included: list[dict], *, base_url: str, now: datetime, clinic: r.Clinic) -> dict:
    """A Bundle of type searchset: the matches, then what they refer to (so every reference resolves)."""

    def entry(res: dict, mode: str) -> dict:
        return {"fullUrl": f"{base_url}/{key(res)}", "resource": res, "search": {"mode": mode}}

    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": clinic.instant(now),
        "total": len(matches),
        "entry": [entry(m, "match") for m in matches] + [entry(i, "include") for i in included],
    }


def capability_statement(*, base_url: str, today: date, version: str) -> dict:
    """What this server offers (GET /fhir/metadata)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": today.isoformat(),
        "publisher": "Dispensing",
        "kind": "instance",
        "software": {"name": "dispensing", "version": version},
        "implementation": {"description": "Medicinudlevering, rusmiddelcenter (FHIR R4 export)", "url": base_url},
        "fhirVersion": codes.FHIR_VERSION,
        "format": [codes.MEDIA_TYPE],
        "rest": [
            {
                "mode": "server",
                "security": {"description": "Bearer token from POST /auth/token; role doctor or admin."},
                "resource": [
                    {
                        "type": "Patient",
                        "operation": [
                            {
                                "name": "everything",
                                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                                "documentation": "The patient's orders, dispenses, supervised intakes and tests.",
                            }
                        ],
                    },
                    {
                        "type": "MedicationDispense",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            {"name": "patient", "type": "reference", "documentation": "Required: one patient."},
                            {
                                "name": "whenhandedover",
                                "type": "date",
                                "documentation": "Day in the clinic's zone with prefix eq, ne, gt, ge, lt or le.",
                            },
                        ],
                    },
                ],
            }
        ],
    }


def _json_value(value):
    if isinstance(value, Decimal):  # FHIR decimals are JSON numbers; these have at most 10 digits
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_json(resource: dict) -> bytes:
    """UTF-8 JSON (Danish letters as themselves), decimals as JSON numbers."""
    return json.dumps(resource, ensure_ascii=False, default=_json_value).encode("utf-8")
