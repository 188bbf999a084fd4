"""automatic breach notes keep their message as a code and values

The doctor's desk showed the English sentence stored with an automatic breach; with the code and
its values beside it, the screen words it in Danish from the catalogues (alerts got code and params
in st0ck0000001). Older rows keep only their sentence (the columns are nullable).

Revision ID: c0des0000001
Revises: calendar00002
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c0des0000001'
down_revision: str | None = 'calendar00002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('breaches') as batch:
        batch.add_column(sa.Column('note_code', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('note_params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('breaches') as batch:
        batch.drop_column('note_params')
        batch.drop_column('note_code')
