"""The append-only, hash-chained audit log and its head."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base
from dispensing.types import UTCDateTime


class AuditEntry(Base):
    """Append-only, hash-chained: hash = HMAC-SHA256(key, prev_hash + canonical entry)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives users
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # How `hash` was made: "hmac-sha256" (keyed, the key outside the database) or "sha256" (entries
    # written before keyed hashing; only a prefix of the chain may be such).
    alg: Mapped[str] = mapped_column(String(16), server_default="sha256")


class AuditHead(Base):
    """The chain's tip (one row). Appenders lock it, so concurrent writers never fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    # seq of the first keyed entry (a hint; the signed checkpoint outside the database is what counts)
    keyed_from: Mapped[int | None] = mapped_column(Integer)


class AuditInboxEntry(Base):
    """A failed password attempt's audit entry, not yet chained (services/audit.py, "The inbox").

    Written without the chain head's lock; a sweeper moves rows into audit_log in batches and deletes
    them. `mac` (HMAC-SHA256 under the audit key) covers every other field but the id, so a row edited
    while it waits is chained marked as forged. Rows are never updated (a trigger refuses it).
    """

    __tablename__ = "audit_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    mac: Mapped[str] = mapped_column(String(64))
