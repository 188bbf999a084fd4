"""Labels over HTTP: a printed label's QR, read by an independent reader, verifies at /labels/verify."""

import os
import shutil
import subprocess
from datetime import date, time

import pytest

from dispensing.enums import Role, SiteKind
from dispensing.services import sites
from tests.conftest import PASSWORD, auth

MON = date(2026, 3, 2)
TOOLS = ("pdftoppm", "zbarimg")
missing = [t for t in TOOLS if shutil.which(t) is None]
if missing and os.environ.get("CI", "").lower() == "true":
    raise RuntimeError(f"CI needs {', '.join(missing)} (Debian poppler-utils, zbar-tools)")
needs_tools = pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def take_home_dispense(client, factory, clock):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    nurse = auth(factory.nurse, clock)
    (slot,) = client.get(f"/sites/{site.id}/roster", params={"date": MON.isoformat()}, headers=nurse).json()
    r = client.post(f"/slots/{slot['slot_id']}/dispense", json={"supervised": True}, headers=nurse)
    assert r.status_code == 201, r.text
    return r.json(), nurse, order


def read_qr_codes(pdf: bytes, tmp_path, expect: int) -> list[str]:
    """Rasterize every page and read the QR codes with zbarimg (again at 200/400 dpi if one is missed:
    reading a sheet of many codes, zbarimg now and then misses one at one resolution)."""
    (tmp_path / "l.pdf").write_bytes(pdf)
    codes: list[str] = []
    for dpi in (300, 200, 400):
        for old in tmp_path.glob("page*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(tmp_path / "l.pdf"), str(tmp_path / "page")], check=True
        )
        for png in sorted(tmp_path.glob("page*.png")):
            out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
            codes += [c for c in out.stdout.split() if c not in codes]
        if len(codes) >= expect:
            break
    return codes


@needs_tools
def test_printed_label_qr_verifies_and_later_shows_void(client, factory, clock, tmp_path):
    created, nurse, _ = take_home_dispense(client, factory, clock)
    assert created["label_url"] == f"/dispenses/{created['dispense_id']}/label.pdf"
    r = client.get(created["label_url"], headers=nurse)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    tokens = read_qr_codes(r.content, tmp_path, expect=2)
    assert len(tokens) == 2  # Tuesday's and Wednesday's bottles

    check = client.get("/labels/verify", params={"token": tokens[0]}, headers=nurse).json()
    assert check["valid"] is True and check["status"] == "dispensed"
    assert check["dispense_id"] == created["dispense_id"] and check["dose_mg"] == "30"
    assert check["covers"] == ["2026-03-03"]

    tampered = tokens[0][:-3] + ("AAA" if tokens[0][-3:] != "AAA" else "BBB")
    assert client.get("/labels/verify", params={"token": tampered}, headers=nurse).json() == {
        **{k: None for k in check if k not in ("valid", "covers")},
        "valid": False,
        "covers": [],
    }

    witness = {"username": factory.user(Role.NURSE).username, "password": PASSWORD}
    r = client.post(
        f"/dispenses/{created['dispense_id']}/void", json={"reason": "Knust flaske", "witness": witness}, headers=nurse
    )
    assert r.status_code == 200 and r.json()["status"] == "void"
    assert client.get("/labels/verify", params={"token": tokens[1]}, headers=nurse).json()["status"] == "void"


@needs_tools
def test_site_staff_print_verify_and_confirm_only_their_sites_doses(client, factory, clock, tmp_path):
    pharmacy = factory.site(SiteKind.PHARMACY, windows=[sites.WindowSpec(0, time(9), time(17))])
    factory.order(site=pharmacy, weekdays=(0, 1), pickup_weekdays=(0,))
    nurse = auth(factory.nurse, clock)
    (slot,) = client.get(f"/sites/{pharmacy.id}/roster", params={"date": MON.isoformat()}, headers=nurse).json()
    prepared = client.post(f"/slots/{slot['slot_id']}/prepare", json={}, headers=nurse)
    assert prepared.status_code == 201 and prepared.json()["status"] == "prepared"

    staff = auth(factory.user(Role.SITE_STAFF, site_id=pharmacy.id), clock)
    listing = client.get(f"/sites/{pharmacy.id}/deliveries", params={"date": MON.isoformat()}, headers=staff).json()
    assert [d["id"] for d in listing] == [prepared.json()["id"]]
    assert "XXXX" in listing[0]["patient"]["cpr_masked"]
    sheet = client.get(f"/sites/{pharmacy.id}/labels.pdf", params={"date": MON.isoformat()}, headers=staff)
    assert sheet.status_code == 200
    tokens = read_qr_codes(sheet.content, tmp_path, expect=2)
    assert len(tokens) == 2
    assert all(client.get("/labels/verify", params={"token": t}, headers=staff).json()["valid"] for t in tokens)

    other = auth(factory.user(Role.SITE_STAFF, site_id=factory.site(SiteKind.POLICE).id), clock)
    assert client.get(f"/sites/{pharmacy.id}/deliveries", headers=other).status_code == 403
    refused = client.get("/labels/verify", params={"token": tokens[0]}, headers=other)
    assert refused.status_code == 403 and refused.json()["code"] == "label.other_site"
    assert "patient_name" not in refused.text
    assert client.post(f"/dispenses/{prepared.json()['id']}/handout", headers=other).status_code == 403
    done = client.post(f"/dispenses/{prepared.json()['id']}/handout", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "dispensed"
    assert client.post(f"/dispenses/{prepared.json()['id']}/handout", headers=staff).status_code == 409


def test_public_key_is_published_without_login(client):
    r = client.get("/labels/public-key")
    assert r.status_code == 200 and r.text.startswith("-----BEGIN PUBLIC KEY-----")


def test_site_staff_cannot_open_the_window_roster(client, factory, clock):
    site = factory.site(SiteKind.PHARMACY)
    staff = auth(factory.user(Role.SITE_STAFF, site_id=site.id), clock)
    assert client.get(f"/sites/{site.id}/roster", headers=staff).status_code == 403
