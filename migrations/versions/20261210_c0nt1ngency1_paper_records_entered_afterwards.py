"""dispenses: when and by whom a record was entered (paper records entered afterwards)

`dispensed_at` keeps meaning when the dose was handed out; a dose given from the contingency
sheet while the system was down is entered later with the time on the sheet. `recorded_at`
and `recorded_by_id` say when and by whom it was entered; existing rows were entered at the
window, so both equal the handout.

Revision ID: c0nt1ngency1
Revises: h4rden000001
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dispensing.types

revision: str = "c0nt1ngency1"
down_revision: str | None = "h4rden000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", dispensing.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
    op.execute("UPDATE dispenses SET recorded_at = dispensed_at, recorded_by_id = dispensed_by_id")
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        batch_op.alter_column("recorded_at", existing_type=dispensing.types.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column("recorded_by_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_dispenses_recorded_by_id_users"), "users", ["recorded_by_id"], ["id"]
        )
        batch_op.create_index("ix_dispenses_recorded_at", ["recorded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        batch_op.drop_index("ix_dispenses_recorded_at")
        batch_op.drop_constraint(batch_op.f("fk_dispenses_recorded_by_id_users"), type_="foreignkey")
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("recorded_at")
