"""FHIR R4 export of a patient's record (doctor, admin): reads the record, audits the read, maps it."""

import re
from datetime import date
from importlib.metadata import version
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute

from dispensing.enums import Role
from dispensing.errors import InvalidInput
from dispensing.fhir import bundle as fb
from dispensing.fhir.resources import Clinic
from dispensing.models import BreathTest, Dispense, Patient, Prescription, Site, Slot, UrineTest, User
from dispensing.rules.urine_findings import PANEL
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404

READERS = (Role.DOCTOR, Role.ADMIN)
SUPPORT_TYPES = ("Organization", "Location", "Practitioner")  # what the patient's resources refer to

Resource = dict[str, Any]  # a FHIR resource or Bundle as JSON
# The tables of the record read per patient (each has patient_id and id).
RecordRow = TypeVar("RecordRow", Prescription, Dispense, BreathTest, UrineTest)


def _load_record(ctx: Ctx, patient_id: int) -> fb.Record:
    patient = get_or_404(ctx.session, Patient, patient_id)

    def rows(model: type[RecordRow], *order_by: QueryableAttribute[Any]) -> list[RecordRow]:
        stmt = select(model).where(model.patient_id == patient_id).order_by(*order_by, model.id)
        return list(ctx.session.execute(stmt).scalars())

    record = fb.Record(
        patient=patient,
        orders=rows(Prescription, Prescription.drug, Prescription.version),
        dispenses=rows(Dispense, Dispense.dispensed_at),
        breath_tests=rows(BreathTest, BreathTest.taken_at),
        urine_tests=rows(UrineTest, UrineTest.taken_on),
    )
    slot_ids = {b.slot_id for b in record.breath_tests if b.outcome == "withhold"}
    if slot_ids:
        record.slots = {s.id: s for s in ctx.session.execute(select(Slot).where(Slot.id.in_(slot_ids))).scalars()}
    site_ids = {o.site_id for o in record.orders} | {d.site_id for d in record.dispenses}
    site_ids |= {s.site_id for s in record.slots.values()}
    user_ids = {o.signed_by_id or o.created_by_id for o in record.orders}
    user_ids |= {u for d in record.dispenses for u in (d.dispensed_by_id, d.handed_out_by_id) if u is not None}
    user_ids |= {b.taken_by_id for b in record.breath_tests} | {t.recorded_by_id for t in record.urine_tests}
    if site_ids:
        record.sites = {s.id: s for s in ctx.session.execute(select(Site).where(Site.id.in_(site_ids))).scalars()}
    if user_ids:
        record.users = {u.id: u for u in ctx.session.execute(select(User).where(User.id.in_(user_ids))).scalars()}
    return record


def _resources(ctx: Ctx, patient_id: int) -> list[Resource]:
    return fb.record_resources(_load_record(ctx, patient_id), Clinic(ctx.tz, ctx.today), PANEL)


def patient_everything(ctx: Ctx, patient_id: int, *, base_url: str, actor_name: str | None = None) -> Resource:
    """Patient/$everything: the whole record as a searchset Bundle; audited as a read of the record.

    `actor_name` is for the CLI, which runs without a logged-in user (whoever runs it holds the database).
    """
    if actor_name is None:
        ctx.require(*READERS)
    resources = _resources(ctx, patient_id)
    matches = [res for res in resources if res["resourceType"] not in SUPPORT_TYPES]
    included = [res for res in resources if res["resourceType"] in SUPPORT_TYPES]
    audit.record(
        ctx,
        "fhir.everything",
        "patient",
        patient_id,
        patient_id=patient_id,
        detail={"resources": len(resources)},
        actor_name=actor_name,
    )
    return fb.searchset(matches, included, base_url=base_url, now=ctx.now, clinic=Clinic(ctx.tz, ctx.today))


_PATIENT_PARAM = re.compile(r"(?:Patient/)?([0-9]{1,18})")
_DATE_PARAM = re.compile(r"(eq|ne|gt|ge|lt|le)?([0-9]{4}-[0-9]{2}-[0-9]{2})")
_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def parse_patient_param(value: str | None) -> int:
    match = _PATIENT_PARAM.fullmatch((value or "").strip())
    if match is None:
        raise InvalidInput("fhir.search_patient", value=value or "")
    return int(match.group(1))


def parse_date_params(values: list[str]) -> list[tuple[str, date]]:
    """FHIR date search values (`ge2026-12-01`) as (prefix, day); only whole days are searched."""
    parsed = []
    for value in values:
        match = _DATE_PARAM.fullmatch(value.strip())
        try:
            day = date.fromisoformat(match.group(2)) if match else None
        except ValueError:
            day = None
        if match is None or day is None:
            raise InvalidInput("fhir.search_date", value=value)
        parsed.append((match.group(1) or "eq", day))
    return parsed


def handed_over_matches(resource: Resource, conditions: list[tuple[str, date]]) -> bool:
    """True when the dispense was handed over on a day meeting every condition (none: always).

    whenHandedOver is written in the clinic's zone, so its first ten characters are the clinic's day.
    A dispense not handed over (prepared, declined) matches only when there is no condition.
    """
    if not conditions:
        return True
    when = resource.get("whenHandedOver")
    if when is None:
        return False
    day = date.fromisoformat(when[:10])
    return all(_COMPARE[prefix](day, bound) for prefix, bound in conditions)


def search_dispenses(ctx: Ctx, *, patient: str | None, whenhandedover: list[str], base_url: str) -> Resource:
    """MedicationDispense search for one patient, optionally by the day handed over; audited."""
    ctx.require(*READERS)
    patient_id = parse_patient_param(patient)
    conditions = parse_date_params(whenhandedover)
    resources = _resources(ctx, patient_id)
    matches = [
        res for res in resources if res["resourceType"] == "MedicationDispense" and handed_over_matches(res, conditions)
    ]
    audit.record(
        ctx,
        "fhir.search",
        "patient",
        patient_id,
        patient_id=patient_id,
        detail={"resource": "MedicationDispense", "whenhandedover": whenhandedover, "matches": len(matches)},
    )
    included = fb.with_references(matches, resources)
    return fb.searchset(matches, included, base_url=base_url, now=ctx.now, clinic=Clinic(ctx.tz, ctx.today))


def capability_statement(ctx: Ctx, *, base_url: str) -> Resource:
    return fb.capability_statement(base_url=base_url, today=ctx.today, version=version("dispensing"))
