"""audit_inbox: failed password attempts are audited without waiting for the chain's head

A failed login, re-entered password or witness writes one row here instead of chaining into
audit_log (which locks audit_head, the lock every dispense takes). A sweeper chains the rows in
batches and deletes them (dispensing/services/audit.py). Each row carries an HMAC under the audit
key; the database refuses updates of a row (deletes are the sweeper's).

Revision ID: 1nb0x0000001
Revises: c0nt1ngency1
Create Date: 2026-12-11 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispensing.types import UTCDateTime

revision: str = "1nb0x0000001"
down_revision: str | None = "c0nt1ngency1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_UPDATE = {
    "sqlite": [
        "CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox "
        "BEGIN SELECT RAISE(ABORT, 'audit_inbox is insert-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_inbox_insert_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_inbox is insert-only'; END $$",
        "CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox "
        "FOR EACH ROW EXECUTE FUNCTION audit_inbox_insert_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "audit_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_inbox")),
    )
    for statement in NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_inbox")  # its trigger goes with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_inbox_insert_only()")
