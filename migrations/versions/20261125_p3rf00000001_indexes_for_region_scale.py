"""indexes for region scale

Queries found by bench/run.py whose cost grew with the size of the history:
the roster's slots of its patients on the day (read each patient's every slot), the
orders in force for a set of patients (SQLite read every signed order through the status
index), and the patients a police-pickup sanction sends to a site (the whole sanctions table).

Revision ID: p3rf00000001
Revises: c0nsult00001
Create Date: 2026-11-25 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'p3rf00000001'
down_revision: str | None = 'c0nsult00001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index("ix_prescriptions_patient_status", ["patient_id", "status"], unique=False)
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.create_index("ix_slots_day_patient", ["slot_date", "patient_id"], unique=False)
    with op.batch_alter_table("sanctions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sanctions_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sanctions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanctions_site_id"))
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_index("ix_slots_day_patient")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_prescriptions_patient_status")
