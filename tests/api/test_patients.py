"""Patients: registration by CPR, lookup with masked CPR in lists, and the audit of every read.

The CPR numbers here have a 7th digit of 4-9, so they never collide with the factory's (0-3).
"""

from datetime import date

import pytest

from dispensing.enums import Role
from tests.api._helpers import api, expect  # noqa: F401  (api is a fixture)


def register(api, user, cpr: str, name: str = "Jens Æblegård Hansen", **extra):
    return api.post("/patients", user, json={"cpr": cpr, "name": name} | extra)


@pytest.mark.parametrize(
    "cpr, birth, sex",
    [
        ("150385-4013", date(1985, 3, 15), "male"),  # 7th digit 4, YY 85: 1900s
        ("1503854013", date(1985, 3, 15), "male"),  # the same without hyphen
        ("010203-4562", date(2003, 2, 1), "female"),  # 7th digit 4, YY 03: 2000s
        ("290292-5678", date(1892, 2, 29), "female"),  # 7th digit 5, YY 92: 1800s (1892 is a leap year)
        ("290204-6789", date(2004, 2, 29), "male"),  # 7th digit 6, YY 04: 2000s leap day
    ],
)
def test_register_derives_birth_date_and_sex_from_the_cpr(api, factory, cpr, birth, sex):
    body = expect(register(api, factory.nurse, cpr, children_at_home=True), 201)
    assert isinstance(body["id"], int)
    assert body["birth_date"] == birth.isoformat()
    assert body["sex"] == sex
    digits = cpr.replace("-", "")
    assert body["cpr"].replace("-", "") == digits
    assert body["name"] == "Jens Æblegård Hansen"
    assert body["children_at_home"] is True
    assert body["pregnant"] is False


def test_cpr_failing_the_old_modulus_11_check_is_accepted(api, factory):
    # 010170-5000: weights 4,3,2,7,6,5,4,3,2,1 give 3+7+42+20 = 72, not divisible by 11.
    # 7th digit 5 with YY 70 means 1870.
    body = expect(register(api, factory.doctor, "010170-5000"), 201)
    assert body["birth_date"] == "1870-01-01"
    assert body["sex"] == "female"


@pytest.mark.parametrize("role", [Role.NURSE, Role.DOCTOR, Role.ADMIN])
def test_staff_roles_register_patients(api, factory, role):
    expect(register(api, factory.user(role), "150385-4013"), 201)


@pytest.mark.parametrize(
    "cpr, words",
    [
        ("310490-4234", ["date"]),  # 31 April does not exist
        ("300290-4234", ["date"]),  # 30 February
        ("290291-4234", ["date"]),  # 29 February 1991, not a leap year
        ("011390-4234", ["date"]),  # month 13
        ("0101AB-4234", ["digit"]),
        ("010190-423", ["10 digits"]),
        ("010190-42345", ["10 digits"]),
        ("", ["empty"]),
    ],
)
def test_invalid_cpr_is_422_with_a_detail_that_explains(api, factory, cpr, words):
    body = expect(register(api, factory.nurse, cpr), 422)
    for word in words:
        assert word in body["detail"].lower(), body["detail"]
    assert "DDMMYY" in body["detail"] or "date" in body["detail"].lower()


def test_the_date_is_checked_with_the_century_from_the_7th_digit(api, factory):
    # 29.02.00: 7th digit 4 and YY 00 -> 2000 (a leap year) is valid; 7th digit 5 and YY 00 -> 2000 too;
    # 29.02.58 with 7th digit 5 -> 1858, not a leap year.
    expect(register(api, factory.nurse, "290200-4001"), 201)
    expect(register(api, factory.nurse, "290258-5001"), 422)


def test_duplicate_cpr_is_409_also_when_written_differently(api, factory):
    expect(register(api, factory.nurse, "150385-4013"), 201)
    expect(register(api, factory.nurse, "150385-4013", name="Someone Else"), 409)
    body = expect(register(api, factory.doctor, "1503854013", name="Someone Else"), 409)
    assert "already registered" in body["detail"]
    # the 409 does not echo the CPR number
    assert "150385-4013" not in body["detail"] and "1503854013" not in body["detail"]


def test_missing_name_is_422(api, factory):
    expect(api.post("/patients", factory.nurse, json={"cpr": "150385-4013"}), 422)
    expect(register(api, factory.nurse, "150385-4013", name=""), 422)


def test_list_shows_masked_cpr_and_never_the_full_number(api, factory):
    a = expect(register(api, factory.nurse, "150385-4013", name="Karen Ørsted"), 201)
    b = expect(register(api, factory.nurse, "2106794128", name="Karsten Ørbæk"), 201)

    r = api.get("/patients", factory.nurse, params={"q": "Kar"})
    rows = {p["id"]: p for p in expect(r, 200)}
    assert rows[a["id"]]["cpr_masked"] == "150385-XXXX"
    assert rows[b["id"]]["cpr_masked"] == "210679-XXXX"
    assert rows[a["id"]]["name"] == "Karen Ørsted"
    for secret in ("-4013", "-4128", "1503854013", "2106794128"):
        assert secret not in r.text
    assert all("cpr" not in p for p in rows.values())


def test_list_without_query_also_masks(api, factory):
    patient = factory.patient()
    r = api.get("/patients", factory.doctor, params={"limit": 500})
    rows = expect(r, 200)
    assert patient.id in [p["id"] for p in rows]
    for p in rows:
        assert p["cpr_masked"].endswith("-XXXX") and len(p["cpr_masked"]) == 11
    assert patient.cpr not in r.text
    assert f"{patient.cpr[:6]}-{patient.cpr[6:]}" not in r.text


def test_search_by_name_part_case_insensitive(api, factory):
    target = expect(register(api, factory.nurse, "150385-4013", name="Mette Kjærsgaard"), 201)
    other = expect(register(api, factory.nurse, "2106794128", name="Ole Nielsen"), 201)
    for q in ("Kjærsg", "mette", "METTE KJ"):
        ids = [p["id"] for p in expect(api.get("/patients", factory.nurse, params={"q": q}), 200)]
        assert target["id"] in ids, q
        assert other["id"] not in ids, q


def test_search_by_last_four_digits(api, factory):
    target = expect(register(api, factory.nurse, "150385-4013", name="Mette Kjærsgaard"), 201)
    other = expect(register(api, factory.nurse, "2106794128", name="Ole Nielsen"), 201)
    ids = [p["id"] for p in expect(api.get("/patients", factory.nurse, params={"q": "4013"}), 200)]
    assert target["id"] in ids
    assert other["id"] not in ids
    ids = [p["id"] for p in expect(api.get("/patients", factory.nurse, params={"q": "150385-4013"}), 200)]
    assert ids == [target["id"]]


def test_read_one_patient_shows_the_full_cpr(api, factory):
    created = expect(register(api, factory.nurse, "1503854013", weight_kg=72.5), 201)
    got = expect(api.get(f"/patients/{created['id']}", factory.doctor), 200)
    assert got["cpr"] == "150385-4013"
    assert got["birth_date"] == "1985-03-15"
    assert got["weight_kg"] == "72.5"


def test_unknown_patient_is_404(api, factory):
    body = expect(api.get("/patients/987654", factory.nurse), 404)
    assert "987654" in body["detail"]
    assert body["code"] == "record.not_found" and body["params"] == {"record": "Patient", "id": "987654"}


@pytest.mark.parametrize(
    "call",
    [
        lambda api, user, pid: api.get(f"/patients/{pid}", user),
        lambda api, user, pid: api.get("/patients", user, params={"q": "a"}),
        lambda api, user, pid: register(api, user, "150385-4013"),
    ],
)
def test_site_staff_cannot_see_or_register_patients(api, factory, call):
    patient = factory.patient()
    expect(call(api, api.site_staff(), patient.id), 403)


def test_every_read_of_a_record_is_audited(api, factory):
    nurse, doctor = factory.nurse, factory.doctor
    patient = expect(register(api, nurse, "150385-4013"), 201)
    expect(api.get(f"/patients/{patient['id']}", nurse), 200)
    expect(api.get(f"/patients/{patient['id']}", doctor), 200)
    expect(api.get(f"/patients/{patient['id']}/prescriptions", nurse), 200)

    entries = api.audit(doctor, patient_id=patient["id"])
    assert all(e["patient_id"] == patient["id"] for e in entries)
    reads = [(e["action"], e["actor"]) for e in entries if e["action"] == "patient.read"]
    assert reads == [("patient.read", doctor.username), ("patient.read", nurse.username)]
    assert ("prescription.list", nurse.username) in [(e["action"], e["actor"]) for e in entries]
    assert ("patient.create", nurse.username) in [(e["action"], e["actor"]) for e in entries]
    # no audit entry carries the CPR number
    assert "1503854013" not in str(entries) and "150385-4013" not in str(entries)


def test_a_search_is_audited_with_the_patients_it_showed(api, factory):
    patient = expect(register(api, factory.nurse, "150385-4013", name="Mette Kjærsgaard"), 201)
    expect(api.get("/patients", factory.nurse, params={"q": "Kjærsgaard"}), 200)
    searches = [e for e in api.audit(factory.admin) if e["action"] == "patient.search"]
    assert searches and patient["id"] in searches[0]["detail"]["patient_ids"]
    assert searches[0]["actor"] == factory.nurse.username


def test_a_search_by_cpr_digits_does_not_put_the_digits_in_the_audit_log(api, factory):
    patient = expect(register(api, factory.nurse, "150385-4013"), 201)
    assert [p["id"] for p in expect(api.get("/patients", factory.nurse, params={"q": "1503854013"}), 200)] == [
        patient["id"]
    ]
    assert "1503854013" not in str(api.audit(factory.admin))


def test_pregnant_flag_on_a_male_cpr_is_422(api, factory):
    body = expect(register(api, factory.nurse, "150385-4013", pregnant=True), 422)
    assert "pregnant" in body["detail"]
    assert expect(register(api, factory.nurse, "010203-4562", pregnant=True), 201)["pregnant"] is True


def test_missing_or_unknown_fields_are_422_naming_the_field(api, factory):
    body = expect(api.post("/patients", factory.nurse, json={"name": "Anne"}), 422)
    assert "cpr" in body["detail"]
    body = expect(register(api, factory.nurse, "150385-4013", email="anne@example.dk"), 422)
    assert "email" in body["detail"]
    body = expect(register(api, factory.nurse, "150385-4013", children_at_home="maybe"), 422)
    assert "children_at_home" in body["detail"]
    body = expect(register(api, factory.nurse, "150385-4013", weight_kg=0), 422)
    assert "weight_kg" in body["detail"]
    # none of these registered anyone
    expect(register(api, factory.nurse, "150385-4013"), 201)
