"""split doses: an order's timed parts, and a slot per part

Rule 18: the day's dose split in parts (prescriptions.dose_parts, NULL = one dose); each part is its
own slot, so the slot's uniqueness becomes (patient, drug, day, part), part 0 for an undivided dose.
The unique index keeps (patient, drug, day) as its prefix: the missed-day reads still use it.

Revision ID: calendar00002
Revises: calendar00001
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "calendar00002"
down_revision: str | None = "calendar00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("prescriptions", sa.Column("dose_parts", sa.Text(), nullable=True))
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("part", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("uq_slots_patient_drug_day", type_="unique")
        batch.create_unique_constraint("uq_slots_patient_drug_day_part", ["patient_id", "drug", "slot_date", "part"])


def downgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.drop_constraint("uq_slots_patient_drug_day_part", type_="unique")
        batch.create_unique_constraint("uq_slots_patient_drug_day", ["patient_id", "drug", "slot_date"])
        batch.drop_column("part")
    op.drop_column("prescriptions", "dose_parts")
