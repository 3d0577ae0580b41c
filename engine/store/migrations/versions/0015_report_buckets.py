"""report_buckets, report_days and report_rollup_state: the reports' rollups

``report_buckets`` holds the 15-minute bucket rows of ``reports/buckets.py`` (key: the interval's start, service,
agent, campaign; then only additive figures: counts, sums, maxima, and count dicts as JSON), derived from the
ledger, the call records and the grades, and rebuilt from them on demand (``hotline report rebuild``).
``report_days`` holds the same rows summed over the site's local days, so a year's report reads days, not
quarter hours. ``report_rollup_state`` says how far they are: the ledger id up to which facts are counted, the
end of the counted time, the time zone the days are cut in. Call records get an index on their arrival and the
ledger one on its facts' time: reports read a time range of them.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COUNTS = ("arrived", "offered", "answered", "abandoned", "short_abandoned", "other", "callbacks", "voicemails",
          "timeouts", "sl_within", "sl_late_abandons", "wait_n", "handled", "ring_known", "ring_within", "overflowed",
          "lent", "guard_reserves", "over_limit", "survey_n", "survey_sum", "survey_top2", "qa_n", "dials",
          "out_machines", "out_connected", "out_abandoned", "out_late", "out_qa_labels", "out_qa_people")  # fmt: skip
SUMS = ("wait_sum", "wait_max", "talk_sum", "hold_sum", "wrap_sum", "handle_sum", "qa_sum", "logged_in_s",
        "available_s", "busy_s", "out_talk_s")  # fmt: skip
MOMENTS = ("first_login", "last_logout")  # epoch seconds, or none in the row
DICTS = ("pause_s", "out_outcomes", "dispositions")


def _columns() -> list[sa.Column]:
    return [
        sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),  # epoch s of the interval (day)
        sa.Column("service", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("campaign", sa.String(80), primary_key=True),
        *[sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in COUNTS],
        *[sa.Column(n, sa.Float, nullable=False, server_default="0") for n in SUMS],
        *[sa.Column(n, sa.Float, nullable=True) for n in MOMENTS],
        *[sa.Column(n, sa.JSON, nullable=False) for n in DICTS],
    ]


def upgrade() -> None:
    for name in ("report_buckets", "report_days"):
        op.create_table(name, *_columns())
        # a service's or a campaign's rows over a time range, without the agents' time rows
        op.create_index(f"ix_{name}_service_start", name, ["service", "start"])
        op.create_index(f"ix_{name}_campaign_start", name, ["campaign", "start"])
    state = op.create_table(
        "report_rollup_state",
        sa.Column("name", sa.String(40), primary_key=True),  # ledger_id, horizon, timezone
        sa.Column("value", sa.String(200), nullable=False),
    )
    # nothing counted yet; a rebuild or the first refresh counts what the ledger holds
    op.bulk_insert(state, [{"name": "ledger_id", "value": "0"}, {"name": "horizon", "value": "0"},
                           {"name": "timezone", "value": ""}])  # fmt: skip
    # reports read the call records of a time range (they had no index but their key), and ask for the ledger's
    # newest fact before a time (without an index on the time alone, a scan of the whole ledger)
    op.create_index("ix_call_records_arrived_at", "call_records", ["arrived_at"])
    op.create_index("ix_ledger_at", "ledger", ["at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_at", "ledger")
    op.drop_index("ix_call_records_arrived_at", "call_records")
    op.drop_table("report_rollup_state")
    op.drop_table("report_days")
    op.drop_table("report_buckets")
