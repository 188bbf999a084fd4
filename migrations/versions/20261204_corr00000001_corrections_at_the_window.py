"""corrections at the window: a dispense in effect per slot, void witness, outside-window reason, sign overrides

A voided or returned dispense is history: the slot may be dispensed or prepared again (DOMAIN.md
rule 13). The plain unique `dispenses.slot_id` becomes a partial unique index over the dispenses in
effect (prepared or dispensed), which both SQLite and PostgreSQL enforce under concurrent requests.

Revision ID: corr00000001
Revises: st0ck0000001
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dispensing.types

revision: str = "corr00000001"
down_revision: str | None = "st0ck0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_EFFECT = sa.text("status IN ('prepared', 'dispensed')")


def upgrade() -> None:
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        batch_op.drop_constraint("uq_dispenses_slot_id", type_="unique")
        batch_op.add_column(sa.Column("void_witness_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outside_window_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key("fk_dispenses_void_witness_id_users", "users", ["void_witness_id"], ["id"])
        batch_op.create_index("ix_dispenses_slot_id", ["slot_id"], unique=False)
    op.create_index(
        "uq_dispenses_slot_in_effect",
        "dispenses",
        ["slot_id"],
        unique=True,
        sqlite_where=IN_EFFECT,
        postgresql_where=IN_EFFECT,
    )
    op.create_table(
        "sign_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prescription_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("no_window", "opioid_overlap", name="signoverridekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", dispensing.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_sign_overrides_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"], ["prescriptions.id"], name=op.f("fk_sign_overrides_prescription_id_prescriptions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_overrides")),
    )
    op.create_index("ix_sign_overrides_prescription_id", "sign_overrides", ["prescription_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sign_overrides_prescription_id", table_name="sign_overrides")
    op.drop_table("sign_overrides")
    op.drop_index("uq_dispenses_slot_in_effect", table_name="dispenses")
    with op.batch_alter_table("dispenses", schema=None) as batch_op:
        batch_op.drop_index("ix_dispenses_slot_id")
        batch_op.drop_constraint("fk_dispenses_void_witness_id_users", type_="foreignkey")
        batch_op.drop_column("outside_window_reason")
        batch_op.drop_column("void_witness_id")
        batch_op.create_unique_constraint("uq_dispenses_slot_id", ["slot_id"])
