"""The append-only, hash-chained audit log of every write and every read of a patient record.

Hashes are keyed and the head is checkpointed outside the database (services/audit_seal.py).

The inbox. Chaining an entry locks the chain's head, the lock every dispense takes at its commit.
A failed password attempt (login, re-entry to sign, a witness) is what an attacker can make as often
as the throttle allows, so it must not queue on that lock: `record_failure` writes the entry to
`audit_inbox` (insert only, sealed with an HMAC under the audit key) and the refusal commits without
touching the head. `sweep_inbox` chains inbox rows into the log in batches, one head lock per batch;
on PostgreSQL a sweeper takes its rows with SKIP LOCKED under an advisory lock, and a sweeper that
must not wait (`wait=False`) gives up when another holds it, so sweepers never queue on each other.
SQLite serialises writers anyway. A row whose HMAC no longer matches is chained all the same, marked
`"inbox_forged": true`, and `verify` then reports `audit.inbox_forged`. An entry's `seq` is when it
was chained, its `at` when it happened.

When the sweep runs, and why there: never on the dispensing path.
- Before `list_entries` and `verify_chain` (`/audit`, `/audit/verify`, `dispensing audit verify`),
  waiting for another sweeper: a reader always sees every failure, and tests are deterministic.
- Every minute on a timer thread of each server process (`InboxSweeper`, api/main.py), without
  waiting: the inbox never grows unbounded when nobody reads the log.
- At a successful login (`chain_inbox_at_commit`), without waiting: the login chains its own entry
  and so takes the head lock anyway; the waiting failures (often the same user's typos) join that
  commit at no extra lock.
Limit: an inbox row deleted before it is chained leaves no trace; the minute-long sweep keeps the
window short.
"""

import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from dispensing.db import transaction
from dispensing.models import AuditEntry, AuditHead, AuditInboxEntry
from dispensing.security import canonical_json
from dispensing.services import audit_seal
from dispensing.services.audit_seal import KEYED, UNKEYED, Checkpoint, CheckpointForged, Seal
from dispensing.services.context import Ctx
from dispensing.services.sql import is_postgresql

GENESIS_HASH = "0" * 64


def entry_hash(prev_hash: str, fields: dict[str, Any], seal: Seal | None = None) -> str:
    """HMAC-SHA256 (the key outside the database) over the previous hash and the entry's canonical JSON."""
    return (seal or audit_seal.current()).entry_hash(prev_hash, canonical_json(fields))


HASHED = ("seq", "at", "actor_id", "actor", "action", "entity", "entity_id", "patient_id", "detail")


# Tables as Core tables (the chaining below is plain Core, off the ORM's unit of work).
_LOG = AuditEntry.metadata.tables["audit_log"]
_HEAD = AuditHead.metadata.tables["audit_head"]
_INBOX = AuditInboxEntry.metadata.tables["audit_inbox"]
# An inbox row's fields (every column but id and mac), all covered by its mac.
INBOX_FIELDS = ("at", "actor_id", "actor", "action", "entity", "entity_id", "patient_id", "detail")


def _hashed_fields(values: dict[str, Any]) -> dict[str, Any]:
    """What an entry's hash covers, from its column values (a stored entry's or one being chained)."""
    return {k: values[k] for k in HASHED} | {"at": values["at"].isoformat()}


def _entry(
    ctx: Ctx,
    action: str,
    entity: str,
    entity_id: int | None,
    patient_id: int | None,
    detail: dict[str, Any] | None,
    actor_name: str | None,
) -> dict[str, Any]:
    return {
        "at": ctx.now,
        "actor_id": ctx.actor.id if ctx.actor else None,
        "actor": actor_name or (ctx.actor.username if ctx.actor else "system"),
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "patient_id": patient_id,
        # Stored exactly as hashed: JSON round trip turns Decimals and dates into strings.
        "detail": json.loads(canonical_json(detail or {})),
    }


def record(
    ctx: Ctx,
    action: str,
    entity: str,
    entity_id: int | None = None,
    *,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> None:
    """Log one entry of this use case; it joins the chain when the transaction commits.

    Never put a CPR number or a secret in `detail`.
    """
    session = ctx.session
    session.flush()  # ids of what the use case created must exist before we log them
    entry = _entry(ctx, action, entity, entity_id, patient_id, detail, actor_name)
    session.info.setdefault(_PENDING, []).append(entry)


def record_failure(
    ctx: Ctx,
    action: str,
    entity: str,
    entity_id: int | None = None,
    *,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> None:
    """Log a failed password attempt through the inbox: written now, chained by the next sweep.

    Call it just before raising the refusal (with keep_changes=True). Entries the use case noted
    before it go to the inbox too, so the refused request's commit never locks the chain's head.
    """
    session = ctx.session
    entries = session.info.pop(_PENDING, []) + [_entry(ctx, action, entity, entity_id, patient_id, detail, actor_name)]
    seal = audit_seal.current()
    rows = [fields | {"mac": seal.inbox_mac(_inbox_canonical(fields))} for fields in entries]
    session.execute(insert(_INBOX), rows)


def _inbox_canonical(fields: dict[str, Any]) -> bytes:
    return canonical_json({k: fields[k] for k in INBOX_FIELDS} | {"at": fields["at"].isoformat()})


# Chaining an entry locks the chain's head, and every other writer waits for that lock until the
# commit. Taken while the use case ran, the lock was held across the hand-back to the web
# framework and its commit on another thread, a queue behind every dispense under 20 nurses
# (BENCHMARKS.md, "Measured reasons in the code"). Taken here, just before COMMIT on the same
# thread, it is held for a few statements.
_PENDING = "audit_pending"
_CHECKPOINT = "audit_checkpoint"
log = logging.getLogger("dispensing.audit")
# A request logs one to a few entries. The one-statement form binds every value of every row (~6,000
# rows would pass libpq's 65,535 parameters) and is compiled once per row count: keep it for few rows.
_ONE_STATEMENT_MAX = 20


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # the last of the use case's own rows first: the head is the last lock taken
    _chain(session, pending)


def _chain(session: Session, pending: list[dict[str, Any]]) -> None:
    """Append `pending` to the chain: lock the head, insert the entries, move the head."""
    conn = session.connection()  # plain Core: nothing here needs the ORM's unit of work
    seal = audit_seal.current()
    entries, prev_hash, keyed_from = conn.execute(
        select(_HEAD.c.entries, _HEAD.c.last_hash, _HEAD.c.keyed_from).where(_HEAD.c.id == 1).with_for_update()
    ).one()
    rows: list[dict[str, Any]] = []
    for seq, fields in enumerate(pending, start=entries + 1):
        digest = entry_hash(prev_hash, _hashed_fields(fields | {"seq": seq}), seal)
        rows.append(fields | {"seq": seq, "prev_hash": prev_hash, "hash": digest, "alg": KEYED})
        prev_hash = digest
    keyed_from = keyed_from or rows[0]["seq"]
    move_head = (
        update(_HEAD).where(_HEAD.c.id == 1).values(entries=rows[-1]["seq"], last_hash=prev_hash, keyed_from=keyed_from)
    )
    if seal.checkpoint_path is not None:  # written once the commit succeeded (after_commit below)
        session.info[_CHECKPOINT] = (seal, rows[-1]["seq"], prev_hash, keyed_from)
    if is_postgresql(session) and len(rows) <= _ONE_STATEMENT_MAX:
        # Both writes in one round trip (WITH ... INSERT): under load each trip waits for the server's turn.
        conn.execute(move_head.add_cte(insert(_LOG).values(rows).cte("chained")))
    else:  # SQLite has no INSERT in WITH (and no round trips to save); many entries go as executemany
        conn.execute(insert(_LOG), rows)
        conn.execute(move_head)


@event.listens_for(Session, "after_commit")
def _checkpoint(session: Session) -> None:
    moved = session.info.pop(_CHECKPOINT, None)
    if moved is None:
        return
    audit_seal.submit_checkpoint(*moved)  # written by a background thread, off the request's path


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:  # the use cases never use savepoints; the entries go with their transaction
        session.info.pop(_PENDING, None)
        session.info.pop(_CHECKPOINT, None)


# --- the inbox's sweep (see the module's docstring) ----------------------------------------------------

INBOX_BATCH = 500  # rows chained under one head lock
_SWEEP_LOCK = 0x61756469745F73  # PostgreSQL advisory lock key of "the inbox's sweeper" ("audit_s")


def take_inbox(session: Session, *, wait: bool, limit: int = INBOX_BATCH) -> list[dict[str, Any]]:
    """Remove up to `limit` of the oldest inbox rows and return them as entries to chain, a row whose
    seal does not match marked `inbox_forged`. [] when there are none, or (PostgreSQL, `wait=False`)
    when another transaction is sweeping."""
    oldest = select(_INBOX.c.id).order_by(_INBOX.c.id).limit(limit)
    if is_postgresql(session):
        if not wait and not session.execute(select(func.pg_try_advisory_xact_lock(_SWEEP_LOCK))).scalar_one():
            return []
        if wait:
            session.execute(select(func.pg_advisory_xact_lock(_SWEEP_LOCK)))
        oldest = oldest.with_for_update(skip_locked=True)  # rows of an uncommitted failure stay for later
    taken = session.execute(delete(_INBOX).where(_INBOX.c.id.in_(oldest)).returning(*_INBOX.c)).mappings().all()
    seal = audit_seal.current()
    entries = []
    for row in sorted(taken, key=lambda r: int(r["id"])):
        fields = {k: row[k] for k in INBOX_FIELDS}
        if not hmac.compare_digest(seal.inbox_mac(_inbox_canonical(fields)), str(row["mac"])):
            log.error("audit inbox row %s does not match its seal: chained marked inbox_forged", row["id"])
            detail = fields["detail"] if isinstance(fields["detail"], dict) else {"stored": fields["detail"]}
            fields["detail"] = detail | {"inbox_forged": True}
        entries.append(fields)
    return entries


def sweep_inbox(session: Session, *, wait: bool = True) -> int:
    """Chain every waiting inbox entry now, a batch per head lock (held until the caller commits);
    returns how many. With `wait=False` it gives up at once while another sweeper runs."""
    swept = 0
    while True:
        entries = take_inbox(session, wait=wait)
        if entries:
            _chain(session, entries)
            swept += len(entries)
        if len(entries) < INBOX_BATCH:
            return swept


def chain_inbox_at_commit(ctx: Ctx) -> None:
    """Let the waiting inbox entries (one batch) join this use case's entries when it commits, if no
    other sweeper is at work: for a use case that chains an entry anyway (a successful login)."""
    taken = take_inbox(ctx.session, wait=False)
    if taken:
        pending = ctx.session.info.setdefault(_PENDING, [])
        pending[:0] = taken  # they happened before this use case's own entries


class InboxSweeper:
    """Sweeps the inbox every `seconds` on a daemon thread of this server process, in its own
    transactions, never waiting for another process's sweeper."""

    def __init__(self, factory: Callable[[], sessionmaker[Session]], seconds: float) -> None:
        self._factory, self._seconds = factory, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-inbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                with transaction(self._factory()) as session:
                    sweep_inbox(session, wait=False)
            except Exception as exc:  # the next tick tries again; the rows stay in the inbox meanwhile
                log.error("audit inbox not swept (%s); trying again in %s s", type(exc).__name__, self._seconds)


def record_list(ctx: Ctx, action: str, patient_ids: Iterable[int]) -> None:
    """A list showing patients' data was read: one entry naming whom it showed."""
    record(ctx, action, "patient", detail={"patient_ids": sorted(set(patient_ids))})


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    # why not ok, as a code: audit.entry_altered, audit.unkeyed_after_keyed, audit.head_mismatch,
    # audit.entries_missing, audit.checkpoint_missing, audit.checkpoint_forged, audit.inbox_forged
    problem: str | None = None
    checkpointed_seq: int | None = None


def verify_entries(
    entries: Sequence[AuditEntry] | Any,
    head_hash: str | None = None,
    *,
    seal: Seal | None = None,
    checkpoint: Checkpoint | None = None,
    checkpoint_expected: bool = False,
) -> ChainCheck:
    """Recompute the chain in seq order; any edited, removed or reordered entry breaks it, and so does
    a chain that ends before the signed checkpoint (deleted tail) or disagrees with it. An intact chain
    holding an entry edited while it waited in the inbox is reported as such (audit.inbox_forged)."""
    seal = seal or audit_seal.current()
    prev = GENESIS_HASH
    count = 0
    first_keyed = None
    forged: int | None = None
    for count, e in enumerate(entries, start=1):
        if forged is None and isinstance(e.detail, dict) and e.detail.get("inbox_forged") is True:
            forged = e.seq
        canonical = canonical_json(_hashed_fields({k: getattr(e, k) for k in HASHED}))
        if e.alg == KEYED:
            first_keyed = first_keyed or e.seq
            expected = seal.entry_hash(prev, canonical)
        elif e.alg == UNKEYED and first_keyed is None:
            expected = audit_seal.unkeyed_hash(prev, canonical)
        else:
            return ChainCheck(False, count, e.seq, "audit.unkeyed_after_keyed")
        if e.seq != count or e.prev_hash != prev or expected != e.hash:
            return ChainCheck(False, count, e.seq, "audit.entry_altered")
        if checkpoint is not None and e.seq == checkpoint.seq and e.hash != checkpoint.hash:
            return ChainCheck(False, count, e.seq, "audit.entry_altered")
        prev = e.hash
    if head_hash is not None and head_hash != prev:
        return ChainCheck(False, count, None, "audit.head_mismatch")
    if checkpoint is not None:
        if checkpoint.seq > count:
            return ChainCheck(False, count, count + 1, "audit.entries_missing", checkpoint.seq)
        if checkpoint.keyed_from != first_keyed:
            return ChainCheck(False, count, checkpoint.keyed_from, "audit.unkeyed_after_keyed", checkpoint.seq)
    elif checkpoint_expected and first_keyed is not None:
        return ChainCheck(False, count, None, "audit.checkpoint_missing")
    checkpointed = checkpoint.seq if checkpoint is not None else None
    if forged is not None:
        return ChainCheck(False, count, forged, "audit.inbox_forged", checkpointed)
    return ChainCheck(True, count, checkpointed_seq=checkpointed)


def verify_chain(ctx: Ctx) -> ChainCheck:
    """Check the whole stored log against its head and the signed checkpoint outside the database
    (after chaining the inbox, so its entries are checked too)."""
    sweep_inbox(ctx.session)
    seal = audit_seal.current()
    audit_seal.flush_checkpoints()  # this process's newest commits first
    try:
        checkpoint = audit_seal.read_checkpoint(seal)
    except CheckpointForged:
        return ChainCheck(False, 0, None, "audit.checkpoint_forged")
    head_hash = ctx.session.execute(select(AuditHead.last_hash).where(AuditHead.id == 1)).scalar_one()
    rows = ctx.session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()
    return verify_entries(
        rows, head_hash, seal=seal, checkpoint=checkpoint, checkpoint_expected=seal.checkpoint_path is not None
    )


def list_entries(ctx: Ctx, *, patient_id: int | None, limit: int, before_seq: int | None) -> list[AuditEntry]:
    """Newest first, optionally for one patient; page with `before_seq`. The inbox is chained first."""
    sweep_inbox(ctx.session)
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if patient_id is not None:
        stmt = stmt.where(AuditEntry.patient_id == patient_id)
    if before_seq is not None:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    return list(ctx.session.execute(stmt).scalars())
