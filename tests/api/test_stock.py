"""HTTP contract of the controlled-drug stock (API.md "Stock of controlled drugs")."""

import shutil
import subprocess
from datetime import timedelta

import pytest

from dispensing.enums import Role, SiteKind
from tests.api._helpers import MONDAY, PASSWORD, Api, expect


@pytest.fixture
def api(client, clock, factory) -> Api:
    return Api(client, clock, factory)


@pytest.fixture
def clinic(factory):
    return factory.site(SiteKind.CLINIC)


@pytest.fixture
def witness(factory):
    return {"username": factory.user(Role.NURSE).username, "password": PASSWORD}


def receipt(witness, **kw):
    return {
        "product": "methadone-oral-1",
        "quantity": "1000",
        "batch": "MX-1",
        "expiry": (MONDAY + timedelta(days=200)).isoformat(),
        "supplier": "Sygehusapoteket",
        "witness": witness,
    } | kw


def test_receive_count_waste_and_see_the_balances_and_ledger(api, factory, clinic, witness):
    base = f"/sites/{clinic.id}/stock"
    e = expect(api.post(f"{base}/receipts", factory.nurse, json=receipt(witness)), 201)
    assert (e["kind"], e["quantity"], e["balance"], e["ref"]) == ("receipt", "1000", "1000", "MX-1")
    expect(api.post(f"{base}/receipts", factory.admin, json=receipt(witness, quantity=12.5)), 201)
    w = expect(
        api.post(
            f"{base}/waste",
            factory.nurse,
            json={"product": "methadone-oral-1", "quantity": "2.5", "reason": "Spildt", "witness": witness},
        ),
        201,
    )
    assert (w["kind"], w["quantity"], w["balance"]) == ("waste", "-2.5", "1010")
    c = expect(
        api.post(
            f"{base}/counts", factory.nurse, json={"product": "methadone-oral-1", "counted": "1005", "witness": witness}
        ),
        201,
    )
    assert (c["expected"], c["counted"], c["difference"], c["alert"]) == ("1010", "1005", "-5", False)
    (row,) = expect(api.get(base, factory.nurse), 200)
    assert (row["product"], row["unit"], row["balance"]) == ("methadone-oral-1", "ml", "1010")
    assert row["last_count"]["counted"] == "1005" and row["last_count"]["witness"]
    ledger = expect(
        api.get(f"{base}/ledger", factory.doctor, params={"product": "methadone-oral-1", "from": "2026-03-01"}), 200
    )
    assert [(x["kind"], x["balance"]) for x in ledger] == [
        ("receipt", "1000"),
        ("receipt", "1012.5"),
        ("waste", "1010"),
        ("count", "1010"),
    ]
    assert all(x["by"] and x["witness"] for x in ledger)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"product": "antabus"}, "stock.unknown_product"),
        ({"quantity": "0"}, "stock.quantity_not_positive"),
        ({"quantity": -3}, "stock.quantity_not_positive"),
        ({"quantity": "1e400"}, "stock.quantity_invalid"),
        ({"expiry": "2026-03-01"}, "stock.expired"),
    ],
)
def test_bad_receipts_are_422_with_a_code(api, factory, clinic, witness, changes, code):
    r = api.post(f"/sites/{clinic.id}/stock/receipts", factory.nurse, json=receipt(witness, **changes))
    assert expect(r, 422)["code"] == code
    assert expect(api.get(f"/sites/{clinic.id}/stock", factory.nurse), 200) == []


def test_the_witness_rules_over_http(api, factory, clinic):
    nurse = factory.nurse
    same = api.post(
        f"/sites/{clinic.id}/stock/receipts", nurse, json=receipt({"username": nurse.username, "password": PASSWORD})
    )
    assert expect(same, 422)["code"] == "auth.witness_is_actor"
    other = factory.user(Role.NURSE)
    wrong = api.post(
        f"/sites/{clinic.id}/stock/receipts", nurse, json=receipt({"username": other.username, "password": "nope"})
    )
    body = expect(wrong, 422)
    assert body["code"] == "auth.witness_refused"
    assert any(e["action"] == "auth.witness_failed" for e in api.audit(factory.admin))
    missing = api.post(f"/sites/{clinic.id}/stock/receipts", nurse, json=receipt(None) | {"witness": None})
    assert missing.status_code == 422


def test_roles_and_sites(api, factory, clinic, witness):
    pharmacy = factory.site(SiteKind.PHARMACY)
    staff = factory.user(Role.SITE_STAFF, site_id=pharmacy.id)
    assert api.get(f"/sites/{clinic.id}/stock", staff).status_code == 403
    assert api.post(f"/sites/{clinic.id}/stock/receipts", factory.doctor, json=receipt(witness)).status_code == 403
    r = api.post(f"/sites/{pharmacy.id}/stock/receipts", factory.nurse, json=receipt(witness))
    assert expect(r, 422)["code"] == "stock.site_not_clinic"
    assert api.get("/sites/999999/stock", factory.nurse).status_code == 404


def test_count_difference_and_negative_balance_reach_the_doctor_and_the_admin(api, factory, clinic, witness):
    base = f"/sites/{clinic.id}/stock"
    expect(api.post(f"{base}/receipts", factory.nurse, json=receipt(witness, product="suboxone-8", quantity="10")), 201)
    c = expect(
        api.post(f"{base}/counts", factory.nurse, json={"product": "suboxone-8", "counted": "9", "witness": witness}),
        201,
    )
    assert c["alert"] is True
    order = factory.order(site=clinic, dose="30")  # nothing of methadone received: the dose still goes
    slot = api.slot(clinic.id, MONDAY, order.patient_id)
    expect(api.dispense(slot["slot_id"]), 201)
    for user in (factory.doctor, factory.admin):
        alerts = expect(api.get("/alerts", user), 200)
        kinds = {a["kind"]: a for a in alerts if a["site_id"] == clinic.id}
        assert set(kinds) == {"stock_count_difference", "stock_negative"}
        assert all(a["patient_id"] is None for a in kinds.values())
    a = kinds["stock_negative"]
    expect(api.post(f"/alerts/{a['id']}/resolve", factory.admin, json={"resolution": "Varer modtaget"}), 200)
    c2 = expect(
        api.post(
            f"{base}/corrections",
            factory.nurse,
            json={
                "product": "suboxone-8",
                "quantity": "-1",
                "reason": "Optalt 9",
                "witness": witness,
                "corrects_id": c["entry"]["id"],
            },
        ),
        201,
    )
    assert (c2["kind"], c2["balance"], c2["ref"]) == ("correction", "9", f"#{c['entry']['id']}")


def test_void_and_return_take_the_stock_fields(api, factory, clinic, witness):
    expect(api.post(f"/sites/{clinic.id}/stock/receipts", factory.nurse, json=receipt(witness)), 201)
    order = factory.order(site=clinic, dose="30", pickup_weekdays=(0, 3))
    d = expect(api.dispense(api.slot(clinic.id, MONDAY, order.patient_id)["slot_id"]), 201)
    expect(
        api.post(
            f"/dispenses/{d['dispense_id']}/void",
            factory.nurse,
            json={"reason": "Forkert", "back_to_stock": True, "witness": witness},
        ),
        200,
    )
    ledger = expect(
        api.get(f"/sites/{clinic.id}/stock/ledger", factory.nurse, params={"product": "methadone-oral-1"}), 200
    )
    assert [(x["kind"], x["quantity"], x["ref"]) for x in ledger[1:]] == [
        ("dispense", "-90", f"U-{d['dispense_id']:06d}"),
        ("void", "60", f"U-{d['dispense_id']:06d}"),
    ]
    pharmacy = factory.site(SiteKind.PHARMACY)
    site_order = factory.order(site=pharmacy, dose="20")
    slot = api.slot(pharmacy.id, MONDAY, site_order.patient_id)
    p = expect(api.post(f"/slots/{slot['slot_id']}/prepare", factory.nurse, json={}), 201)
    expect(api.post(f"/dispenses/{p['id']}/return", factory.nurse, json={"reason": "Åbnet", "opened": True}), 200)
    kinds = [
        x["kind"]
        for x in expect(
            api.get(f"/sites/{clinic.id}/stock/ledger", factory.nurse, params={"product": "methadone-oral-1"}), 200
        )
    ]
    assert kinds[-3:] == ["prepared", "returned", "waste"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_the_monthly_ledger_pdf_reads_back_in_danish(api, factory, clinic, witness, tmp_path):
    base = f"/sites/{clinic.id}/stock"
    expect(api.post(f"{base}/receipts", factory.nurse, json=receipt(witness, quantity="1234.5")), 201)
    expect(
        api.post(f"{base}/receipts", factory.nurse, json=receipt(witness, product="methadone-tab-5", quantity="100")),
        201,
    )
    expect(
        api.post(
            f"{base}/counts", factory.nurse, json={"product": "methadone-tab-5", "counted": "100", "witness": witness}
        ),
        201,
    )
    order = factory.order(site=clinic, dose="30")
    expect(api.dispense(api.slot(clinic.id, MONDAY, order.patient_id)["slot_id"]), 201)
    r = api.get(f"{base}/ledger.pdf", factory.nurse, params={"month": "2026-03"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    (tmp_path / "l.pdf").write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "l.pdf"), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    assert "Metadon oral opløsning 1 mg/ml" in pages[0] and "Metadon tabletter 5 mg" in pages[1]
    assert "marts 2026" in pages[0] and clinic.name in pages[0]
    for word in ("Modtagelse", "Udlevering", "1.234,5", "1.204,5", "Primo", "Ultimo"):
        assert word in pages[0], word
    assert "Optælling" in pages[1] and "optalt 100" in pages[1] and factory.nurse.full_name in pages[1]
    one = api.get(f"{base}/ledger.pdf", factory.nurse, params={"month": "2026-03", "product": "methadone-tab-5"})
    assert one.status_code == 200
    assert expect(api.get(f"{base}/ledger.pdf", factory.nurse, params={"month": "2026-13"}), 422)["code"] == (
        "stock.month_invalid"
    )
