"""call_records.service and wrap_up_time: each call's service (its own service-level target) and the
agent's wrap-up after it, now part of handle time

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("service", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("wrap_up_time", sa.Float, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.drop_column("wrap_up_time")
        batch.drop_column("service")
