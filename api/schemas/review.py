"""The doctor's review: alerts and the audit log."""

from datetime import datetime
from typing import Any

from api.schemas.common import Model, Strict
from dispensing.enums import Drug


class AlertRead(Model):
    id: int
    patient_id: int | None  # None: a site alert (controlled-drug stock)
    site_id: int | None = None
    code: str | None = None
    kind: str
    drug: Drug | None
    slot_id: int | None
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class ResolveRequest(Strict):
    resolution: str


class AuditRead(Model):
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    detail: dict[str, Any]
    hash: str


class AuditVerifyRead(Model):
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    # why not ok (a code): audit.entry_altered, audit.unkeyed_after_keyed, audit.head_mismatch,
    # audit.entries_missing, audit.checkpoint_missing, audit.checkpoint_forged
    problem: str | None = None
    checkpointed_seq: int | None = None  # the newest entry the signed checkpoint outside the database names
