"""Reading the rollups: the bucket rows of a time range summed in SQL (SUM, MAX, MIN ... GROUP BY the period, and the
key columns a report keeps), so a report folds a few rows per period instead of every quarter hour's.

Periods are local: a 15-minute, hour or day number ``(start + UTC offset) // unit``, the offset taken piece by
piece across daylight-saving changes (``reports.rollup_plan.offsets``). Day periods of whole local days read
``report_days`` when the report's filter looks at key columns only; a filter on a figure (a row with calls, a
row with overflow) must see each quarter hour's row, so those read ``report_buckets``. Count dicts (pause
seconds per reason, outcomes, dispositions) are summed per entry with the database's own JSON table function.

``VIEWS`` mirror the reports' own filters (``reports.service_report`` and the others): they only leave out rows a
report would leave out, and only sum together rows it would sum together; the report then folds as always.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Table, and_, case, cast, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from engine.store.tables import BUCKET_DICTS, report_buckets, report_days
from reports.buckets import Bucket
from reports.rollup_plan import day_start, offsets, period_start

UNITS = {"15m": 900, "1h": 3600, "1d": 86400}
_blank = {"service": "", "agent": "", "campaign": ""}
KEYS = ("service", "agent", "campaign")
HIGHEST = ("wait_max", "last_logout")
LOWEST = ("first_login",)
INT_DICTS = ("out_outcomes", "dispositions")
Where = Callable[[Table], ColumnElement[bool]]


@dataclass(frozen=True)
class View:
    keys: tuple[str, ...]  # key columns kept apart; the others are summed together ("" in the rows)
    where: Where  # the rows the report reads
    days: bool  # the filter looks at key columns only: day periods may read the day table


def views(hotline: str) -> dict[str, View]:
    """The rows each report reads (``hotline``: the hotline's service)."""
    return {
        "agents": View(("service", "agent"), lambda t: t.c.agent != "", True),
        "campaigns": View(("campaign",), lambda t: t.c.campaign != "", True),
        "services": View(("service",), lambda t: and_(t.c.service != "", or_(t.c.arrived > 0, t.c.offered > 0)),
                         False),  # fmt: skip
        "hotline": View(("service",), lambda t: or_(t.c.service == hotline,
                                          and_(t.c.service == "", t.c.agent == "", t.c.over_limit > 0)), False),
        "all": View(KEYS, lambda t: true(), True),
    }  # fmt: skip


def _period(t: Table, unit: int, pieces: list[tuple[int, int]]) -> ColumnElement[Any]:
    col = t.c.start
    if len(pieces) == 1:
        return (col + pieces[0][1]) // unit
    whens = [(col < until, col + off) for until, off in pieces[:-1]]
    return case(*whens, else_=col + pieces[-1][1]) // unit


def _json_each(engine: AsyncEngine, column: Any) -> Any:
    if engine.dialect.name == "postgresql":
        return func.json_each_text(column).table_valued("key", "value")
    return func.json_each(column).table_valued("key", "value")


class RollupQuery:
    def __init__(self, engine: AsyncEngine, timezone: str, hotline: str) -> None:
        self.engine = engine
        self.tz = ZoneInfo(timezone)
        self.views = views(hotline)

    async def rows(self, start: float, end: float, interval: str = "15m", view: str = "all") -> list[Bucket]:
        """The rows of ``view`` in [start, end) summed per ``interval`` period and the view's key columns; each
        row's ``start`` is its period's local start. Day periods: the whole days from the day table, a last day
        counted only in part (up to the newest fact) from the quarter hours."""
        unit, v = UNITS[interval], self.views[view]
        cut = day_start(end, self.tz)
        if unit == 86400 and v.days and day_start(start, self.tz) == int(start) and cut > start:
            got = await self._rows(report_days, start, cut, unit, v)
            return got + (await self._rows(report_buckets, cut, end, unit, v) if end > cut else [])
        return await self._rows(report_buckets, start, end, unit, v)

    async def _rows(self, t: Table, start: float, end: float, unit: int, v: View) -> list[Bucket]:
        pieces = offsets(start, end, self.tz)
        period = _period(t, unit, pieces).label("period")
        keys = [t.c[k] for k in v.keys]
        where = and_(t.c.start >= int(start), t.c.start < int(end), v.where(t))
        figures = [c for c in t.columns if c.name not in ("start", *KEYS, *BUCKET_DICTS)]
        aggregate = [(func.max if c.name in HIGHEST else func.min if c.name in LOWEST else func.sum)(c).label(c.name)
                     for c in figures]  # fmt: skip
        q = select(period, *keys, *aggregate).where(where).group_by(period, *keys)
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        async with self.engine.connect() as conn:
            for r in (await conn.execute(q)).mappings().all():
                row = {c.name: r[c.name] for c in figures} | {k: r[k] for k in v.keys}
                out[(r["period"], *(r[k] for k in v.keys))] = row | {d: {} for d in BUCKET_DICTS}
            for name in BUCKET_DICTS:
                j = _json_each(self.engine, t.c[name])
                dq = (select(period, *keys, j.c.key, func.sum(cast(j.c.value, Float)).label("n"))
                      .select_from(t).join(j, true()).where(where).group_by(period, *keys, j.c.key))  # fmt: skip
                for r in (await conn.execute(dq)).mappings().all():
                    n = r["n"]
                    out[(r["period"], *(r[k] for k in v.keys))][name][r["key"]] = int(n) if name in INT_DICTS else n
        starts = {n: period_start(int(n), unit, self.tz) for n in {k[0] for k in out}}
        return [Bucket(**(_blank | row | {"start": starts[k[0]]})) for k, row in out.items()]

    def source(self, view: str, interval: str) -> Callable[[float, float], Awaitable[list[Bucket]]]:
        """A report's bucket source (``reports.services.Reports(source=...)``): the view's rows per period."""

        async def rows(start: float, end: float) -> list[Bucket]:
            return await self.rows(start, end, interval, view)

        return rows
