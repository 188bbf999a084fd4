# ruff: noqa: F811  (the api fixture is imported by name, as in the other API tests)
"""FHIR R4 export through HTTP: every Bundle validated with fhir.resources (R4B models), references
resolving inside it, the codes of the issue, the roles and the audit."""

import json
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from dispensing.enums import Drug, Role, SiteKind
from dispensing.services.users import create_user
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)
from tests.conftest import PASSWORD

THURSDAY = day(3)
NAME = "Søren Æblegård Østergaard"

# R4's required value sets for the statuses used (fhir.resources checks the structure, not these codes)
STATUSES = {
    "MedicationRequest": {
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    },
    "MedicationDispense": {
        "preparation",
        "in-progress",
        "cancelled",
        "on-hold",
        "completed",
        "entered-in-error",
        "stopped",
        "declined",
        "unknown",
    },
    "MedicationAdministration": {
        "in-progress",
        "not-done",
        "on-hold",
        "completed",
        "entered-in-error",
        "stopped",
        "unknown",
    },
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error"},
}


def valid_bundle(r) -> dict:
    """The answer as a validated FHIR Bundle whose every reference resolves inside it."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    Bundle.model_validate_json(r.content)  # raises on anything R4(B) does not allow
    body = r.json()
    keys = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in body["entry"]]
    assert len(keys) == len(set(keys)), "a resource appears twice"
    for e, k in zip(body["entry"], keys, strict=True):
        assert e["fullUrl"].endswith("/fhir/" + k)
        status = e["resource"].get("status")
        if e["resource"]["resourceType"] in STATUSES:
            assert status in STATUSES[e["resource"]["resourceType"]], (k, status)
    dangling = {ref for e in body["entry"] for ref in refs(e["resource"])} - set(keys)
    assert not dangling, f"references that do not resolve in the Bundle: {dangling}"
    return body


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def of_type(body: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == resource_type]


def by_key(body: dict) -> dict[str, dict]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in body["entry"]}


@pytest.fixture
def record(api, factory):
    """A methadone patient with take-home, a revision, a voided dose; on Antabus with breath readings, one
    withheld; a refused and a collected urine test. Built through the API as the clinic would."""
    doctor = factory._done(
        create_user(
            factory.ctx(),
            username="laege-fhir",
            password=PASSWORD,
            role=Role.DOCTOR,
            full_name="Mette Lægesen",
            can_prescribe_addictive=True,
            authorisation_id="0042X",
        )
    )
    factory._doctor = doctor
    nurse = factory.nurse
    site = factory.site()
    patient = factory.patient(name=NAME, children_at_home=True)
    methadone = factory.order(patient, site, dose="30", pickup_weekdays=(0, 3))
    antabus = factory.order(patient, site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))

    # Monday: methadone with two take-home days, Antabus after a clean breath reading, urine refused
    line = api.slot(site.id, MONDAY, patient.id)
    monday = expect(api.dispense(line["slot_id"], take_home_days=2, breath_alcohol_promille="0.00"), 201)
    line = api.slot(site.id, MONDAY, patient.id, "disulfiram")
    expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00"), 201)
    expect(api.post(f"/patients/{patient.id}/urine-tests", nurse, json={"refused": True, "reason": "vil ikke"}), 201)
    # the doctor raises the dose from Thursday
    v2 = expect(
        api.post(
            f"/prescriptions/{methadone.id}/revise",
            doctor,
            json={"effective_date": THURSDAY.isoformat(), "reason": "optrapning", "dose_mg": "40"},
        ),
        201,
    )
    expect(api.post(f"/prescriptions/{v2['id']}/sign", doctor, json={"password": PASSWORD}), 200)

    # Thursday: the new dose handed out with take-home, then the bottle breaks; Antabus withheld; a sample
    api.clock.set(THURSDAY)
    line = api.slot(site.id, THURSDAY, patient.id)
    thursday = expect(api.dispense(line["slot_id"], take_home_days=3), 201)
    witness = {"username": api.factory.user(Role.NURSE).username, "password": PASSWORD}
    expect(
        api.post(
            f"/dispenses/{thursday['dispense_id']}/void", nurse, json={"reason": "Knust flaske", "witness": witness}
        ),
        200,
    )
    line = api.slot(site.id, THURSDAY, patient.id, "disulfiram")
    assert expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.15"), 200)["status"] == "withheld"
    results = {k: "neg" for k in ("opioids", "methadone", "buprenorphine", "benzodiazepines", "cannabis")}
    results |= {"cocaine": "pos", "amphetamine": "neg", "alcohol_etg": "neg", "methadone": "pos"}
    body = {"collected_on": THURSDAY.isoformat(), "results": results}
    expect(api.post(f"/patients/{patient.id}/urine-tests", nurse, json=body), 201)
    return {
        "patient": patient,
        "site": site,
        "doctor": doctor,
        "v1": methadone.id,
        "v2": v2["id"],
        "antabus": antabus.id,
        "monday": monday["dispense_id"],
        "thursday": thursday["dispense_id"],
    }


def everything(api, patient_id: int, user=None, **kw):
    return api.get(f"/fhir/Patient/{patient_id}/$everything", user or api.factory.doctor, **kw)


def test_everything_is_a_valid_bundle_of_the_whole_record(api, record):
    body = valid_bundle(everything(api, record["patient"].id))
    assert body["type"] == "searchset"
    types = {e["resource"]["resourceType"] for e in body["entry"]}
    assert types == {
        "Patient",
        "Organization",
        "Location",
        "Practitioner",
        "MedicationRequest",
        "MedicationDispense",
        "MedicationAdministration",
        "Observation",
    }
    (patient,) = of_type(body, "Patient")
    p = record["patient"]
    assert patient["identifier"] == [{"use": "official", "system": "urn:oid:1.2.208.176.1.2", "value": p.cpr}]
    assert patient["name"][0]["text"] == NAME and patient["name"][0]["family"] == "Østergaard"
    assert patient["birthDate"] == p.birth_date.isoformat() and patient["gender"] == p.sex.value


def test_danish_text_is_utf8_not_escaped(api, record):
    r = everything(api, record["patient"].id)
    assert NAME.encode("utf-8") in r.content and b"\\u00" not in r.content


def test_orders_map_to_medication_requests_with_revision_link_and_signer(api, record):
    res = by_key(valid_bundle(everything(api, record["patient"].id)))
    v1, v2 = res[f"MedicationRequest/{record['v1']}"], res[f"MedicationRequest/{record['v2']}"]
    # Thursday: version 1 governed until Wednesday; R4 has no "superseded", so it is stopped, naming its successor
    assert v1["status"] == "stopped" and "version 2" in v1["statusReason"]["text"]
    assert v2["status"] == "active" and v2["priorPrescription"] == {"reference": f"MedicationRequest/{record['v1']}"}
    assert "optrapning" in " ".join(n["text"] for n in v2["note"])
    for order, dose in ((v1, 30), (v2, 40)):
        assert order["intent"] == "order"
        assert order["medicationCodeableConcept"]["coding"] == [
            {"system": "http://www.whocc.no/atc", "code": "N07BC02", "display": "methadone"}
        ]
        assert order["medicationCodeableConcept"]["text"] == "Metadon oral opløsning 1 mg/ml"
        (dosage,) = order["dosageInstruction"]
        assert dosage["doseAndRate"][0]["doseQuantity"] == {
            "value": dose,
            "unit": "mg",
            "system": "http://unitsofmeasure.org",
            "code": "mg",
        }
        assert dosage["timing"]["repeat"]["dayOfWeek"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        assert "afhentes man, tor" in dosage["text"]
        assert order["dispenseRequest"]["performer"] == {"reference": f"Organization/{record['site'].id}"}
        signer = res[order["requester"]["reference"]]
        assert signer["identifier"] == [{"system": "https://autregweb.sst.dk", "value": "0042X"}]
        assert signer["name"][0]["text"] == "Mette Lægesen"
    assert v1["dispenseRequest"]["validityPeriod"] == {
        "start": MONDAY.isoformat(),
        "end": (THURSDAY - timedelta(days=1)).isoformat(),
    }
    antabus = res[f"MedicationRequest/{record['antabus']}"]
    assert antabus["medicationCodeableConcept"]["coding"][0]["code"] == "N07BB01"
    assert antabus["dosageInstruction"][0]["timing"]["repeat"]["dayOfWeek"] == ["mon", "thu"]


def test_dispenses_take_home_void_and_withheld(api, record):
    body = valid_bundle(everything(api, record["patient"].id))
    res = by_key(body)
    monday = res[f"MedicationDispense/{record['monday']}"]
    assert monday["status"] == "completed"
    assert monday["quantity"]["value"] == 90 and monday["daysSupply"]["value"] == 3
    assert monday["dosageInstruction"][0]["timing"]["event"] == [day(i).isoformat() for i in range(3)]
    assert monday["whenHandedOver"].startswith(MONDAY.isoformat() + "T09:00:00+01:00")
    assert monday["location"] == {"reference": f"Location/{record['site'].id}"}
    assert monday["authorizingPrescription"] == [{"reference": f"MedicationRequest/{record['v1']}"}]
    assert res[monday["supportingInformation"][0]["reference"]]["valueQuantity"]["value"] == 0

    void = res[f"MedicationDispense/{record['thursday']}"]
    assert void["status"] == "entered-in-error" and void["statusReasonCodeableConcept"]["text"] == "Knust flaske"
    assert void["authorizingPrescription"] == [{"reference": f"MedicationRequest/{record['v2']}"}]
    assert void["quantity"]["value"] == 160 and void["daysSupply"]["value"] == 4

    (withheld,) = [d for d in of_type(body, "MedicationDispense") if d["status"] == "declined"]
    assert "whenHandedOver" not in withheld and "quantity" not in withheld
    assert withheld["medicationCodeableConcept"]["coding"][0]["code"] == "N07BB01"
    assert withheld["dosageInstruction"][0]["timing"]["event"] == [THURSDAY.isoformat()]
    reading = res[withheld["supportingInformation"][0]["reference"]]
    assert reading["valueQuantity"] == {
        "value": 0.15,
        "unit": "‰",
        "system": "http://unitsofmeasure.org",
        "code": "[ppth]",
    }
    assert "0,15 ‰" in withheld["statusReasonCodeableConcept"]["text"]


def test_supervised_intakes_are_medication_administrations(api, record):
    body = valid_bundle(everything(api, record["patient"].id))
    given = {a["id"]: a for a in of_type(body, "MedicationAdministration")}
    assert len(given) == 3  # Monday's methadone and Antabus, Thursday's methadone (voided)
    assert given[str(record["monday"])]["status"] == "completed"
    assert given[str(record["monday"])]["dosage"]["dose"]["value"] == 30
    assert given[str(record["thursday"])]["status"] == "entered-in-error"
    assert given[str(record["thursday"])]["request"] == {"reference": f"MedicationRequest/{record['v2']}"}


def test_breath_and_urine_observations_carry_loinc_codes(api, record):
    body = valid_bundle(everything(api, record["patient"].id))
    observations = of_type(body, "Observation")
    breath = [o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "104133-4"]
    assert sorted(o["valueQuantity"]["value"] for o in breath) == [0, 0, 0.15]
    assert all(o["code"]["coding"][0]["system"] == "http://loinc.org" for o in breath)
    antabus_reading = next(o for o in breath if o["valueQuantity"]["value"] == 0.15)
    assert antabus_reading["referenceRange"][0]["high"]["value"] == 0

    refused = [o for o in observations if "dataAbsentReason" in o]
    assert len(refused) == 1 and refused[0]["dataAbsentReason"]["coding"][0]["code"] == "asked-declined"
    (panel,) = [o for o in observations if o.get("hasMember")]
    members = {m["reference"] for m in panel["hasMember"]}
    items = {o["id"]: o for o in observations if f"Observation/{o['id']}" in members}
    assert len(items) == 8
    by_loinc = {o["code"]["coding"][0]["code"]: o for o in items.values() if "coding" in o["code"]}
    assert by_loinc["19359-9"]["valueCodeableConcept"]["coding"][0]["code"] == "10828004"  # cocaine positive
    assert by_loinc["19550-3"]["valueCodeableConcept"]["text"] == "positiv"  # methadone
    assert by_loinc["58359-1"]["valueCodeableConcept"]["coding"][0]["code"] == "260385009"  # buprenorphine neg
    assert "Kokain" in panel["note"][-1]["text"]  # side abuse noted


def test_export_is_audited_as_a_read_of_the_record(api, record):
    patient = record["patient"]
    valid_bundle(everything(api, patient.id))
    log = api.audit(patient_id=patient.id)
    assert log[0]["action"] == "fhir.everything" and log[0]["entity_id"] == patient.id
    assert patient.cpr not in json.dumps(log)


def test_admin_may_export_nurse_site_staff_and_anonymous_may_not(api, factory, record):
    pid = record["patient"].id
    valid_bundle(everything(api, pid, factory.admin))
    for user in (factory.nurse, api.site_staff()):
        body = expect(everything(api, pid, user), 403)
        assert body["code"].startswith("auth.")
    expect(api.get(f"/fhir/Patient/{pid}/$everything"), 401)
    expect(api.get("/fhir/MedicationDispense", factory.nurse, params={"patient": pid}), 403)


def test_unknown_patient_is_404_with_a_code_and_not_audited(api, factory):
    body = expect(everything(api, 987654), 404)
    assert body["code"] == "record.not_found" and body["params"] == {"record": "Patient", "id": "987654"}
    assert expect(api.get("/fhir/MedicationDispense", factory.doctor, params={"patient": 987654}), 404)
    assert all(e["action"] != "fhir.everything" for e in api.audit())


def test_search_dispenses_by_day_handed_over(api, record):
    pid = record["patient"].id

    def search(**params):
        body = valid_bundle(api.get("/fhir/MedicationDispense", record["doctor"], params={"patient": pid} | params))
        assert body["type"] == "searchset"
        matches = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "match"]
        assert body["total"] == len(matches)
        assert all(m["resourceType"] == "MedicationDispense" for m in matches)
        return body, {m["id"] for m in matches}

    body, everything_ = search()
    assert len(everything_) == 4  # Monday's two, Thursday's void, the withheld Antabus
    assert {e["search"]["mode"] for e in body["entry"]} == {"match", "include"}
    assert search(whenhandedover=f"ge{THURSDAY}")[1] == {str(record["thursday"])}
    assert len(search(whenhandedover=[f"ge{MONDAY}", f"lt{THURSDAY}"])[1]) == 2
    assert search(whenhandedover=f"eq{day(1)}")[1] == set()
    assert search(whenhandedover=f"{MONDAY}")[1] == everything_ - {str(record["thursday"])} - {
        i for i in everything_ if i.startswith("withheld-")
    }
    same = valid_bundle(api.get("/fhir/MedicationDispense", record["doctor"], params={"patient": f"Patient/{pid}"}))
    assert same["total"] == 4
    log = api.audit(patient_id=pid)
    assert log[0]["action"] == "fhir.search"


@pytest.mark.parametrize("params", [{}, {"patient": "abc"}, {"patient": "Practitioner/1"}])
def test_search_needs_one_patient(api, factory, params):
    body = expect(api.get("/fhir/MedicationDispense", factory.doctor, params=params), 422)
    assert body["code"] == "fhir.search_patient"


@pytest.mark.parametrize("value", ["yesterday", "ge2026-13-01", "sa2026-03-02", "ge2026-03-02T10:00", ""])
def test_search_refuses_a_bad_day(api, factory, value):
    patient = factory.patient()
    r = api.get("/fhir/MedicationDispense", factory.doctor, params={"patient": patient.id, "whenhandedover": value})
    body = expect(r, 422)
    assert body["code"] == "fhir.search_date" and body["params"] == {"value": value}


def test_prepared_dose_for_a_pharmacy_is_in_progress_until_handed_out(api, factory):
    pharmacy = factory.site(SiteKind.PHARMACY)
    patient = factory.patient()
    factory.order(patient, pharmacy, weekdays=(0, 1), pickup_weekdays=(0,))
    line = api.slot(pharmacy.id, MONDAY, patient.id)
    prepared = expect(api.post(f"/slots/{line['slot_id']}/prepare", factory.nurse, json={}), 201)
    res = by_key(valid_bundle(everything(api, patient.id)))
    d = res[f"MedicationDispense/{prepared['id']}"]
    assert d["status"] == "in-progress" and "whenHandedOver" not in d and d["whenPrepared"]
    assert "MedicationAdministration" not in {k.split("/")[0] for k in res}
    staff = api.site_staff(pharmacy.id)
    expect(api.post(f"/dispenses/{prepared['id']}/handout", staff), 200)
    res = by_key(valid_bundle(everything(api, patient.id)))
    d = res[f"MedicationDispense/{prepared['id']}"]
    assert d["status"] == "completed" and d["whenHandedOver"] >= d["whenPrepared"]
    assert [p["actor"]["reference"] for p in d["performer"]] == [
        f"Practitioner/{factory.nurse.id}",
        f"Practitioner/{staff.id}",
    ]
    assert res[d["location"]["reference"]]["type"][0]["text"] == "Apotek"


def test_metadata_is_a_capability_statement_without_login(api):
    r = api.get("/fhir/metadata")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    CapabilityStatement.model_validate_json(r.content)
    body = r.json()
    assert body["fhirVersion"] == "4.0.1" and body["format"] == ["application/fhir+json"]
    (rest,) = body["rest"]
    offered = {res["type"]: res for res in rest["resource"]}
    assert offered["Patient"]["operation"][0]["name"] == "everything"
    assert {p["name"] for p in offered["MedicationDispense"]["searchParam"]} == {"patient", "whenhandedover"}
