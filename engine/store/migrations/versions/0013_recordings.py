"""recordings: the index of every stored recording (call recordings inbound and outbound, the menu's messages)

A projection of the ledger, like call_records: a row is written from a call's ``recording.saved`` (or
``ivr.message``) fact and the call's other facts, and marked when ``recording.purged`` says its file was
removed by a retention rule. ``hotline recordings verify`` compares it with the disk.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(128), primary_key=True),  # the call id; a message's case name
        sa.Column("call_id", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),  # inbound, outbound, complaint, voicemail
        sa.Column("direction", sa.String(8), nullable=False),  # inbound, outbound
        sa.Column("service", sa.String(64), nullable=False, server_default=""),
        sa.Column("campaign", sa.String(64), nullable=False, server_default=""),
        sa.Column("agent", sa.String(64), nullable=False, server_default=""),
        sa.Column("team", sa.String(64), nullable=False, server_default=""),
        sa.Column("started_at", sa.Float, nullable=False, index=True),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("channels", sa.Integer, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),  # opus (Ogg), wav
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("purged_at", sa.Float, nullable=True),
        sa.Column("purge_rule", sa.String(128), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("recordings")
