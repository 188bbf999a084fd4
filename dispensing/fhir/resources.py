"""One FHIR R4 resource (a plain dict) from one row of the record. Pure: no database, no clock.

Ids are the record's own ids (`MedicationRequest/41` is order 41), so a resource keeps its id in
every export; references are relative (`Patient/7`) and resolve inside the Bundle. Timestamps are
written in the clinic's zone, dates as the record holds them. Texts written here are Danish (the
receiving systems are Danish); what a doctor or nurse wrote is passed on as written.

Mapping choices worth knowing:
- An order version that a signed revision replaced (`superseded`) is `stopped` from the day the new
  version applies (R4 has no "superseded"); until that day it is still `active`. The new version links
  back with `priorPrescription`, and the old one's statusReason names its successor. A discontinued
  order is `active` up to its last day, then `stopped`; a signed order past its end date `completed`.
- A void dispense is `entered-in-error` (its supervised intake likewise), a returned one (not collected
  at the pickup site) `cancelled`, a dose prepared for a site and not yet handed out `in-progress`.
- A dose withheld after a breath reading over the threshold is a MedicationDispense `declined`, one per
  withholding reading (a slot re-opened the same day keeps its history).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dispensing import messages
from dispensing.catalogue import CATALOGUE
from dispensing.enums import Drug, SiteKind
from dispensing.fhir import codes
from dispensing.models import (
    BreathTest,
    Dispense,
    DispenseStatus,
    OrderStatus,
    Patient,
    Prescription,
    Site,
    Slot,
    UrineOutcome,
    UrineTest,
    User,
)
from dispensing.rules.steps import parse_steps


def ref(resource_type: str, rid) -> dict:
    return {"reference": f"{resource_type}/{rid}"}


def mg(value: Decimal) -> dict:
    return {"value": value, "unit": "mg", "system": codes.UCUM_SYSTEM, "code": "mg"}


def _days(n: int) -> dict:
    return {"value": n, "unit": "dage" if n != 1 else "dag", "system": codes.UCUM_SYSTEM, "code": "d"}


def _text(text: str) -> dict:
    return {"text": text}


def _da(value) -> str:
    """A value as a Danish reader writes it (2,5 mg; 4. december 2026)."""
    return messages.formatted(value, "da")


@dataclass(frozen=True)
class Clinic:
    """What the mapping needs beyond the rows: the clinic's zone and the day of the export."""

    tz: ZoneInfo
    today: date

    def instant(self, value: datetime) -> str:
        return value.astimezone(self.tz).isoformat(timespec="seconds")


# --- who and where ---------------------------------------------------------------------------------


def patient(p: Patient) -> dict:
    given, _, family = p.name.rpartition(" ")
    name = {"use": "official", "text": p.name, "family": family or p.name}
    if given:
        name["given"] = given.split()
    return {
        "resourceType": "Patient",
        "id": str(p.id),
        "identifier": [{"use": "official", "system": codes.CPR_SYSTEM, "value": p.cpr}],
        "name": [name],
        "gender": p.sex.value,  # the record holds male/female from the CPR number
        "birthDate": p.birth_date.isoformat(),
    }


def practitioner(u: User) -> dict:
    res = {"resourceType": "Practitioner", "id": str(u.id), "name": [{"text": u.full_name}]}
    if u.authorisation_id:
        res["identifier"] = [{"system": codes.AUTHORISATION_SYSTEM, "value": u.authorisation_id}]
    return res


def organization(s: Site) -> dict:
    """The pickup site as the organisation that dispenses (MedicationRequest.dispenseRequest.performer)."""
    return {
        "resourceType": "Organization",
        "id": str(s.id),
        "active": True,
        "type": [_text(codes.SITE_KIND_DA[s.kind])],
        "name": s.name,
    }


def location(s: Site) -> dict:
    """The pickup site as the place of a dispense (MedicationDispense.location)."""
    res = {
        "resourceType": "Location",
        "id": str(s.id),
        "status": "active",
        "name": s.name,
        "type": [_text(codes.SITE_KIND_DA[s.kind])],
        "managingOrganization": ref("Organization", s.id),
    }
    if s.address:
        res["address"] = {"text": s.address}
    return res


# --- orders ------------------------------------------------------------------------------------------


def medication(drug: Drug, product_code: str) -> dict:
    """ATC-coded drug with the product as text (e.g. "Metadon oral opløsning 1 mg/ml")."""
    atc, display = codes.ATC[drug]
    product = CATALOGUE[drug].product(product_code)
    return {
        "coding": [{"system": codes.ATC_SYSTEM, "code": atc, "display": display}],
        "text": product.name if product else CATALOGUE[drug].name,
    }


@dataclass(frozen=True)
class DoseLine:
    """One line of an order's dosage: a dose on some weekdays, optionally at a time of day (a split
    part) and within dates (a step of a taper). Split doses and dated steps become more lines."""

    dose_mg: Decimal
    weekdays: frozenset[int]
    supervised: bool
    time_of_day: time | None = None
    start: date | None = None
    end: date | None = None


def dose_lines(order: Prescription) -> list[DoseLine]:
    """The order's dosage as lines: one dose for its weekdays, a line per part of a split dose, or a
    line per step of a dose schedule with the dates it is in force (rule 18)."""
    if order.parts:
        return [DoseLine(p.dose_mg, order.weekday_set, p.supervised, time_of_day=p.at) for p in order.parts]
    steps = parse_steps(order.dose_steps) if order.dose_steps else ()
    starts = [order.start_date, *(s.from_date for s in steps)]
    doses = [order.dose_mg, *(s.dose_mg for s in steps)]
    ends = [s - timedelta(days=1) for s in starts[1:]] + [order.end_date]
    return [
        DoseLine(dose, order.weekday_set, order.supervised, start=start if steps else None, end=end if steps else None)
        for start, dose, end in zip(starts, doses, ends, strict=True)
    ]


def _weekdays_da(days) -> str:
    return ", ".join(codes.WEEKDAY_DA[d] for d in sorted(days))


def dosage(line: DoseLine, sequence: int, *, pickup_weekdays: frozenset[int]) -> dict:
    repeat: dict = {
        "frequency": 1,
        "period": 1,
        "periodUnit": "d",
        "dayOfWeek": [codes.DAY_OF_WEEK[d] for d in sorted(line.weekdays)],
    }
    if line.time_of_day is not None:
        repeat["timeOfDay"] = [line.time_of_day.strftime("%H:%M:%S")]
    if line.start or line.end:
        repeat["boundsPeriod"] = {
            k: v.isoformat() for k, v in (("start", line.start), ("end", line.end)) if v is not None
        }
    text = f"{_da(line.dose_mg)} mg {_weekdays_da(line.weekdays)}"
    if line.time_of_day is not None:
        text += f" kl. {line.time_of_day:%H:%M}"
    if pickup_weekdays >= line.weekdays:
        how = "indtages under opsyn" if line.supervised else "afhentes hver doseringsdag"
    else:
        how = f"afhentes {_weekdays_da(pickup_weekdays)}; øvrige dage som hjemmedosis"
        if line.supervised:
            how = f"dosis på afhentningsdage indtages under opsyn, {how}"
    return {
        "sequence": sequence,
        "text": f"{text}, {how}",
        "additionalInstruction": [_text(how)],
        "timing": {"repeat": repeat},
        "doseAndRate": [{"doseQuantity": mg(line.dose_mg)}],
    }


def order_status(order: Prescription, successor: Prescription | None, today: date) -> tuple[str, str | None]:
    """MedicationRequest.status (and the reason as text) of an order version on `today`."""
    if order.status in codes.ORDER_STATUS_FIXED:
        return codes.ORDER_STATUS_FIXED[order.status], None
    last = order.last_day
    if last is not None and last >= today:
        return "active", None
    if order.status == OrderStatus.SUPERSEDED:
        if successor is not None:
            return "stopped", (
                f"Erstattet af version {successor.version} (ordination {successor.id}) fra {_da(order.superseded_on)}"
            )
        return "stopped", f"Erstattet af en ny version fra {_da(order.superseded_on)}"
    if order.status == OrderStatus.DISCONTINUED:
        return "stopped", f"Seponeret: {order.discontinue_reason}" if order.discontinue_reason else "Seponeret"
    return ("completed", None) if last is not None else ("active", None)


def medication_request(order: Prescription, successor: Prescription | None, clinic: Clinic) -> dict:
    status, reason = order_status(order, successor, clinic.today)
    res: dict = {
        "resourceType": "MedicationRequest",
        "id": str(order.id),
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": medication(order.drug, order.product),
        "subject": ref("Patient", order.patient_id),
        "authoredOn": clinic.instant(order.signed_at or order.created_at),
        "requester": ref("Practitioner", order.signed_by_id or order.created_by_id),
        "reasonCode": [_text(order.indication)],
        "dosageInstruction": [
            dosage(line, i, pickup_weekdays=order.pickup_weekday_set) for i, line in enumerate(dose_lines(order), 1)
        ],
        "dispenseRequest": {
            "validityPeriod": {"start": order.start_date.isoformat()}
            | ({"end": order.last_day.isoformat()} if order.last_day else {}),
            "performer": ref("Organization", order.site_id),
        },
    }
    if reason:
        res["statusReason"] = _text(reason)
    if order.supersedes_id is not None:
        res["priorPrescription"] = ref("MedicationRequest", order.supersedes_id)
    notes = [
        ("Version", str(order.version)),
        ("Begrundelse for ændringen", order.revision_reason),
        ("Begrundelse for at fravige optrapningsgrænserne", order.override_reason),
        ("Begrundelse for ændret afhentning", order.pickup_change_reason),
    ]
    res["note"] = [{"text": f"{label}: {value}"} for label, value in notes if value]
    return res


# --- doses -------------------------------------------------------------------------------------------


def _dose_timing(days: list[str], dose_mg: Decimal) -> dict:
    """The days a dispense's doses are for (today's dose and the take-home days), each `dose_mg`."""
    return {
        "text": f"{_da(dose_mg)} mg pr. dag: " + ", ".join(_da(date.fromisoformat(d)) for d in days),
        "timing": {"event": list(days)},
        "doseAndRate": [{"doseQuantity": mg(dose_mg)}],
    }


def _dose_timings(d: Dispense, order: Prescription) -> list[dict]:
    """A dispense's days grouped by their dose: a span across a step of a schedule has two (rule 18)."""
    if order.parts or not order.dose_steps:
        return [_dose_timing(d.covers, d.dose_mg)]
    by_dose: dict[Decimal, list[str]] = {}
    for day in d.covers:
        by_dose.setdefault(order.dose_on(date.fromisoformat(day)), []).append(day)
    return [_dose_timing(days, dose) for dose, days in by_dose.items()]


def medication_dispense(d: Dispense, order: Prescription, site: Site, clinic: Clinic) -> dict:
    """A handout at the window, or doses prepared at the clinic for a pickup site."""
    at_window = site.kind == SiteKind.CLINIC  # the window hands out; other sites get prepared doses
    performers = [
        {"actor": ref("Practitioner", d.dispensed_by_id)}
        | ({} if at_window else {"function": _text("Klargjort på klinikken")})
    ]
    if d.handed_out_by_id is not None:
        performers.append({"actor": ref("Practitioner", d.handed_out_by_id), "function": _text("Udleveret")})
    res: dict = {
        "resourceType": "MedicationDispense",
        "id": str(d.id),
        "identifier": [{"type": _text("Udleveringsnummer (etiket)"), "value": d.number}],
        "status": codes.DISPENSE_STATUS[d.status],
        "medicationCodeableConcept": medication(d.drug, order.product),
        "subject": ref("Patient", d.patient_id),
        "performer": performers,
        "location": ref("Location", d.site_id),
        "authorizingPrescription": [ref("MedicationRequest", d.prescription_id)],
        "quantity": mg(d.total_mg),
        "daysSupply": _days(len(d.covers)),
        "dosageInstruction": _dose_timings(d, order),
    }
    reason = d.void_reason if d.status == DispenseStatus.VOID else d.return_reason
    if reason:
        res["statusReasonCodeableConcept"] = _text(reason)
    if at_window:
        res["whenHandedOver"] = clinic.instant(d.dispensed_at)
    else:
        res["whenPrepared"] = clinic.instant(d.dispensed_at)
        if d.handed_out_at is not None:
            res["whenHandedOver"] = clinic.instant(d.handed_out_at)
    if d.breath_test_id is not None:
        res["supportingInformation"] = [ref("Observation", breath_id(d.breath_test_id))]
    if d.take_home_days:
        res["note"] = [{"text": f"Hjemmedoser: {d.take_home_days} ({', '.join(d.covers[1:])})"}]
    return res


def withheld(b: BreathTest, slot: Slot, order: Prescription) -> dict:
    """A dose not given: the breath reading was over the threshold (rule 3)."""
    why = f"Alkometer {_da(b.promille)} ‰"
    if b.threshold is not None:
        why += f" over grænsen {_da(b.threshold)} ‰"
    return {
        "resourceType": "MedicationDispense",
        "id": f"withheld-{b.id}",
        "status": "declined",
        "statusReasonCodeableConcept": _text(f"{why}: dosis tilbageholdt"),
        "medicationCodeableConcept": medication(order.drug, order.product),
        "subject": ref("Patient", b.patient_id),
        "performer": [{"actor": ref("Practitioner", b.taken_by_id)}],
        "location": ref("Location", slot.site_id),
        "authorizingPrescription": [ref("MedicationRequest", order.id)],
        "dosageInstruction": [_dose_timing([slot.slot_date.isoformat()], order.dose_for(slot.slot_date, slot.part))],
        "supportingInformation": [ref("Observation", breath_id(b.id))],
    }


def medication_administration(d: Dispense, order: Prescription, clinic: Clinic) -> dict:
    """The dose of the day taken under a nurse's eyes at the window."""
    res: dict = {
        "resourceType": "MedicationAdministration",
        "id": str(d.id),
        "status": "entered-in-error" if d.status == DispenseStatus.VOID else "completed",
        "medicationCodeableConcept": medication(d.drug, order.product),
        "subject": ref("Patient", d.patient_id),
        "effectiveDateTime": clinic.instant(d.dispensed_at),
        "performer": [{"actor": ref("Practitioner", d.dispensed_by_id)}],
        "request": ref("MedicationRequest", d.prescription_id),
        "supportingInformation": [ref("MedicationDispense", d.id)],
        "dosage": {"text": f"{_da(d.dose_mg)} mg under opsyn", "dose": mg(d.dose_mg)},
    }
    if d.status == DispenseStatus.VOID and d.void_reason:
        res["statusReason"] = [_text(d.void_reason)]
    if d.breath_test_id is not None:
        res["supportingInformation"].append(ref("Observation", breath_id(d.breath_test_id)))
    return res


# --- tests -------------------------------------------------------------------------------------------


def breath_id(breath_test_id: int) -> str:
    return f"breath-{breath_test_id}"


def _laboratory() -> list[dict]:
    return [{"coding": [{"system": codes.OBSERVATION_CATEGORY_SYSTEM, "code": "laboratory"}]}]


def breath_observation(b: BreathTest, clinic: Clinic) -> dict:
    promille = {"unit": "‰", "system": codes.UCUM_SYSTEM, "code": "[ppth]"}
    res: dict = {
        "resourceType": "Observation",
        "id": breath_id(b.id),
        "status": "final",
        "category": _laboratory(),
        "code": {
            "coding": [{"system": codes.LOINC_SYSTEM, "code": codes.BREATH_ALCOHOL_LOINC}],
            "text": "Alkometer (alkohol i udåndingsluft)",
        },
        "subject": ref("Patient", b.patient_id),
        "effectiveDateTime": clinic.instant(b.taken_at),
        "performer": [ref("Practitioner", b.taken_by_id)],
        "valueQuantity": {"value": b.promille} | promille,
        "note": [{"text": "Over grænsen: dosis tilbageholdt" if b.outcome == "withhold" else "Under grænsen"}],
    }
    if b.threshold is not None:
        res["referenceRange"] = [{"high": {"value": b.threshold} | promille, "text": "Klinikkens grænse"}]
    return res


def urine_observations(t: UrineTest, panel: dict[str, tuple[str, str | None]], clinic: Clinic) -> list[dict]:
    """The test as a panel Observation, with one member Observation per panel item that was read.

    A refusal is the panel with dataAbsentReason asked-declined; a test not possible that day, the
    panel cancelled (not-performed).
    """
    base = {
        "resourceType": "Observation",
        "category": _laboratory(),
        "subject": ref("Patient", t.patient_id),
        "effectiveDateTime": t.taken_on.isoformat(),
        "issued": clinic.instant(t.recorded_at),
        "performer": [ref("Practitioner", t.recorded_by_id)],
    }
    head = {"resourceType": "Observation", "id": f"urine-{t.id}", "status": "final"} | base
    head["code"] = _text("Urinprøve, screening for rusmidler")
    notes = [t.reason] if t.reason else []
    if t.outcome != UrineOutcome.COLLECTED:
        refused = t.outcome == UrineOutcome.REFUSED
        head["status"] = "final" if refused else "cancelled"
        absent = "asked-declined" if refused else "not-performed"
        head["dataAbsentReason"] = {
            "coding": [{"system": codes.DATA_ABSENT_SYSTEM, "code": absent}],
            "text": "Patienten afviste at aflevere urinprøve" if refused else "Urinprøve ikke mulig i dag",
        }
        if notes:
            head["note"] = [{"text": n} for n in notes]
        return [head]
    members = []
    for key, value in (t.results or {}).items():
        loinc = panel.get(key, (None, None))[1]
        snomed, display, da, interpretation = codes.URINE_RESULT[value]
        code = {"text": codes.URINE_ITEM_DA.get(key, key)}
        if loinc:
            code["coding"] = [{"system": codes.LOINC_SYSTEM, "code": loinc}]
        members.append(
            {"resourceType": "Observation", "id": f"urine-{t.id}-{key.replace('_', '-')}", "status": "final"}
            | base
            | {
                "code": code,
                "valueCodeableConcept": {
                    "coding": [{"system": codes.SNOMED_SYSTEM, "code": snomed, "display": display}],
                    "text": da,
                },
                "interpretation": [{"coding": [{"system": codes.INTERPRETATION_SYSTEM, "code": interpretation}]}],
            }
        )
    if t.side_abuse:
        notes.append(
            "Fund uden for ordinationen (sidemisbrug): "
            + ", ".join(codes.URINE_ITEM_DA.get(k, k) for k in t.side_abuse)
        )
    head["hasMember"] = [ref("Observation", m["id"]) for m in members]
    if notes:
        head["note"] = [{"text": n} for n in notes]
    return [head, *members]
