"""`dispensing export fhir --patient ID > bundle.json`: the same Bundle as the API, audited as a read by "cli"."""

import json

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dispensing.cli import main
from dispensing.config import get_settings
from dispensing.db import make_engine
from dispensing.migrate import upgrade_to_head
from dispensing.models import AuditEntry
from tests.conftest import SECRET, Clock, Factory


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DISPENSING_DATABASE_URL", url)
    monkeypatch.setenv("DISPENSING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DISPENSING_SECRET_KEY", SECRET.decode())
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_export_writes_a_valid_bundle_to_stdout_and_is_audited(cli_db):
    with sessionmaker(cli_db, expire_on_commit=False)() as session:
        factory = Factory(session, Clock())
        patient = factory.patient(name="Åse Ørnebjerg")
        factory.order(patient)
    r = CliRunner().invoke(main, ["export", "fhir", "--patient", str(patient.id), "--base-url", "https://x.dk/fhir/"])
    assert r.exit_code == 0, r.output
    Bundle.model_validate_json(r.stdout_bytes)
    body = json.loads(r.stdout_bytes)
    assert body["entry"][0]["fullUrl"] == f"https://x.dk/fhir/Patient/{patient.id}"
    assert "Åse Ørnebjerg".encode() in r.stdout_bytes
    assert {e["resource"]["resourceType"] for e in body["entry"]} >= {"Patient", "MedicationRequest", "Practitioner"}
    with sessionmaker(cli_db)() as session:
        last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.actor, last.patient_id) == ("fhir.everything", "cli", patient.id)


def test_unknown_patient_fails_with_a_message_and_no_output(cli_db):
    r = CliRunner().invoke(main, ["export", "fhir", "--patient", "4242"])
    assert r.exit_code != 0 and "4242" in r.output and not r.stdout.startswith("{")
