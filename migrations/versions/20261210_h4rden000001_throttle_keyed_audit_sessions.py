"""hardening: throttled passwords, keyed audit hashes, ending web sessions on logout

- auth_failures: failed password attempts (keyed hashes of user name and address), read by the
  throttle in every server process.
- audit_log.alg: how each entry's hash was made. Entries written before this revision keep "sha256"
  (unkeyed) and stay verifiable as they are; the server writes "hmac-sha256" from now on, chained
  onto the last unkeyed entry, so the old prefix is anchored by the first keyed entry. The verifier
  accepts unkeyed entries only before the first keyed one (audit_head.keyed_from, and the signed
  checkpoint file outside the database).
- users.sessions_ended_at: a web UI logout ends the user's browser sessions begun before it.

Revision ID: h4rden000001
Revises: c0des0000001
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispensing.types import UTCDateTime

revision: str = 'h4rden000001'
down_revision: str | None = "c0des0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'auth_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_key', sa.String(length=32), nullable=False),
        sa.Column('address_key', sa.String(length=32), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_failures')),
    )
    with op.batch_alter_table('auth_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_failures_at'), ['at'], unique=False)
        batch_op.create_index('ix_auth_failures_user_key_at', ['user_key', 'at'], unique=False)
        batch_op.create_index('ix_auth_failures_address_key_at', ['address_key', 'at'], unique=False)
    # Plain ADD COLUMN (no table rebuild): audit_log keeps its append-only triggers.
    op.add_column('audit_log', sa.Column('alg', sa.String(length=16), server_default='sha256', nullable=False))
    op.add_column('audit_head', sa.Column('keyed_from', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('sessions_ended_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'sessions_ended_at')
    op.drop_column('audit_head', 'keyed_from')
    op.drop_column('audit_log', 'alg')
    op.drop_index('ix_auth_failures_address_key_at', table_name='auth_failures')
    op.drop_index('ix_auth_failures_user_key_at', table_name='auth_failures')
    op.drop_index(op.f('ix_auth_failures_at'), table_name='auth_failures')
    op.drop_table('auth_failures')
