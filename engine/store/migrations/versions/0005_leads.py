"""leads of outbound campaigns, do-not-call lists, and what purged leads add up to

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(80), nullable=False),
        sa.Column("phone", sa.String(32)),  # NULL once purged
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("team", sa.String(64)),
        sa.Column("tz", sa.String(64), nullable=False, server_default=""),
        sa.Column("extra", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_outcome", sa.String(32)),
        sa.Column("last_attempt_at", sa.Float),
        sa.Column("next_attempt_at", sa.Float),
        sa.Column("imported_at", sa.Float, nullable=False),
        sa.UniqueConstraint("campaign", "phone", name="uq_leads_campaign_phone"),
    )
    op.create_index("ix_leads_campaign_status", "leads", ["campaign", "status"])
    op.create_table(
        "dnc",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(80), nullable=False, server_default=""),  # "" = the global list
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.UniqueConstraint("campaign", "phone", name="uq_dnc_campaign_phone"),
    )
    op.create_table(
        "lead_aggregates",
        sa.Column("campaign", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("purged_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lead_aggregates")
    op.drop_table("dnc")
    op.drop_index("ix_leads_campaign_status", "leads")
    op.drop_table("leads")
