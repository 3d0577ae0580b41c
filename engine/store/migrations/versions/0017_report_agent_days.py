"""report_agent_days: each agent's day rows of ``report_days`` summed over services and campaigns

One row per local day and agent (service and campaign ""), kept with the other rollups (``reports/rollups.py``):
a year's agents report reads these, a row per agent and day, instead of summing the rows of every service and
campaign it worked in. Filled here from the day rows already counted, as the rollups fill it.

Revision ID: 0017
Revises: 0016
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTS = ("arrived", "offered", "answered", "abandoned", "short_abandoned", "other", "callbacks", "voicemails",
          "timeouts", "sl_within", "sl_late_abandons", "wait_n", "handled", "ring_known", "ring_within", "overflowed",
          "lent", "guard_reserves", "over_limit", "survey_n", "survey_sum", "survey_top2", "qa_n", "dials",
          "out_machines", "out_connected", "out_abandoned", "out_late", "out_qa_labels", "out_qa_people")  # fmt: skip
SUMS = ("wait_sum", "wait_max", "talk_sum", "hold_sum", "wrap_sum", "handle_sum", "qa_sum", "logged_in_s",
        "available_s", "busy_s", "out_talk_s")  # fmt: skip
MOMENTS = ("first_login", "last_logout")
DICTS = ("pause_s", "out_outcomes", "dispositions")
KEYS = ("start", "service", "agent", "campaign")
PAGE = 500


def _columns() -> list[sa.Column]:
    return [
        sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),  # the local day's midnight
        sa.Column("service", sa.String(64), primary_key=True),  # always ""
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("campaign", sa.String(80), primary_key=True),  # always ""
        *[sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in COUNTS],
        *[sa.Column(n, sa.Float, nullable=False, server_default="0") for n in SUMS],
        *[sa.Column(n, sa.Float, nullable=True) for n in MOMENTS],
        *[sa.Column(n, sa.JSON, nullable=False) for n in DICTS],
    ]


def _add(acc: dict[str, Any], row: dict[str, Any]) -> None:
    # as reports/rollup_rows.add_into sums rows: the longest wait the highest, first login the earliest, last
    # logout the latest, count dicts entry by entry, the rest added
    for k in (*COUNTS, *SUMS):
        acc[k] = max(acc[k], row[k]) if k == "wait_max" else acc[k] + row[k]
    for k, pick in (("first_login", min), ("last_logout", max)):
        known = [v for v in (acc[k], row[k]) if v is not None]
        acc[k] = pick(known) if known else None
    for k in DICTS:
        merged = dict(acc[k])
        for n, x in (row[k] or {}).items():
            merged[n] = merged.get(n, 0) + x
        acc[k] = merged


def upgrade() -> None:
    table = op.create_table("report_agent_days", *_columns())
    days = sa.table("report_days", *[sa.column(c.name, c.type) for c in _columns()])
    bind = op.get_bind()
    q = sa.select(days).where(days.c.agent != "").order_by(*(days.c[k] for k in KEYS))
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for r in bind.execute(q).mappings():
        row = {k: r[k] for k in r.keys()}
        key = (int(row["start"]), str(row["agent"]))
        if key in out:
            _add(out[key], row)
        else:
            out[key] = row | {"service": "", "campaign": "", **{d: dict(row[d] or {}) for d in DICTS}}
    rows = [out[k] for k in sorted(out)]
    for i in range(0, len(rows), PAGE):
        op.bulk_insert(table, rows[i : i + PAGE])


def downgrade() -> None:
    op.drop_table("report_agent_days")
