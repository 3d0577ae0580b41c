"""users of the web console: one row per person who signs in, with a role and an Argon2 password hash

The row holds the current state only; every change to it (added, password set, disabled) is also a ledger
fact naming who made it, so the ledger stays the history. No user is created here: the first admin is made
with `hotline users add`.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),  # agent, teamlead, qa, manager, admin
        sa.Column("agent", sa.String(64), nullable=False, server_default=""),  # the site's agent id (role agent)
        sa.Column("team", sa.String(64), nullable=False, server_default=""),  # the agent group a team lead leads
        sa.Column("phone", sa.String(80), nullable=False, server_default=""),  # PJSIP endpoint to listen on
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),  # sessions signed in before it no longer work
    )


def downgrade() -> None:
    op.drop_table("users")
