"""leads.agent: a scheduled call back that belongs to the agent who promised it

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("agent", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:  # SQLite cannot drop a column in place
        batch.drop_column("agent")
