"""The append-only, hash-chained audit log of every write and every read of a patient record.

Hashes are keyed and the head is checkpointed outside the database (services/audit_seal.py)."""

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from dispensing.models import AuditEntry, AuditHead
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


def _hashed_fields(values: dict[str, Any]) -> dict[str, Any]:
    """What an entry's hash covers, from its column values (a stored entry's or one being chained)."""
    return {k: values[k] for k in HASHED} | {"at": values["at"].isoformat()}


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
    session.info.setdefault(_PENDING, []).append(
        {
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
    )


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
    conn = session.connection()  # plain Core: nothing here needs the ORM's unit of work
    seal = audit_seal.current()
    entries, prev_hash, keyed_from = conn.execute(
        select(AuditHead.entries, AuditHead.last_hash, AuditHead.keyed_from).where(AuditHead.id == 1).with_for_update()
    ).one()
    rows = []
    for seq, fields in enumerate(pending, start=entries + 1):
        digest = entry_hash(prev_hash, _hashed_fields(fields | {"seq": seq}), seal)
        rows.append(fields | {"seq": seq, "prev_hash": prev_hash, "hash": digest, "alg": KEYED})
        prev_hash = digest
    keyed_from = keyed_from or rows[0]["seq"]
    move_head = (
        update(AuditHead.__table__)
        .where(AuditHead.id == 1)
        .values(entries=rows[-1]["seq"], last_hash=prev_hash, keyed_from=keyed_from)
    )
    if seal.checkpoint_path is not None:  # written once the commit succeeded (after_commit below)
        session.info[_CHECKPOINT] = (seal, rows[-1]["seq"], prev_hash, keyed_from)
    if is_postgresql(session) and len(rows) <= _ONE_STATEMENT_MAX:
        # Both writes in one round trip (WITH ... INSERT): under load each trip waits for the server's turn.
        conn.execute(move_head.add_cte(insert(AuditEntry.__table__).values(rows).cte("chained")))
    else:  # SQLite has no INSERT in WITH (and no round trips to save); many entries go as executemany
        conn.execute(insert(AuditEntry.__table__), rows)
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


def record_list(ctx: Ctx, action: str, patient_ids: Iterable[int]) -> None:
    """A list showing patients' data was read: one entry naming whom it showed."""
    record(ctx, action, "patient", detail={"patient_ids": sorted(set(patient_ids))})


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    # why not ok, as a code: audit.entry_altered, audit.unkeyed_after_keyed, audit.head_mismatch,
    # audit.entries_missing, audit.checkpoint_missing, audit.checkpoint_forged
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
    a chain that ends before the signed checkpoint (deleted tail) or disagrees with it."""
    seal = seal or audit_seal.current()
    prev = GENESIS_HASH
    count = 0
    first_keyed = None
    for count, e in enumerate(entries, start=1):
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
        return ChainCheck(True, count, checkpointed_seq=checkpoint.seq)
    if checkpoint_expected and first_keyed is not None:
        return ChainCheck(False, count, None, "audit.checkpoint_missing")
    return ChainCheck(True, count)


def verify_chain(ctx: Ctx) -> ChainCheck:
    """Check the whole stored log against its head and the signed checkpoint outside the database."""
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
    """Newest first, optionally for one patient; page with `before_seq`."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if patient_id is not None:
        stmt = stmt.where(AuditEntry.patient_id == patient_id)
    if before_seq is not None:
        stmt = stmt.where(AuditEntry.seq < before_seq)
    return list(ctx.session.execute(stmt).scalars())
