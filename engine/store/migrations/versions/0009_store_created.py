"""store.created: the ledger's first fact says when this store began (for a store that already had facts,
the time of its earliest one), so imports from files that outlive a database (Asterisk's CDR) can leave out
what happened before it

Revision ID: 0009
Revises: 0008
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEY = "store:created"


def upgrade() -> None:
    bind = op.get_bind()
    now = time.time()
    first = bind.execute(sa.text("SELECT MIN(at) FROM ledger")).scalar()
    bind.execute(
        sa.text("INSERT INTO ledger (at, kind, call_id, uniqueid, key, data, recorded_at) "
                "VALUES (:at, 'store.created', '', '', :key, '{}', :now)"),
        {"at": float(first) if first is not None else now, "key": KEY, "now": now},
    )  # fmt: skip


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM ledger WHERE key = :key"), {"key": KEY})
