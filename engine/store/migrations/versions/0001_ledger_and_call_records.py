"""ledger (append-only facts) and call_records (derived)

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("call_id", sa.String(160), nullable=False),
        sa.Column("uniqueid", sa.String(160), nullable=False),
        sa.Column("key", sa.String(320), nullable=False, unique=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_index("ix_ledger_call_id", "ledger", ["call_id"])
    op.create_table(
        "call_records",
        sa.Column("call_id", sa.String(160), primary_key=True),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("dialed", sa.String(64), nullable=False),
        sa.Column("arrived_at", sa.Float, nullable=False),
        sa.Column("answered_at", sa.Float),
        sa.Column("queued_at", sa.Float),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("ring_started_at", sa.Float),
        sa.Column("agent_answered_at", sa.Float),
        sa.Column("connected_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("ring_time", sa.Float),
        sa.Column("queue_wait", sa.Float),
        sa.Column("talk_time", sa.Float),
        sa.Column("hold_time", sa.Float, nullable=False),
        sa.Column("handle_time", sa.Float),
        sa.Column("hangup_side", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("digit", sa.String(8), nullable=False),
        sa.Column("recording", sa.Text, nullable=False),
        sa.Column("recording_seconds", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("call_records")
    op.drop_index("ix_ledger_call_id", "ledger")
    op.drop_table("ledger")
