"""The ``sales`` report (pure): each agent's sales per day against the daily target, by team and in all, and
the commission split by the site's percentages, each figure with the formula it is counted by (``FORMULAS``).

An order counts on the local day it was placed, at its newest version (a correction changes the day it
corrects, not the day it was made). An agent's target counts on each day it worked: a campaign's agent logged
in, or any agent that sold.
Sums are printed in the currency with two decimals; each commission is its own row's sales times the share,
rounded to the hundredth, so a total's commission may differ by a hundredth from the sum of its rows'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sales.model import Order
from sales.settings import SalesSettings

FORMULAS: dict[str, str] = {
    "orders": "orders placed that day (corrected ones at their newest version)",
    "quantity": "items in those orders",
    "sales": "the sum of those orders' amounts",
    "target": "the daily target in force that day ([sales] daily_target, or targets from a date), for each agent "
              "of a campaign logged in that day, and any other agent that sold that day",
    "attainment": "sales ÷ target (no target: none)",
    "commission_agent": "sales × the agent's share ([sales] commission.agent %)",
    "commission_team_lead": "the team's sales × the team lead's share (commission.team_lead %)",
    "commission_director": "all sales × the director's share (commission.director %)",
    "commission_others": "all sales × the others' share (commission.others %), a pool",
    "commission_total": "the four commissions of all sales",
}  # fmt: skip
COLUMNS = ("day", "agent", "name", "team", "orders", "quantity", "sales", "target", "attainment", "commission_agent")
TEAM_COLUMNS = ("team", "orders", "quantity", "sales", "target", "attainment", "commission_team_lead")


def _cut(hundredths: int, pct: float) -> int:
    """A share of a sum, rounded half up to the hundredth (in decimal: 2.3 % of 15.00 is 0.345, so 0.35)."""
    return int((Decimal(hundredths) * Decimal(str(pct)) / 100).quantize(Decimal(1), ROUND_HALF_UP))


def _money(hundredths: int) -> float:
    return round(hundredths / 100, 2)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def sales_report(orders: Iterable[Order], worked: Iterable[tuple[str, str]], s: SalesSettings, tz: ZoneInfo,
                 *, teams: Mapping[str, str], names: Mapping[str, str], agents: frozenset[str] | None = None,
                 team: str | None = None) -> dict[str, Any]:  # fmt: skip
    """``orders``: those placed in the range; ``worked``: (ISO day, agent) pairs of agents logged in those days;
    ``teams``: each agent's own team; ``agents``, ``team``: only these agents' rows, that team's (filters; None:
    all). An order counts under the team it was placed for (its ``team``: the seller's team then), so a later move
    of the agent moves none of its past sales or its lead's commission; the day's target counts once per agent, on
    its own team's row."""
    cells: dict[tuple[str, str, str], dict[str, int]] = {}

    def cell(day: str, agent: str, in_team: str) -> dict[str, int]:
        return cells.setdefault((day, agent, in_team), {"orders": 0, "quantity": 0, "sales": 0})

    for day, agent in worked:
        cell(day, agent, teams.get(agent, ""))
    for o in orders:
        v = o.now
        c = cell(dt.datetime.fromtimestamp(o.placed_at, tz).date().isoformat(), v.agent, v.team)
        c["orders"] += 1
        c["quantity"] += v.quantity
        c["sales"] += v.amount
    targeted: set[tuple[str, str]] = set()
    rows, by_team = [], {}
    # the agent's own team's row first, so that is where its target goes
    for (day, agent, in_team), c in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                         kv[0][2] != teams.get(kv[0][1], ""))):
        target = 0 if (day, agent) in targeted else s.target_on(dt.date.fromisoformat(day))
        targeted.add((day, agent))  # decided before the filters: a team's report never takes another's target
        if (agents is not None and agent not in agents) or (team is not None and in_team != team):
            continue
        rows.append({"day": day, "agent": agent, "name": names.get(agent, agent), "team": in_team,
                     "orders": c["orders"], "quantity": c["quantity"], "sales": _money(c["sales"]),
                     "target": _money(target), "attainment": _ratio(c["sales"], target),
                     "commission_agent": _money(_cut(c["sales"], s.split["agent"]))})  # fmt: skip
        t = by_team.setdefault(in_team, {"orders": 0, "quantity": 0, "sales": 0, "target": 0})
        for k in ("orders", "quantity", "sales"):
            t[k] += c[k]
        t["target"] += target
    rows.sort(key=lambda r: (r["day"], r["agent"], r["team"]))
    teams_rows = [{"team": name, "orders": t["orders"], "quantity": t["quantity"], "sales": _money(t["sales"]),
                   "target": _money(t["target"]), "attainment": _ratio(t["sales"], t["target"]),
                   "commission_team_lead": _money(_cut(t["sales"], s.split["team_lead"]))}
                  for name, t in sorted(by_team.items())]  # fmt: skip
    total_sales = sum(t["sales"] for t in by_team.values())
    total_target = sum(t["target"] for t in by_team.values())
    cuts = {k: _cut(total_sales, s.split[k]) for k in s.split}
    total = {"day": "total", "orders": sum(t["orders"] for t in by_team.values()),
             "quantity": sum(t["quantity"] for t in by_team.values()), "sales": _money(total_sales),
             "target": _money(total_target), "attainment": _ratio(total_sales, total_target),
             "commission_agent": _money(cuts["agent"])}  # fmt: skip
    return {"columns": list(COLUMNS), "rows": rows, "total": total, "teams": teams_rows,
            "team_columns": list(TEAM_COLUMNS), "currency": s.currency, "split": dict(s.split),
            "commission": {f"commission_{k}": _money(v) for k, v in cuts.items()}
            | {"commission_total": _money(sum(cuts.values()))}, "formulas": dict(FORMULAS)}  # fmt: skip
