"""closed days of sites, closure moves, dose steps of orders

Rule 17: a site's added closed days and its holiday rule (Danish public holidays by default), and
the doctor's decisions to move a closed day's dose to an open site. Rule 18: an order's signed
dose schedule (dated steps), NULL for none.

Revision ID: calendar00001
Revises: corr00000001
Create Date: 2026-12-04 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "calendar00001"
down_revision: str | None = "corr00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): the prescriptions' expression indexes survive on SQLite.
    op.add_column("sites", sa.Column("danish_public_holidays", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("prescriptions", sa.Column("dose_steps", sa.Text(), nullable=True))
    op.create_table(
        "site_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_site_closures_site_id_sites")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_site_closures_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_closures")),
        sa.UniqueConstraint("site_id", "day", name="uq_site_closures_site_day"),
    )
    op.create_table(
        "closure_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("drug", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("from_site_id", sa.Integer(), nullable=False),
        sa.Column("to_site_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_closure_moves_patient_id_patients")),
        sa.ForeignKeyConstraint(["from_site_id"], ["sites.id"], name=op.f("fk_closure_moves_from_site_id_sites")),
        sa.ForeignKeyConstraint(["to_site_id"], ["sites.id"], name=op.f("fk_closure_moves_to_site_id_sites")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_closure_moves_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure_moves")),
        sa.UniqueConstraint("patient_id", "drug", "day", name="uq_closure_moves_patient_drug_day"),
    )


def downgrade() -> None:
    op.drop_table("closure_moves")
    op.drop_table("site_closures")
    with op.batch_alter_table("prescriptions") as batch:
        batch.drop_column("dose_steps")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("danish_public_holidays")
