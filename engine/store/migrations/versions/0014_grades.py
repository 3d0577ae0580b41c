"""grades and calibrations: QA's scores of recorded calls; the recordings' talk figures

A grade is never changed: a correction is a new row (the next ``version``, ``supersedes`` the one it corrects,
with its ``reason``), and the database itself refuses an UPDATE or DELETE of a grade (a trigger), whoever asks.
``calibrations`` lists the calls several graders score blind. ``recordings.talk`` holds what the recorder read
off the two sides when it stored the file (talk, talking over, silences), for the daily sample's risks.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

REFUSAL = "grades are immutable: a correction is a new version"


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("talk", sa.JSON, nullable=True))
    op.create_table(
        "grades",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("recording", sa.String(128), nullable=False, index=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False, server_default=""),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("form_hash", sa.String(64), nullable=False),
        sa.Column("grader", sa.String(64), nullable=False),
        sa.Column("grader_role", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("supersedes", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("comments", sa.Text, nullable=False, server_default=""),
        sa.Column("marks", sa.JSON, nullable=False),  # time-coded comments: [{"at": s, "text": ...}]
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("critical_failed", sa.JSON, nullable=False),
        sa.Column("blind", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("recording", "form", "grader", "version", name="uq_grades_version"),
    )
    op.create_table(
        "calibrations",
        sa.Column("recording", sa.String(128), primary_key=True),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION grades_immutable() RETURNS trigger AS $$
                       BEGIN RAISE EXCEPTION '{REFUSAL}'; END; $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER grades_immutable BEFORE UPDATE OR DELETE ON grades "
                   "FOR EACH ROW EXECUTE FUNCTION grades_immutable()")  # fmt: skip
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER grades_no_{what.lower()} BEFORE {what} ON grades "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER grades_immutable ON grades")
        op.execute("DROP FUNCTION grades_immutable()")
    op.drop_table("calibrations")
    op.drop_table("grades")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("talk")
