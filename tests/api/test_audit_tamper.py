"""Issue 16, case 4: someone with write access to the database but without the server's key files
cannot rewrite the audit log unseen. Each test is the attack itself: switch the append-only
triggers off, change rows, put the head where the changed chain ends, then ask /audit/verify."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dispensing.cli import main
from dispensing.config import get_settings
from dispensing.security import canonical_json
from dispensing.services import audit_seal
from dispensing.services.audit import GENESIS_HASH, _hashed_fields
from tests.api._helpers import Api, expect
from tests.conftest import AUDIT_KEY


@pytest.fixture
def http(client, clock, factory) -> Api:
    return Api(client, clock, factory)


@pytest.fixture
def sealed(app, tmp_path):
    """The server's seal with its checkpoint file on, as in production."""
    return audit_seal.configure(AUDIT_KEY.encode(), tmp_path / "audit-checkpoint.json")


def _triggers(session, on: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ALTER TABLE audit_log {'ENABLE' if on else 'DISABLE'} TRIGGER audit_log_no_change"))
    elif not on:
        session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def _rows(session, from_seq: int = 1) -> list[dict]:
    cols = "seq, at, actor_id, actor, action, entity, entity_id, patient_id, detail, prev_hash, hash, alg"
    result = session.execute(text(f"SELECT {cols} FROM audit_log WHERE seq >= :s ORDER BY seq"), {"s": from_seq})
    rows = []
    for r in result.mappings():
        row = dict(r)
        if isinstance(row["detail"], str):
            row["detail"] = json.loads(row["detail"])
        if isinstance(row["at"], str):
            row["at"] = datetime.fromisoformat(row["at"])
        rows.append(row)
    return rows


def _recompute(session, rows: list[dict], digest) -> None:
    """What an attacker does after editing: rehash every later entry and move the head to match."""
    prev = rows[0]["prev_hash"]
    for row in rows:
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)  # SQLite forgets the zone
        fields = _hashed_fields(row | {"at": at})
        new_hash, alg = digest(prev, canonical_json(fields))
        session.execute(
            text("UPDATE audit_log SET actor = :actor, prev_hash = :p, hash = :h, alg = :a WHERE seq = :s"),
            {"actor": row["actor"], "p": prev, "h": new_hash, "a": alg, "s": row["seq"]},
        )
        prev = new_hash
    session.execute(text("UPDATE audit_head SET last_hash = :h, entries = :n"), {"h": prev, "n": rows[-1]["seq"]})


def _make_entries(factory, n: int = 3) -> None:
    for _ in range(n):
        factory.patient()


def test_the_untouched_log_verifies_against_its_checkpoint(http, factory, sealed):
    _make_entries(factory)
    factory.admin  # noqa: B018
    body = expect(http.get("/audit/verify", factory.doctor), 200)
    assert body["ok"] is True and body["checkpointed_seq"] == body["entries"]
    audit_seal.flush_checkpoints()
    assert sealed.checkpoint_path.exists()


def test_an_edit_rehashed_with_plain_sha256_is_detected(http, factory, session, sealed):
    _make_entries(factory)
    first_keyed = session.execute(text("SELECT keyed_from FROM audit_head")).scalar_one()
    rows = _rows(session, first_keyed)
    rows[1]["actor"] = "someone-else"
    _triggers(session, False)
    _recompute(session, rows, lambda prev, c: (hashlib.sha256(prev.encode() + c).hexdigest(), "sha256"))
    _triggers(session, True)
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] in ("audit.unkeyed_after_keyed", "audit.entry_altered")


def test_an_edit_rehashed_with_a_guessed_key_is_detected(http, factory, session, sealed):
    _make_entries(factory)
    rows = _rows(session, session.execute(text("SELECT max(seq) - 2 FROM audit_log")).scalar_one())
    rows[0]["actor"] = "someone-else"
    wrong = audit_seal.Seal(b"a guess at the key" * 3, None)
    _triggers(session, False)
    _recompute(session, rows, lambda prev, c: (wrong.entry_hash(prev, c), "hmac-sha256"))
    _triggers(session, True)
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.entry_altered" and body["first_bad_seq"] == rows[0]["seq"]


def test_deleted_tail_rows_with_a_reset_head_are_detected(http, factory, session, sealed):
    _make_entries(factory, 4)
    last = session.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
    keep = session.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": last - 3}).scalar_one()
    _triggers(session, False)
    session.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": last - 3})
    session.execute(text("UPDATE audit_head SET last_hash = :h, entries = :n"), {"h": keep, "n": last - 3})
    _triggers(session, True)
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.entries_missing"
    assert body["checkpointed_seq"] >= last - 1  # the checkpoint names entries the log no longer has


def test_a_head_reset_alone_is_detected(http, factory, session, sealed):
    _make_entries(factory)
    factory.admin  # noqa: B018  (created before the attack: its entries would chain onto the reset head)
    session.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": GENESIS_HASH})
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.head_mismatch"


def test_an_edited_checkpoint_file_is_detected(http, factory, sealed):
    _make_entries(factory)
    audit_seal.flush_checkpoints()
    data = json.loads(sealed.checkpoint_path.read_text())
    sealed.checkpoint_path.write_text(json.dumps(data | {"seq": data["seq"] - 1}))
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.checkpoint_forged"


def test_a_missing_checkpoint_file_is_reported(http, factory, sealed):
    _make_entries(factory)
    factory.admin  # noqa: B018  (a later write would start a new checkpoint)
    audit_seal.flush_checkpoints()
    sealed.checkpoint_path.unlink()
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] == "audit.checkpoint_missing"


def test_an_unkeyed_chain_from_before_the_upgrade_stays_verifiable_and_is_anchored(http, factory, session, sealed):
    """Existing deployments: their unkeyed entries verify as they are; the first keyed entry chains
    onto them, so rewriting that prefix is detected too."""
    # An empty log, as before the upgrade (inside the test's transaction, rolled back after it: the
    # PostgreSQL run's database also holds committed entries of the concurrency tests).
    _triggers(session, False)
    session.execute(text("DELETE FROM audit_log"))
    _triggers(session, True)
    session.execute(
        text("UPDATE audit_head SET entries = 0, last_hash = :genesis, keyed_from = NULL"), {"genesis": GENESIS_HASH}
    )
    # An old server's entries: sha256 without a key, alg left at the migration's default.
    prev = GENESIS_HASH
    for seq in (1, 2):
        fields = {"at": datetime(2026, 1, seq, tzinfo=UTC), "actor_id": None, "actor": "old", "action": "x.old"}
        fields |= {"entity": "test", "entity_id": seq, "patient_id": None, "detail": {}}
        digest = hashlib.sha256(prev.encode() + canonical_json(_hashed_fields(fields | {"seq": seq}))).hexdigest()
        session.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor_id, actor, action, entity, entity_id, patient_id, detail,"
                " prev_hash, hash) VALUES (:seq, :at, NULL, 'old', 'x.old', 'test', :seq, NULL, '{}', :p, :h)"
            ),
            {"seq": seq, "at": fields["at"], "p": prev, "h": digest},
        )
        prev = digest
    session.execute(text("UPDATE audit_head SET last_hash = :h, entries = 2, keyed_from = NULL"), {"h": prev})
    session.commit()
    _make_entries(factory, 1)  # the upgraded server goes on, keyed
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is True
    assert session.execute(text("SELECT alg FROM audit_log WHERE seq = 1")).scalar_one() == "sha256"
    assert session.execute(text("SELECT keyed_from FROM audit_head")).scalar_one() == 3

    rows = _rows(session, 1)
    rows[0]["actor"] = "rewritten"
    _triggers(session, False)
    _recompute(session, rows, lambda p, c: (hashlib.sha256(p.encode() + c).hexdigest(), "sha256"))
    _triggers(session, True)
    body = expect(http.get("/audit/verify", factory.admin), 200)
    assert body["ok"] is False and body["problem"] in ("audit.unkeyed_after_keyed", "audit.entry_altered")


def test_the_command_line_verifier_detects_a_deleted_tail(tmp_path, monkeypatch):
    import sqlite3

    monkeypatch.setenv("DISPENSING_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DISPENSING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        for name in ("anne", "bent"):
            r = runner.invoke(main, ["users", "create", "--username", name, "--role", "nurse"], input="pw-long-123\n")
            assert r.exit_code == 0, r.output
        ok = runner.invoke(main, ["audit", "verify"])
        assert ok.exit_code == 0 and ok.output.startswith("ok: 2 entries"), ok.output
        assert (tmp_path / "audit-hmac.key").exists() and (tmp_path / "audit-checkpoint.json").exists()

        db = sqlite3.connect(tmp_path / "cli.db")
        first = db.execute("SELECT hash FROM audit_log WHERE seq = 1").fetchone()[0]
        db.execute("DROP TRIGGER audit_log_no_delete")
        db.execute("DELETE FROM audit_log WHERE seq = 2")
        db.execute("UPDATE audit_head SET last_hash = ?, entries = 1", (first,))
        db.commit()
        db.close()
        broken = runner.invoke(main, ["audit", "verify"])
        assert broken.exit_code == 1 and "audit.entries_missing" in broken.output
    finally:
        get_settings.cache_clear()
