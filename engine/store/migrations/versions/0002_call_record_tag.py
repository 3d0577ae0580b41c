"""call_records.tag: a correlation tag from the caller's INVITE (X-Hotline-Corr)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("tag", sa.String(120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.drop_column("tag")
