"""Issue 16, case 5: logins and password re-entry are throttled per user name and per client address
(429 with Retry-After), in the database so that several server processes share the count; the
counted failures are audited (through the audit inbox, tests/api/test_audit_inbox.py), refused
attempts write nothing."""

import pytest

from api.main import create_app
from dispensing.errors import InvalidInput, TooManyAttempts
from dispensing.rules.throttle import ADDRESS_LIMIT, USER_LIMIT, WINDOW
from dispensing.services import passwords
from tests.api._helpers import Api, expect
from tests.conftest import LABEL_KEY, PASSWORD
from tests.web._ui import Ui


@pytest.fixture
def http(client, clock, factory) -> Api:
    return Api(client, clock, factory)


def _login(client, username: str, password: str):
    return client.post("/auth/token", data={"username": username, "password": password})


def test_wrong_passwords_lock_the_user_name_until_the_window_has_passed(client, factory, clock, http):
    nurse = factory.nurse
    for _ in range(USER_LIMIT):
        assert _login(client, nurse.username, "wrong-password").status_code == 401
    for password in ("wrong-password", PASSWORD):  # now even the right password waits
        r = _login(client, nurse.username, password)
        assert r.status_code == 429 and r.json()["code"] == "auth.throttled"
        assert 0 < int(r.headers["Retry-After"]) <= WINDOW.total_seconds()
    failed = [
        e for e in http.audit(factory.admin) if (e["action"], e["actor"]) == ("auth.login_failed", nurse.username)
    ]
    assert len(failed) == USER_LIMIT  # the refused attempts wrote nothing
    clock.advance(seconds=int(r.headers["Retry-After"]))
    assert _login(client, nurse.username, PASSWORD).status_code == 200


def test_a_right_password_before_the_limit_starts_the_count_again(client, factory):
    nurse = factory.nurse
    for _ in range(USER_LIMIT - 1):
        assert _login(client, nurse.username, "wrong-password").status_code == 401
    assert _login(client, nurse.username, PASSWORD).status_code == 200
    for _ in range(USER_LIMIT - 1):
        assert _login(client, nurse.username, "wrong-password").status_code == 401
    assert _login(client, nurse.username, PASSWORD).status_code == 200


def test_guessing_many_user_names_from_one_address_locks_the_address(client, factory):
    for n in range(ADDRESS_LIMIT):
        assert _login(client, f"guess-{n}", "wrong-password").status_code == 401
    r = _login(client, factory.nurse.username, PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_a_second_server_process_sees_the_same_count(client, factory, settings, engine, session_factory, clock):
    """The count lives in the database: another app on the same database refuses too."""
    nurse = factory.nurse
    for _ in range(USER_LIMIT):
        assert _login(client, nurse.username, "wrong-password").status_code == 401
    other = create_app(settings, engine=engine, clock=clock)
    other.state.session_factory, other.state.label_key = session_factory, LABEL_KEY
    from fastapi.testclient import TestClient

    with TestClient(other) as second:
        assert _login(second, nurse.username, PASSWORD).status_code == 429


def test_the_web_login_is_throttled_too(client, factory):
    ui = Ui(client)
    for _ in range(USER_LIMIT):
        assert ui.login(factory.nurse, "wrong-password").status_code == 401
    r = ui.login(factory.nurse)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "For mange forkerte adgangskoder" in r.text


def test_re_entering_the_password_to_sign_is_throttled(http, factory):
    draft = factory.order(sign=False)
    for _ in range(USER_LIMIT):
        r = expect(http.post(f"/prescriptions/{draft.id}/sign", factory.doctor, json={"password": "wrong"}), 422)
        assert r["code"] == "order.sign_wrong_password"
    r = http.post(f"/prescriptions/{draft.id}/sign", factory.doctor, json={"password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "auth.throttled"
    assert expect(http.get(f"/prescriptions/{draft.id}", factory.doctor), 200)["status"] == "draft"


def test_a_witness_confirms_with_their_own_password_and_is_throttled(factory):
    """One witness check for stock movements and voids (passwords.verify_witness)."""
    ctx = factory.ctx(factory.nurse)
    witness = factory.user()
    w = passwords.Witness
    assert passwords.verify_witness(ctx, w(witness.username, PASSWORD), action="stock.receive").id == witness.id
    with pytest.raises(InvalidInput) as self_witness:
        passwords.verify_witness(ctx, w(factory.nurse.username, PASSWORD), action="stock.receive")
    assert self_witness.value.code == "auth.witness_is_actor"
    for _ in range(USER_LIMIT):
        with pytest.raises(InvalidInput) as wrong:
            passwords.verify_witness(ctx, w(witness.username, "wrong"), action="dispense.void")
        assert wrong.value.code == "auth.witness_refused" and wrong.value.keep_changes
    with pytest.raises(TooManyAttempts):  # even the right password waits now
        passwords.verify_witness(ctx, w(witness.username, PASSWORD), action="stock.receive")
