"""POST /auth/token, GET /auth/me and what a protected endpoint does without a valid token."""

from datetime import timedelta

from sqlalchemy import text

from dispensing import security
from dispensing.enums import Role
from tests.api._helpers import api, expect  # noqa: F401  (api is a fixture)
from tests.conftest import PASSWORD, SECRET, auth


def login(api, username: str, password: str):
    return api.post("/auth/token", data={"username": username, "password": password})


def test_login_with_the_right_password_gives_a_bearer_token_that_works(api, factory):
    nurse = factory.nurse
    body = expect(login(api, nurse.username, PASSWORD), 200)
    assert body["token_type"] == "bearer"
    assert body["access_token"]

    me = expect(api.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}), 200)
    assert me["username"] == nurse.username
    assert me["role"] == "nurse"
    assert "password_hash" not in me


def test_a_token_minted_at_the_clinics_time_is_accepted(api, factory, clock):
    """Tokens are issued on the app's clock; they must also be checked against it."""
    doctor = factory.doctor
    me = expect(api.get("/auth/me", doctor), 200)
    assert me["username"] == doctor.username
    assert me["can_prescribe_addictive"] is True


def test_wrong_password_is_401_and_the_failed_login_is_audited(api, factory):
    nurse = factory.nurse
    r = login(api, nurse.username, "not-the-password")
    body = expect(r, 401)
    assert "password" in body["detail"].lower()
    assert "access_token" not in body

    # The request failed, but its audit entry was kept.
    entries = api.audit(factory.doctor)
    failed = [e for e in entries if e["action"] == "auth.login_failed"]
    assert failed, f"no auth.login_failed entry in {[e['action'] for e in entries]}"
    assert failed[0]["actor"] == nurse.username


def test_unknown_user_is_401_with_the_same_message_as_a_wrong_password(api, factory):
    wrong_password = expect(login(api, factory.nurse.username, "not-the-password"), 401)
    unknown = expect(login(api, "nobody-by-this-name", PASSWORD), 401)
    # The answer must not reveal which usernames exist.
    assert unknown["detail"] == wrong_password["detail"]
    failed = [e for e in api.audit(factory.admin) if e["action"] == "auth.login_failed"]
    assert any(e["actor"] == "(unknown user)" for e in failed)
    # what was typed as an unknown username may be a password in the wrong field: never stored
    assert all("nobody-by-this-name" not in str(e) for e in api.audit(factory.admin))


def test_login_form_without_password_is_422(api, factory):
    expect(api.post("/auth/token", data={"username": factory.nurse.username}), 422)


def test_protected_endpoint_without_token_is_401(api):
    r = api.get("/auth/me")
    expect(r, 401)
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")
    expect(api.get("/patients"), 401)


def test_garbage_token_is_401(api):
    expect(api.get("/auth/me", headers={"Authorization": "Bearer not.a.token"}), 401)
    expect(api.get("/patients", headers={"Authorization": "Bearer " + "x" * 40}), 401)


def test_token_signed_with_another_secret_is_401(api, factory, clock):
    forged = security.create_access_token(b"some-other-secret-" + b"y" * 40, factory.admin.id, clock(), 60)
    expect(api.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_expired_token_is_401(api, factory, clock):
    nurse = factory.nurse
    expired = security.create_access_token(SECRET, nurse.id, clock() - timedelta(hours=2), 60)
    expect(api.get("/auth/me", headers={"Authorization": f"Bearer {expired}"}), 401)
    expect(api.get("/patients", headers={"Authorization": f"Bearer {expired}"}), 401)


def test_token_expires_on_the_clinics_clock(api, factory, clock):
    """A token valid for 60 minutes stops working once the clinic's clock has passed that hour."""
    nurse = factory.nurse
    token = security.create_access_token(SECRET, nurse.id, clock(), 60)
    header = {"Authorization": f"Bearer {token}"}
    expect(api.get("/auth/me", headers=header), 200)
    clock.advance(minutes=61)
    expect(api.get("/auth/me", headers=header), 401)


def test_token_of_a_user_id_that_does_not_exist_is_401(api, clock):
    token = security.create_access_token(SECRET, 987654321, clock(), 60)
    expect(api.get("/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_me_shows_the_role_of_each_kind_of_user(api, factory):
    staff = api.site_staff()
    assert expect(api.get("/auth/me", staff), 200)["role"] == Role.SITE_STAFF.value
    assert expect(api.get("/auth/me", factory.admin), 200)["role"] == "admin"


def test_deactivated_user_can_neither_log_in_nor_use_an_old_token(api, factory, session):
    nurse = factory.user(Role.NURSE)
    header = auth(nurse, api.clock)
    expect(api.get("/auth/me", headers=header), 200)
    session.execute(text("UPDATE users SET active = :f WHERE id = :id"), {"f": False, "id": nurse.id})
    expect(api.get("/auth/me", headers=header), 401)
    expect(login(api, nurse.username, PASSWORD), 401)
