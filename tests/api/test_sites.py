"""Sites and their weekly windows (admin only)."""

import random

import pytest

from dispensing.enums import Role
from tests.api._helpers import api, expect  # noqa: F401  (api is a fixture)

ANTABUS_WINDOWS = [
    {"weekday": 0, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
    {"weekday": 3, "start": "08:30", "end": "10:30", "drugs": ["disulfiram"]},
    {"weekday": 3, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
]


def unique_name(prefix: str = "Klinik") -> str:
    return f"{prefix} {random.randrange(10**12)}"


def new_site(api, factory, **body) -> dict:
    body = {"name": unique_name(), "kind": "clinic", "address": "Vestergade 1, 9000 Aalborg"} | body
    return expect(api.post("/sites", factory.admin, json=body), 201)


def test_admin_creates_a_site(api, factory):
    name = unique_name("Sundhedsklinik")
    site = new_site(api, factory, name=name, kind="pharmacy")
    assert isinstance(site["id"], int)
    assert site["name"] == name
    assert site["kind"] == "pharmacy"
    assert site["windows"] == []

    got = expect(api.get(f"/sites/{site['id']}", factory.nurse), 200)
    assert got["name"] == name and got["address"] == "Vestergade 1, 9000 Aalborg"
    listed = expect(api.get("/sites", factory.nurse), 200)
    assert site["id"] in [s["id"] for s in listed]


@pytest.mark.parametrize("kind", ["clinic", "pharmacy", "police", "home_nursing"])
def test_every_site_kind_of_the_contract_is_accepted(api, factory, kind):
    assert new_site(api, factory, kind=kind)["kind"] == kind


@pytest.mark.parametrize("role", [Role.NURSE, Role.DOCTOR, Role.SITE_STAFF])
def test_only_admin_creates_sites(api, factory, role):
    user = api.site_staff() if role == Role.SITE_STAFF else factory.user(role)
    name = unique_name()
    expect(api.post("/sites", user, json={"name": name, "kind": "clinic"}), 403)
    assert name not in [s["name"] for s in expect(api.get("/sites", factory.admin), 200)]


def test_bad_kind_is_422(api, factory):
    body = expect(api.post("/sites", factory.admin, json={"name": unique_name(), "kind": "hospital"}), 422)
    assert "kind" in body["detail"]


def test_duplicate_site_name_is_409(api, factory):
    site = new_site(api, factory)
    body = expect(api.post("/sites", factory.admin, json={"name": site["name"], "kind": "police"}), 409)
    assert site["name"] in body["detail"]


def test_drug_limited_windows_are_saved_and_shown_as_hh_mm(api, factory):
    site = new_site(api, factory)
    saved = expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=ANTABUS_WINDOWS), 200)
    got = expect(api.get(f"/sites/{site['id']}", factory.nurse), 200)
    expected = [
        {"weekday": 0, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
        {"weekday": 3, "start": "08:30", "end": "10:30", "drugs": ["disulfiram"]},
        {"weekday": 3, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
    ]
    assert saved["windows"] == expected
    assert got["windows"] == expected


def test_windows_without_drugs_serve_every_drug_and_replace_the_old_ones(api, factory):
    site = new_site(api, factory)
    expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=ANTABUS_WINDOWS), 200)
    expect(
        api.put(f"/sites/{site['id']}/windows", factory.admin, json=[{"weekday": 1, "start": "08:00", "end": "11:00"}]),
        200,
    )
    got = expect(api.get(f"/sites/{site['id']}", factory.admin), 200)
    assert got["windows"] == [{"weekday": 1, "start": "08:00", "end": "11:00", "drugs": None}]


def test_same_times_for_different_drugs_are_not_an_overlap(api, factory):
    site = new_site(api, factory)
    windows = [
        {"weekday": 2, "start": "08:00", "end": "10:00", "drugs": ["methadone"]},
        {"weekday": 2, "start": "09:00", "end": "11:00", "drugs": ["disulfiram"]},
    ]
    assert len(expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=windows), 200)["windows"]) == 2


def windows_of(api, factory, site_id: int) -> list[dict]:
    return expect(api.get(f"/sites/{site_id}", factory.admin), 200)["windows"]


@pytest.mark.parametrize(
    "bad, word",
    [
        ([{"weekday": 0, "start": "16:00", "end": "14:30"}], "16:00"),
        ([{"weekday": 0, "start": "14:30", "end": "14:30"}], "14:30"),
        ([{"weekday": 7, "start": "08:00", "end": "10:00"}], "weekday"),
        ([{"weekday": -1, "start": "08:00", "end": "10:00"}], "weekday"),
        ([{"weekday": 0, "start": "25:00", "end": "26:00"}], "start"),
        ([{"weekday": 0, "start": "08:00", "end": "10:00", "drugs": ["heroin"]}], "drugs"),
        (
            [
                {"weekday": 0, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
                {"weekday": 0, "start": "15:00", "end": "17:00", "drugs": ["disulfiram", "methadone"]},
            ],
            "overlap",
        ),
        (
            [
                {"weekday": 4, "start": "08:00", "end": "10:00"},
                {"weekday": 4, "start": "09:59", "end": "12:00", "drugs": ["methadone"]},
            ],
            "overlap",
        ),
    ],
)
def test_bad_windows_are_422_and_change_nothing(api, factory, bad, word):
    site = new_site(api, factory)
    expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=ANTABUS_WINDOWS), 200)
    before = windows_of(api, factory, site["id"])

    body = expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=bad), 422)
    assert word.lower() in body["detail"].lower()
    assert windows_of(api, factory, site["id"]) == before


def test_back_to_back_windows_do_not_overlap(api, factory):
    site = new_site(api, factory)
    windows = [{"weekday": 0, "start": "08:00", "end": "10:00"}, {"weekday": 0, "start": "10:00", "end": "12:00"}]
    assert len(expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=windows), 200)["windows"]) == 2


@pytest.mark.parametrize("role", [Role.NURSE, Role.DOCTOR])
def test_only_admin_sets_windows(api, factory, role):
    site = new_site(api, factory)
    expect(api.put(f"/sites/{site['id']}/windows", factory.user(role), json=ANTABUS_WINDOWS), 403)
    assert windows_of(api, factory, site["id"]) == []


def test_unknown_site_is_404(api, factory):
    expect(api.get("/sites/999999", factory.nurse), 404)
    expect(api.put("/sites/999999/windows", factory.admin, json=ANTABUS_WINDOWS), 404)


def test_missing_or_unknown_fields_are_422_naming_the_field(api, factory):
    body = expect(api.post("/sites", factory.admin, json={"name": unique_name()}), 422)
    assert "kind" in body["detail"]
    body = expect(
        api.post("/sites", factory.admin, json={"name": unique_name(), "kind": "clinic", "colour": "blue"}), 422
    )
    assert "colour" in body["detail"]
    body = expect(
        api.post("/sites", factory.admin, content=b"not json", headers={"Content-Type": "application/json"}), 422
    )
    site = new_site(api, factory)
    body = expect(api.put(f"/sites/{site['id']}/windows", factory.admin, json=[{"weekday": 0, "start": "08:00"}]), 422)
    assert "end" in body["detail"]
    body = expect(
        api.put(
            f"/sites/{site['id']}/windows",
            factory.admin,
            json=[{"weekday": 0, "start": "08:00", "end": "09:00", "drug": "methadone"}],
        ),
        422,
    )
    assert "drug" in body["detail"]
