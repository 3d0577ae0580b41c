"""customers: one record per person, its numbers, its free notes, and the messages and dials found under them

A customer is known by one or more numbers in E.164 (``customer_numbers``: a number is one customer's); merging
two records moves the numbers to the one kept and marks the other ``merged_into`` it (``customer_merges`` keeps
who did it and why, purged with the record; the ``customer.merged`` fact says who and which, for ever).
``check_at``: when the retention pass looks at the record next. ``customer_contacts`` is a projection of the
ledger's facts that carry a customer's number but no call record does: SMS sent and received, faxes, outbound
dials (a dial's fact names its lead, the projection keeps the lead's number), read from the ledger id in
``customer_marks`` on (kept there, not taken from the rows: a purge deletes rows, and what was purged must not be
projected again). A customer's calls and cases are read where they are, by number.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("check_at", sa.Float, nullable=True, index=True),
        sa.Column("merged_into", sa.Integer, nullable=True, index=True),
        sa.Column("purged_at", sa.Float, nullable=True),
    )
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kept", sa.Integer, nullable=False, index=True),
        sa.Column("merged", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "customer_numbers",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("customer", sa.Integer, nullable=False, index=True),
        sa.Column("added_at", sa.Float, nullable=False),
    )
    op.create_table(
        "customer_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "customer_contacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ledger_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(320), nullable=False, unique=True),
        sa.Column("number", sa.String(32), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("call_id", sa.String(160), nullable=False, server_default=""),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "customer_marks",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("ledger_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("customer_marks", "customer_contacts", "customer_merges", "customer_notes", "customer_numbers",
                 "customers"):
        op.drop_table(name)
