"""Agreement, breaches and sanctions over HTTP, and the Danish decision letter."""

import shutil
import subprocess
from datetime import date, time

import pytest

from dispensing.enums import SiteKind
from dispensing.services import sites
from tests.conftest import auth

MON = date(2026, 3, 2)


def test_substitution_order_warns_until_the_agreement_is_on_file(client, factory, clock):
    order = factory.order()
    doctor, nurse = auth(factory.doctor, clock), auth(factory.nurse, clock)
    warnings = client.get(f"/prescriptions/{order.id}", headers=doctor).json()["warnings"]
    assert any("samarbejdsaftale" in w for w in warnings)
    assert client.get(f"/patients/{order.patient_id}/agreement", headers=nurse).status_code == 404
    r = client.post(
        f"/patients/{order.patient_id}/agreement", json={"signed_on": "2026-03-02", "version": "2025.1"}, headers=nurse
    )
    assert r.status_code == 201
    assert client.get(f"/patients/{order.patient_id}/agreement", headers=nurse).json()["version"] == "2025.1"
    assert client.get(f"/prescriptions/{order.id}", headers=doctor).json()["warnings"] == []
    future = client.post(f"/patients/{order.patient_id}/agreement", json={"signed_on": "2026-03-09"}, headers=nurse)
    assert future.status_code == 422


def test_police_sanction_over_http_moves_the_roster_and_prints_a_letter(client, factory, clock, tmp_path):
    clinic = factory.site()
    police = factory.site(SiteKind.POLICE, windows=[sites.WindowSpec(0, time(10), time(11))])
    order = factory.order(site=clinic)
    doctor, nurse = auth(factory.doctor, clock), auth(factory.nurse, clock)
    breach = client.post(
        f"/patients/{order.patient_id}/breaches",
        json={"kind": "sale_or_handover", "occurred_on": "2026-03-01", "note": "Solgte medicin"},
        headers=nurse,
    )
    assert breach.status_code == 201
    body = {
        "step": "police_pickup",
        "starts_on": "2026-03-02",
        "review_on": "2026-03-30",
        "site_id": police.id,
        "reason": "Videresalg af metadon",
        "meeting_on": "2026-03-02",
        "breach_ids": [breach.json()["id"]],
    }
    assert client.post(f"/patients/{order.patient_id}/sanctions", json=body, headers=nurse).status_code == 403
    r = client.post(f"/patients/{order.patient_id}/sanctions", json=body, headers=doctor)
    assert r.status_code == 201 and r.json()["in_force_today"] is True
    assert client.get(f"/sites/{clinic.id}/roster", headers=nurse).json() == []
    assert [x["patient"]["id"] for x in client.get(f"/sites/{police.id}/roster", headers=nurse).json()] == [
        order.patient_id
    ]
    assert breach.json()["id"] not in [b["id"] for b in client.get("/breaches/undecided", headers=doctor).json()]

    letter = client.get(r.json()["letter_url"], headers=nurse)
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        (tmp_path / "l.pdf").write_bytes(letter.content)
        text = subprocess.run(["pdftotext", str(tmp_path / "l.pdf"), "-"], capture_output=True, text=True).stdout
        assert police.name in text and "Videresalg af metadon" in text and "klage" in text.lower()
        assert "30.03.2026" in text  # the review date, Danish style

    bad = dict(body, starts_on="2026-03-01")
    assert client.post(f"/patients/{order.patient_id}/sanctions", json=bad, headers=doctor).status_code == 422
    lifted = client.post(
        f"/sanctions/{r.json()['id']}/lift", json={"ends_on": "2026-03-02", "reason": "Revurderet"}, headers=doctor
    )
    assert lifted.status_code == 200 and lifted.json()["ends_on"] == "2026-03-02"


@pytest.mark.parametrize(
    "payload", [{"kind": "rudeness", "occurred_on": "2026-03-01"}, {"kind": "other", "occurred_on": "2026-03-03"}]
)
def test_bad_breaches_are_refused(client, factory, clock, payload):
    patient = factory.patient()
    r = client.post(f"/patients/{patient.id}/breaches", json=payload, headers=auth(factory.nurse, clock))
    assert r.status_code == 422 and r.json()["detail"]
