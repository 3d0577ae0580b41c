"""campaign definition versions: every distinct definition a campaign ran with, append-only

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(80), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),  # SHA-256 of the canonical JSON definition
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.UniqueConstraint("campaign", "hash", name="uq_campaign_versions_campaign_hash"),
    )


def downgrade() -> None:
    op.drop_table("campaign_versions")
