"""Issue 16: failed password attempts are audited without serialising on the audit chain's head.

A failed login, a wrong password re-entered to sign, a wrong witness: each writes a sealed row to the
audit inbox and leaves the chain's head alone (every dispense locks it). The inbox is chained when the
log is read, at a successful login and on a timer; an inbox row edited while it waits is reported."""

import threading
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from api.main import create_app
from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.enums import Role
from dispensing.migrate import upgrade_to_head
from dispensing.models import AuditEntry, AuditHead, AuditInboxEntry, User
from dispensing.services import audit, passwords
from dispensing.services.context import Ctx
from dispensing.services.users import create_user
from tests.api._helpers import Api, expect
from tests.api.test_stock import receipt
from tests.conftest import LABEL_KEY, PASSWORD, SECRET, TZ


@pytest.fixture
def http(client, clock, factory) -> Api:
    return Api(client, clock, factory)


def _head(session) -> tuple[int, str]:
    return tuple(session.execute(select(AuditHead.entries, AuditHead.last_hash)).one())


def _inbox(session) -> list[tuple[str, str]]:
    rows = session.execute(select(AuditInboxEntry.action, AuditInboxEntry.actor).order_by(AuditInboxEntry.id))
    return [tuple(r) for r in rows]


def _login(client, username: str, password: str):
    return client.post("/auth/token", data={"username": username, "password": password})


def _fail_login(http, factory, mark=lambda: None):
    mark()
    assert _login(http.client, factory.nurse.username, "wrong-password").status_code == 401
    return "auth.login_failed", factory.nurse.username


def _fail_signing(http, factory, mark=lambda: None):
    draft = factory.order(sign=False)
    mark()
    r = http.post(f"/prescriptions/{draft.id}/sign", factory.doctor, json={"password": "wrong"})
    assert expect(r, 422)["code"] == "order.sign_wrong_password"
    return "prescription.sign_refused", factory.doctor.username


def _fail_witness(http, factory, mark=lambda: None):
    clinic, other = factory.site(), factory.user(Role.NURSE)
    body = receipt({"username": other.username, "password": "wrong"})
    mark()
    r = http.post(f"/sites/{clinic.id}/stock/receipts", factory.nurse, json=body)
    assert expect(r, 422)["code"] == "auth.witness_refused"
    return "auth.witness_failed", factory.nurse.username  # the acting nurse, naming the witness


@pytest.mark.parametrize("fail", [_fail_login, _fail_signing, _fail_witness], ids=["login", "signing", "witness"])
def test_a_failed_password_waits_in_the_inbox_and_the_log_shows_it_when_read(http, factory, session, fail):
    factory.admin, factory.nurse, factory.doctor  # noqa: B018  (their own entries first)
    heads = []
    action, actor = fail(http, factory, lambda: heads.append(_head(session)))
    session.expire_all()
    assert _inbox(session) == [(action, actor)]
    before = _head(session)
    assert before == heads[0]  # the refused request did not touch the chain's head

    entries = http.audit(factory.admin)  # reading the log chains the inbox first
    assert [(e["action"], e["actor"]) for e in entries if e["action"] == action] == [(action, actor)]
    assert _inbox(session) == [] and _head(session)[0] > before[0]
    assert expect(http.get("/audit/verify", factory.admin), 200)["ok"] is True


def test_a_failed_login_leaves_the_chain_head_as_it_was(http, factory, session):
    nurse = factory.nurse.username
    head = _head(session)
    for _ in range(3):
        _fail_login(http, factory)
    session.expire_all()
    assert _head(session) == head  # not one lock of the head: three rows in the inbox
    assert len(_inbox(session)) == 3
    chained = select(AuditEntry.seq).where(AuditEntry.action == "auth.login_failed", AuditEntry.actor == nurse)
    assert session.execute(chained).first() is None


def test_a_successful_login_chains_the_waiting_failures_with_its_own_entry(http, factory, session):
    nurse = factory.nurse
    _fail_login(http, factory)
    assert _login(http.client, nurse.username, PASSWORD).status_code == 200
    session.expire_all()
    assert _inbox(session) == []
    newest = session.execute(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(2)).scalars()
    assert list(newest) == ["auth.login", "auth.login_failed"]  # in the order they happened


def test_the_throttle_still_refuses_and_every_counted_failure_reaches_the_log(http, factory):
    from dispensing.rules.throttle import USER_LIMIT

    for _ in range(USER_LIMIT):
        _fail_login(http, factory)
    r = _login(http.client, factory.nurse.username, PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    nurse = factory.nurse.username
    failed = [e for e in http.audit(factory.admin) if (e["action"], e["actor"]) == ("auth.login_failed", nurse)]
    assert len(failed) == USER_LIMIT


def _triggers(session, on: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ALTER TABLE audit_inbox {'ENABLE' if on else 'DISABLE'} TRIGGER audit_inbox_no_update"))
    elif not on:
        session.execute(text("DROP TRIGGER audit_inbox_no_update"))


def test_the_database_refuses_to_edit_an_inbox_row(http, factory, session):
    from sqlalchemy.exc import DBAPIError

    _fail_login(http, factory)
    with pytest.raises(DBAPIError, match="insert-only"), session.begin_nested():
        session.execute(text("UPDATE audit_inbox SET actor = 'someone-else'"))


def test_an_inbox_row_edited_before_it_is_chained_is_reported(http, factory, session):
    """Someone able to switch the trigger off hides who failed: the row no longer matches its seal."""
    _fail_login(http, factory)
    _triggers(session, False)
    session.execute(text("UPDATE audit_inbox SET actor = 'someone-else', detail = '{}'"))
    _triggers(session, True)

    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.inbox_forged"
    forged = [e for e in http.audit(factory.admin) if e["seq"] == body["first_bad_seq"]]
    assert [(e["action"], e["actor"], e["detail"]) for e in forged] == [
        ("auth.login_failed", "someone-else", {"inbox_forged": True})
    ]


def test_a_row_slipped_into_the_inbox_without_the_key_is_reported(http, factory, session):
    factory.admin  # noqa: B018
    session.execute(
        text(
            "INSERT INTO audit_inbox (at, actor, action, entity, detail, mac) "
            "VALUES (:at, 'admin', 'auth.login', 'user', '{}', :mac)"
        ),
        {"at": datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "mac": "0" * 64},
    )
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.inbox_forged"


# --- several connections: only on a database whose transactions really commit ----------------------


def _committed_user(factory_, role: Role = Role.NURSE) -> str:
    name = f"inbox-{role.value}-{time.monotonic_ns()}"
    with transaction(factory_) as s:
        ctx = Ctx(session=s, actor=None, now=datetime.now(UTC), tz=TZ, secret=SECRET)
        create_user(ctx, username=name, password=PASSWORD, role=role, full_name=name)
    return name


def _sweep_everything(factory_) -> None:
    with transaction(factory_) as s:
        audit.sweep_inbox(s)


def test_a_failed_login_does_not_wait_while_a_dispense_holds_the_chain_head(committed_engine, settings, clock):
    """The point of the inbox: another transaction holding the head's row lock (as every dispense
    does at its commit) does not hold up a wrong password, and the failure is audited all the same."""
    factory_ = make_session_factory(committed_engine)
    name = _committed_user(factory_)
    clock.now = datetime.now(UTC)
    app = create_app(settings, engine=committed_engine, clock=clock)
    app.state.label_key = LABEL_KEY
    answers: list[int] = []
    # its own address: the committed failure never counts against other tests' "testclient"
    with TestClient(app, client=("inbox-test", 50000)) as client, committed_engine.connect() as holder:
        holder.begin()
        holder.execute(text("SELECT entries FROM audit_head WHERE id = 1 FOR UPDATE"))
        try:
            started = time.monotonic()
            attempt = threading.Thread(target=lambda: answers.append(_login(client, name, "wrong").status_code))
            attempt.start()
            attempt.join(timeout=2)
            took = time.monotonic() - started
        finally:
            holder.rollback()
        attempt.join()
    assert answers == [401] and took < 2
    with factory_() as s:
        assert (("auth.login_failed", name)) in _inbox(s)
    _sweep_everything(factory_)
    with factory_() as s:
        chained = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "auth.login_failed")).scalars()
        assert name in list(chained)


def test_a_second_sweeper_that_must_not_wait_gives_up_at_once(committed_engine):
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    factory_ = make_session_factory(committed_engine)
    name = _committed_user(factory_)
    with transaction(factory_) as s:
        ctx = Ctx(session=s, actor=None, now=datetime.now(UTC), tz=TZ, secret=SECRET)
        audit.record_failure(ctx, "auth.login_failed", "user", actor_name=name)
    first = factory_()
    try:
        assert audit.take_inbox(first, wait=False) != []  # sweeping, not yet committed
        with factory_() as second:
            started = time.monotonic()
            assert audit.sweep_inbox(second, wait=False) == 0
            assert time.monotonic() - started < 1
            second.rollback()
    finally:
        first.rollback()
        first.close()
    _sweep_everything(factory_)


def test_the_server_timer_chains_the_inbox_when_nobody_reads_the_log(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/timer.db")
    upgrade_to_head(engine)
    factory_ = make_session_factory(engine)
    try:
        name = _committed_user(factory_)
        with transaction(factory_) as s:
            user = s.execute(select(User).where(User.username == name)).scalar_one()
            ctx = Ctx(session=s, actor=user, now=datetime.now(UTC), tz=TZ, secret=SECRET)
            assert passwords.verify_reentered_password(ctx, user, "wrong") is False
            audit.record_failure(ctx, "prescription.sign_refused", "prescription", 1)
        with factory_() as s:
            assert _inbox(s) == [("prescription.sign_refused", name)]
        sweeper = audit.InboxSweeper(lambda: factory_, 0.05)
        sweeper.start()
        deadline = time.monotonic() + 5
        with factory_() as s:
            while _inbox(s) and time.monotonic() < deadline:
                time.sleep(0.05)
                s.rollback()
        sweeper.stop()
        with factory_() as s:
            assert _inbox(s) == []
            actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
            assert actions[-1] == "prescription.sign_refused"
            ctx = Ctx(session=s, actor=None, now=datetime.now(UTC), tz=TZ, secret=SECRET)
            assert audit.verify_chain(ctx).ok
    finally:
        engine.dispose()
