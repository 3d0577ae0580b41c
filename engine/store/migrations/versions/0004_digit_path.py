"""call_records.digit holds the IVR menu path (every digit chosen), not one digit: widen it

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a column's type in place, so Alembic copies the table
    with op.batch_alter_table("call_records") as batch:
        batch.alter_column("digit", existing_type=sa.String(8), type_=sa.String(64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.alter_column("digit", existing_type=sa.String(64), type_=sa.String(8), existing_nullable=False)
