"""customer look-ups: the columns a customer's number is matched on, indexed

The agent's screen pop reads one customer's leads, call records and cases by phone number while the agent's phone
rings; without these a year of call records is scanned for every call offered.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_call_records_caller", "call_records", ["caller"])
    op.create_index("ix_leads_phone", "leads", ["phone"])
    op.create_index("ix_cases_number", "cases", ["number"])


def downgrade() -> None:
    op.drop_index("ix_cases_number", "cases")
    op.drop_index("ix_leads_phone", "leads")
    op.drop_index("ix_call_records_caller", "call_records")
