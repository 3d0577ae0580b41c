"""queue_log table in Asterisk's column layout

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Integer, nullable=False),
        sa.Column("callid", sa.String(160), nullable=False),
        sa.Column("queuename", sa.String(80), nullable=False),
        sa.Column("agent", sa.String(80), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        *[sa.Column(f"data{i}", sa.String(200), nullable=False, server_default="") for i in range(1, 6)],
    )
    op.create_index("ix_queue_log_callid", "queue_log", ["callid"])


def downgrade() -> None:
    op.drop_index("ix_queue_log_callid", "queue_log")
    op.drop_table("queue_log")
