"""cases: complaints, follow-ups and low survey scores, a projection of the ledger's case.* facts

Rebuilt from the ledger at will (``cases.model.fold``); a closed case's number and note are emptied when its
personal data is purged, the rest (kind, source, times, status) stays for the reports.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("number", sa.String(64), nullable=False, server_default=""),
        sa.Column("call_id", sa.String(160), nullable=False, server_default=""),
        sa.Column("lead", sa.String(64), nullable=False, server_default=""),
        sa.Column("owner", sa.String(64), nullable=False, server_default=""),
        sa.Column("team", sa.String(64), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("resolution", sa.Text, nullable=False, server_default=""),
        sa.Column("opened_at", sa.Float, nullable=False, index=True),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.Column("closed_at", sa.Float),
        sa.Column("overdue_at", sa.Float),
        sa.Column("purged_at", sa.Float),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_cases_status_due", "cases", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_due", "cases")
    op.drop_table("cases")
