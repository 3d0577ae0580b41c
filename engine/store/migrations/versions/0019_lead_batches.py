"""lead_batches: each imported lead file, its source, cost and team, and what its quality came to

Every ``hotline leads import`` is a batch: its counts at import (rows, valid numbers, duplicates, already in the
campaign), and ``leads.batch`` names the batch a lead came in. Destroying a batch's personal data keeps its
quality figures here (``figures``) and its counts in lead_aggregates.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(80), nullable=False),
        sa.Column("source", sa.String(120), nullable=False, server_default=""),
        sa.Column("cost", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("file", sa.String(255), nullable=False, server_default=""),
        sa.Column("imported_at", sa.Float, nullable=False),
        sa.Column("file_rows", sa.Integer, nullable=False),
        sa.Column("valid", sa.Integer, nullable=False),
        sa.Column("repeated", sa.Integer, nullable=False),
        sa.Column("already", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("destroyed_at", sa.Float, nullable=True),
        sa.Column("figures", sa.JSON, nullable=True),
    )
    op.add_column("leads", sa.Column("batch", sa.Integer, nullable=True))
    op.create_index("ix_leads_batch", "leads", ["batch"])


def downgrade() -> None:
    op.drop_index("ix_leads_batch", "leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("batch")
    op.drop_table("lead_batches")
