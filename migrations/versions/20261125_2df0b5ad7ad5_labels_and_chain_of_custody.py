"""labels and chain of custody

Revision ID: 2df0b5ad7ad5
Revises: c095b290b5b9
Create Date: 2026-11-25 16:04:03.920299
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import dispensing.types

revision: str = '2df0b5ad7ad5'
down_revision: str | None = 'c095b290b5b9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


USER_COLUMNS = ("handed_out_by_id", "returned_by_id", "voided_by_id")
TIME_COLUMNS = ("handed_out_at", "returned_at", "voided_at")


def upgrade() -> None:
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        for name in USER_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in TIME_COLUMNS:
            batch_op.add_column(sa.Column(name, dispensing.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("return_reason", sa.Text(), nullable=True))
        batch_op.create_index("ix_dispenses_site_first_day", ["site_id", "first_day"], unique=False)
        for name in USER_COLUMNS:
            batch_op.create_foreign_key(batch_op.f(f"fk_dispenses_{name}_users"), "users", [name], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        for name in USER_COLUMNS:
            batch_op.drop_constraint(batch_op.f(f"fk_dispenses_{name}_users"), type_="foreignkey")
        batch_op.drop_index("ix_dispenses_site_first_day")
        for name in ("return_reason", *TIME_COLUMNS, *USER_COLUMNS):
            batch_op.drop_column(name)
