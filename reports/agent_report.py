"""The agents report: per agent and period (a day by default), work time and pauses, calls, handle times,
occupancy, dispositions, survey CSAT and QA score. Pure: buckets in, a report dict out.

Its inbound sums (calls, talk, hold, wrap-up) are the services report's answered calls split by the answering
agent, so the sum over agents equals the services' totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from reports.buckets import Bucket
from reports.fold import Filter, Periods, fold, total
from reports.formulas import formula, ratio

COLUMNS = ("period", "agent", "name", "first_login", "last_logout", "logged_in", "pause", "inbound_calls",
           "outbound_conversations", "talk", "hold", "wrap_up", "aht", "outbound_talk", "occupancy", "dispositions",
           "csat", "csat_top2", "qa_score")  # fmt: skip
# "follow-ups due and done on time" come with cases (issue 17, part 2): a column for them belongs here then


def _clock(at: float | None, periods: Periods) -> str | None:
    return None if at is None else dt.datetime.fromtimestamp(at, periods.tz).strftime("%Y-%m-%d %H:%M:%S")


def figures(b: Bucket, periods: Periods) -> dict[str, Any]:
    return {
        "first_login": _clock(b.first_login, periods),
        "last_logout": _clock(b.last_logout, periods),
        "logged_in": round(b.logged_in_s, 1),
        "pause": {k: round(v, 1) for k, v in sorted(b.pause_s.items())},
        "inbound_calls": b.handled,
        "outbound_conversations": b.out_connected,
        "talk": round(b.talk_sum, 1),
        "hold": round(b.hold_sum, 1),
        "wrap_up": round(b.wrap_sum, 1),
        "aht": ratio(b.handle_sum, b.handled, 1),
        "outbound_talk": round(b.out_talk_s, 1),
        "occupancy": ratio(b.busy_s, b.busy_s + b.available_s),
        "dispositions": dict(sorted(b.dispositions.items())),
        "csat": ratio(b.survey_sum, b.survey_n, 2),
        "csat_top2": ratio(b.survey_top2, b.survey_n, 3),
        "qa_score": ratio(b.qa_sum, b.qa_n, 1),
    }


def agents_report(rows: Iterable[Bucket], periods: Periods, flt: Filter, names: Mapping[str, str]) -> dict[str, Any]:
    """``flt.services`` narrows the calls counted, never the agents' time (which belongs to no service)."""
    mine = [b for b in rows if b.agent and (flt.agents is None or b.agent in flt.agents)
            and (flt.services is None or b.service in flt.services or not b.service)]  # fmt: skip
    folded = fold(mine, lambda b: (periods.start_of(b.start), b.agent))
    out_rows = [{"period": periods.label(p), "agent": a, "name": names.get(a, ""), **figures(b, periods)}
                for (p, a), b in folded.items()]  # fmt: skip
    every = total(mine)
    return {
        "columns": list(COLUMNS),
        "rows": out_rows,
        "total": {"period": "total", "agent": "", "name": "", **figures(every, periods),
                  "first_login": None, "last_logout": None},  # fmt: skip
        "formulas": {c: formula(c) for c in COLUMNS if formula(c)},
    }
