"""indexes on the last day a row can be in force

The roster asks for the orders in force at its site on a day, and for the police-pickup
sanctions that send patients there. Through the site index both read every order version and
sanction ever written for the site, a cost that grows with the years of history. An index on
(site, status, first of end / discontinued / superseded that is set, else 9999-12-31) reads only
those that may still be in force (dispensing.models.core.open_end). The same for orders by
patient. They replace ix_prescriptions_patient_status and the plain site and patient indexes
(their prefixes); the status stays in, as without it SQLite preferred the status index (every
signed order there is).

Revision ID: p3rf00000002
Revises: p3rf00000001
Create Date: 2026-12-04 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'p3rf00000002'
down_revision: str | None = 'p3rf00000001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_OPEN_END = sa.text("coalesce(end_date, discontinued_on, superseded_on, '9999-12-31')")
SANCTION_OPEN_END = sa.text("coalesce(ends_on, '9999-12-31')")


def upgrade() -> None:
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_prescriptions_patient_status")
        batch_op.drop_index(batch_op.f("ix_prescriptions_patient_id"))  # prefixes of the new ones
        batch_op.drop_index(batch_op.f("ix_prescriptions_site_id"))
    op.create_index("ix_prescriptions_site_open_end", "prescriptions", ["site_id", "status", ORDER_OPEN_END])
    op.create_index("ix_prescriptions_patient_open_end", "prescriptions", ["patient_id", "status", ORDER_OPEN_END])
    with op.batch_alter_table("sanctions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanctions_site_id"))
    op.create_index("ix_sanctions_site_open_end", "sanctions", ["site_id", SANCTION_OPEN_END])


def downgrade() -> None:
    op.drop_index("ix_sanctions_site_open_end", table_name="sanctions")
    with op.batch_alter_table("sanctions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sanctions_site_id"), ["site_id"], unique=False)
    op.drop_index("ix_prescriptions_patient_open_end", table_name="prescriptions")
    op.drop_index("ix_prescriptions_site_open_end", table_name="prescriptions")
    with op.batch_alter_table("prescriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prescriptions_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prescriptions_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_prescriptions_patient_status", ["patient_id", "status"], unique=False)
