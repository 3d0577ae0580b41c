"""call_records.closed and closed_reason: how a call's end is known (seen live, rebuilt from Asterisk's
own records, or approximate and why); an index on ledger (kind, at) for the open-call look-up at every resync

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("closed", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("closed_reason", sa.String(200), nullable=False, server_default=""))
    op.create_index("ix_ledger_kind_at", "ledger", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_kind_at", "ledger")
    with op.batch_alter_table("call_records") as batch:
        batch.drop_column("closed_reason")
        batch.drop_column("closed")
