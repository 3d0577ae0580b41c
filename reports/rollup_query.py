"""Reading the rollups: the bucket rows of a time range summed in SQL (SUM, MAX, MIN ... GROUP BY the period, and the
key columns a report keeps), so a report folds a few rows per period instead of every quarter hour's.

Periods are local: a 15-minute, hour or day number ``(start + UTC offset) // unit``, the offset taken piece by
piece across daylight-saving changes (``reports.rollup_plan.offsets``). Day periods of whole local days read
``report_days`` when the report's filter looks at key columns only; a filter on a figure (a row with calls, a
row with overflow) must see each quarter hour's row, so those read ``report_buckets``. Count dicts (pause
seconds per reason, outcomes, dispositions) are read only from the rows that hold some and summed here per entry.
Only the fields a view's report reads are summed (its ``READS``); the others keep their zero.

``VIEWS`` mirror the reports' own filters (``reports.service_report`` and the others): they only leave out rows a
report would leave out, and only sum together rows it would sum together; the report then folds as always. A
query's own filter (a team's agents, a service, a team's campaigns) is applied in SQL the same way, so a team's
report reads its own rows only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, Text, and_, case, cast, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from engine.store.tables import BUCKET_DICTS, report_agent_days, report_buckets, report_days
from reports import agent_report, campaign_report, hotline_report, service_report
from reports.buckets import Bucket
from reports.fold import Filter
from reports.rollup_plan import day_start, offsets, period_start
from reports.rollup_rows import NAMES, made

UNITS = {"15m": 900, "1h": 3600, "1d": 86400}
_blank = {"service": "", "agent": "", "campaign": ""}
KEYS = ("service", "agent", "campaign")
HIGHEST = ("wait_max", "last_logout")
LOWEST = ("first_login",)
Where = Callable[[Table], ColumnElement[bool]]


@dataclass(frozen=True)
class View:
    keys: tuple[str, ...]  # key columns kept apart; the others are summed together ("" in the rows)
    where: Where  # the rows the report reads
    days: bool  # the filter looks at key columns only: day periods may read the day table
    reads: tuple[str, ...] = NAMES  # the fields the report reads: summed; the others keep their default (zero)

    def __post_init__(self) -> None:
        # a misspelt name in a report's READS would leave that figure at zero without a word
        if unknown := set(self.reads) - set(NAMES):
            raise ValueError(f"a report reads fields buckets do not have: {', '.join(sorted(unknown))}")


def views(hotline: str) -> dict[str, View]:
    """The rows each report reads (``hotline``: the hotline's service)."""
    return {
        # an agent's calls of every service in one sum: the report keeps agents apart, never services
        "agents": View(("agent",), lambda t: t.c.agent != "", True, agent_report.READS),
        # the sales report reads only which days each agent worked (logged in)
        "sales": View(("agent",), lambda t: t.c.agent != "", True, ("agent", "logged_in_s")),
        "campaigns": View(("campaign",), lambda t: t.c.campaign != "", True, campaign_report.READS),
        "services": View(("service",), lambda t: and_(t.c.service != "", or_(t.c.arrived > 0, t.c.offered > 0)),
                         False, service_report.READS),  # fmt: skip
        "hotline": View(("service",), lambda t: or_(t.c.service == hotline,
                                          and_(t.c.service == "", t.c.agent == "", t.c.over_limit > 0)), False,
                        hotline_report.READS),
        "all": View(KEYS, lambda t: true(), True),
    }  # fmt: skip


def _period(t: Table, unit: int, pieces: list[tuple[int, int]]) -> ColumnElement[Any]:
    col = t.c.start
    if len(pieces) == 1:
        return (col + pieces[0][1]) // unit
    whens = [(col < until, col + off) for until, off in pieces[:-1]]
    return case(*whens, else_=col + pieces[-1][1]) // unit


class RollupQuery:
    def __init__(self, engine: AsyncEngine, timezone: str, hotline: str) -> None:
        self.engine = engine
        self.tz = ZoneInfo(timezone)
        self.views = views(hotline)

    async def rows(self, start: float, end: float, interval: str = "15m", view: str = "all",
                   flt: Filter | None = None) -> list[Bucket]:  # fmt: skip
        """The rows of ``view`` in [start, end) summed per ``interval`` period and the view's key columns; each
        row's ``start`` is its period's local start. Day periods: the whole days from the day table (the agents
        report's from the agent-day table when it counts every service), a last day counted only in part (up to the
        newest fact) from the quarter hours. ``flt``: the query's filter, as the view's report applies it."""
        unit, v, flt = UNITS[interval], self.views[view], flt or Filter()
        narrow = _narrow(view, flt)
        cut = day_start(end, self.tz)
        if unit == 86400 and v.days and day_start(start, self.tz) == int(start) and cut > start:
            if view == "agents" and flt.services is None:  # one stored row per agent and day: nothing to sum
                got = await self._day_rows(report_agent_days, start, cut, v, narrow)
            else:
                got = await self._rows(report_days, start, cut, unit, v, narrow)
            return got + (await self._rows(report_buckets, cut, end, unit, v, narrow) if end > cut else [])
        return await self._rows(report_buckets, start, end, unit, v, narrow)

    def _columns(self, t: Table, v: View) -> tuple[list[Any], list[str], dict[str, Any]]:
        """The figure columns ``v`` reads, its count dicts, and the defaults of the fields it does not read (those
        are neither read from the table nor summed)."""
        figures = [c for c in t.columns if c.name not in ("start", *KEYS, *BUCKET_DICTS) and c.name in v.reads]
        dicts = [d for d in BUCKET_DICTS if d in v.reads]
        unread = {f.name: f.default for f in fields(Bucket)
                  if f.name not in v.reads and f.name not in (*KEYS, *BUCKET_DICTS, "start")}  # fmt: skip
        return figures, dicts, _blank | unread

    async def _day_rows(self, t: Table, start: float, end: float, v: View, narrow: Where) -> list[Bucket]:
        """The rows of a day table whose rows are each one (day, keys) of ``v`` already: read as they are, their
        count dicts in the same read, decoded in one call."""
        figures, dicts, base = self._columns(t, v)
        where = and_(t.c.start >= int(start), t.c.start < int(end), v.where(t), narrow(t))
        q = select(t.c.start, *(t.c[k] for k in v.keys), *figures, *(cast(t.c[d], Text) for d in dicts)).where(where)
        names = ["start", *v.keys, *(c.name for c in figures)]
        async with self.engine.connect() as conn:
            got = (await conn.execute(q)).all()
        n, width = len(names), len(dicts)
        out = []
        decoded = json.loads("[" + ",".join(x for r in got for x in r[n:]) + "]") if dicts else []
        for i, r in enumerate(got):
            row = dict(base)
            row.update(zip(names, r[:n]))  # noqa: B905 - the row has the dicts after the names
            for d in BUCKET_DICTS:
                row[d] = {}
            for j, d in enumerate(dicts):
                row[d] = decoded[i * width + j]
            out.append(made(row))
        return out

    async def _rows(self, t: Table, start: float, end: float, unit: int, v: View, narrow: Where) -> list[Bucket]:
        pieces = offsets(start, end, self.tz)
        period = _period(t, unit, pieces).label("period")
        keys = [t.c[k] for k in v.keys]
        where = and_(t.c.start >= int(start), t.c.start < int(end), v.where(t), narrow(t))
        figures, dicts, base = self._columns(t, v)
        aggregate = [(func.max if c.name in HIGHEST else func.min if c.name in LOWEST else func.sum)(c).label(c.name)
                     for c in figures]  # fmt: skip
        q = select(period, *keys, *aggregate).where(where).group_by(period, *keys)
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        names = ["period", *v.keys, *(c.name for c in figures)]
        n_keys = 1 + len(v.keys)
        async with self.engine.connect() as conn:
            for r in (await conn.execute(q)).all():  # plain tuples: a year's services report reads ~3,300 rows
                row = dict(base)
                row.update(zip(names, r, strict=True))
                for d in BUCKET_DICTS:
                    row[d] = {}
                out[tuple(r[:n_keys])] = row
            if dicts:
                # the rows whose count dicts hold something (most hold none), in one read, their JSON texts decoded
                # in one call (a call per value cost a quarter of a month's agents report), summed here entry by
                # entry: a row per entry from the database's JSON table function cost twice as much
                texts = [cast(t.c[name], Text) for name in dicts]
                got = (await conn.execute(select(period, *keys, *texts).where(where, or_(*(x != "{}" for x in texts)))
                       )).all()  # fmt: skip
                decoded = json.loads("[" + ",".join(x for r in got for x in r[n_keys:]) + "]")
                for i, r in enumerate(got):
                    row = out[tuple(r[:n_keys])]
                    for j, name in enumerate(dicts):
                        into = row[name]
                        for k, n in decoded[i * len(dicts) + j].items():
                            into[k] = into.get(k, 0) + n
        starts = {n: period_start(int(n), unit, self.tz) for n in {k[0] for k in out}}
        got = []
        for k, row in out.items():
            del row["period"]
            row["start"] = starts[k[0]]
            got.append(made(row))
        return got

    def source(self, view: str, interval: str) -> Callable[[float, float, Filter], Awaitable[list[Bucket]]]:
        """A report's bucket source (``reports.services.Reports(source=...)``): the view's rows per period."""

        async def rows(start: float, end: float, flt: Filter) -> list[Bucket]:
            return await self.rows(start, end, interval, view, flt)

        return rows


def _narrow(view: str, flt: Filter) -> Where:
    """The rows of ``view`` its report's filter keeps (``reports.agent_report`` and the others filter the same way
    again: what is left out here they would have left out)."""

    def where(t: Table) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if view in ("agents", "sales"):
            if flt.agents is not None:
                parts.append(t.c.agent.in_(sorted(flt.agents)))
            if flt.services is not None:  # the calls of those services, and the agents' time (no service)
                parts.append(or_(t.c.service.in_(sorted(flt.services)), t.c.service == ""))
        elif view == "services" and flt.services is not None:
            parts.append(t.c.service.in_(sorted(flt.services)))
        elif view == "campaigns" and flt.campaigns is not None:
            parts.append(t.c.campaign.in_(sorted(flt.campaigns)))
        return and_(true(), *parts)

    return where
