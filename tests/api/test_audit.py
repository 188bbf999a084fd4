"""The audit log: who may read it, its order, its verification, and that the database refuses edits."""

from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dispensing.enums import Role
from dispensing.models import AuditHead
from dispensing.services import audit
from dispensing.services.audit import verify_chain
from dispensing.services.patients import read_patient, register_patient
from tests.api._helpers import api, expect  # noqa: F401  (api is a fixture)


@pytest.mark.parametrize("role", [Role.NURSE, Role.SITE_STAFF])
def test_audit_log_is_not_for_nurses_or_site_staff(api, factory, role):
    user = api.site_staff() if role == Role.SITE_STAFF else factory.user(role)
    expect(api.get("/audit", user), 403)
    expect(api.get("/audit/verify", user), 403)


def test_audit_needs_a_login(api):
    expect(api.get("/audit"), 401)
    expect(api.get("/audit/verify"), 401)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DOCTOR])
def test_audit_log_lists_newest_first_with_actor_and_action(api, factory, role):
    reader, nurse = factory.user(role), factory.nurse
    patient = expect(api.post("/patients", nurse, json={"cpr": "150385-4013", "name": "Lise Lotte"}), 201)
    expect(api.get(f"/patients/{patient['id']}", nurse), 200)

    entries = api.audit(reader)
    assert len(entries) >= 3
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    # the two things the nurse just did are on top, newest first
    assert [(e["action"], e["actor"], e["patient_id"]) for e in entries[:2]] == [
        ("patient.read", nurse.username, patient["id"]),
        ("patient.create", nurse.username, patient["id"]),
    ]
    for e in entries:
        assert e["actor"] and e["action"]
        assert datetime.fromisoformat(e["at"]).utcoffset() is not None


def test_audit_can_be_filtered_by_patient_and_paged(api, factory):
    a, b = factory.patient(), factory.patient()
    expect(api.get(f"/patients/{a.id}", factory.nurse), 200)
    expect(api.get(f"/patients/{b.id}", factory.nurse), 200)
    only_a = api.audit(patient_id=a.id)
    assert only_a and {e["patient_id"] for e in only_a} == {a.id}

    first = api.audit(limit=2)
    assert len(first) == 2
    older = api.audit(limit=2, before_seq=first[-1]["seq"])
    assert all(e["seq"] < first[-1]["seq"] for e in older)


def test_verify_reports_an_intact_chain_and_counts_every_entry(api, factory):
    doctor = factory.doctor
    body = expect(api.get("/audit/verify", doctor), 200)
    assert body["ok"] is True
    assert isinstance(body["entries"], int) and body["entries"] > 0

    factory.patient()  # one more write
    after = expect(api.get("/audit/verify", factory.admin), 200)
    assert after["ok"] is True
    assert after["entries"] > body["entries"]


def test_database_refuses_to_update_or_delete_audit_entries(api, factory, session):
    factory.patient()  # makes sure there are entries to touch
    assert session.execute(text("SELECT count(*) FROM audit_log")).scalar_one() > 0

    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE audit_log SET actor = 'someone-else'"))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_log"))

    assert "someone-else" not in [e["actor"] for e in api.audit()]
    assert expect(api.get("/audit/verify", factory.doctor), 200)["ok"] is True


def test_verify_detects_an_entry_edited_behind_the_triggers_back(api, factory, session):
    """Even someone able to switch the trigger off cannot change the log unnoticed."""
    factory.patient()
    target = session.execute(text("SELECT seq FROM audit_log ORDER BY seq LIMIT 1")).scalar_one()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
    else:
        session.execute(text("DROP TRIGGER audit_log_no_update"))
    session.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = :s"), {"s": target})
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))

    body = expect(api.get("/audit/verify", factory.doctor), 200)
    assert body["ok"] is False
    assert body["first_bad_seq"] == target


def test_entries_join_the_chain_when_the_use_case_commits_and_go_with_a_rollback(factory, session):
    # The chain's head is locked only at the commit, so a nurse's dispense never waits for another
    # request to finish its page; the entries themselves are the same.
    ctx = factory.ctx(factory.nurse)
    head = lambda: session.execute(select(AuditHead.entries)).scalar_one()  # noqa: E731
    before = head()
    register_patient(ctx, cpr=factory.cpr(), name="Rullet Tilbage")
    assert head() == before  # noted, not yet chained
    session.rollback()
    assert head() == before  # the refused or failed use case leaves no entry
    patient = register_patient(ctx, cpr=factory.cpr(), name="Anne Ågård")
    read_patient(ctx, patient.id)
    session.commit()
    assert head() == before + 2
    assert verify_chain(ctx).ok
    newest = session.execute(text("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 2")).scalars()
    assert list(newest) == ["patient.read", "patient.create"]


@pytest.mark.parametrize("entries", [1, 3, 6000])
def test_one_commit_chains_any_number_of_entries(factory, session, entries):
    # PostgreSQL writes a few entries and the head in one statement; thousands (a big batch) as many rows.
    ctx = factory.ctx(factory.nurse)
    head = lambda: session.execute(select(AuditHead.entries)).scalar_one()  # noqa: E731
    before = head()
    for n in range(entries):
        audit.record(ctx, "test.entry", "test", n)
    session.commit()
    assert head() == before + entries
    assert verify_chain(ctx).ok
    newest = session.execute(text("SELECT action, entity_id FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
    assert tuple(newest) == ("test.entry", entries - 1)  # in the order they were recorded
