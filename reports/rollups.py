"""The reports' rollups in SQL: the bucket rows of ``reports.buckets`` stored per 15 minutes (``report_buckets``)
and per local day (``report_days``; and per day and agent over every service and campaign, ``report_agent_days``,
for the agents report), kept up to date as facts arrive (``refresh``) and rebuilt from the ledger on
demand (``rebuild``), the same rows either way. Reading them: ``reports.rollup_query``.

A refresh reads the facts after the watermark (the ledger id up to which rows are counted), counts the intervals
they change again (``reports.rollup_plan``), and writes those rows, their days and the new watermark in one
transaction, which first checks nobody moved the watermark meanwhile (the counting runs outside it: the engine's
writes never wait for it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from engine.model.facts import Fact
from engine.store.tables import (
    call_records,
    ledger,
    report_agent_days,
    report_buckets,
    report_days,
    report_rollup_state,
)
from reports import rollup_plan as plan
from reports.buckets import INTERVAL, STATUS_KINDS, Bucket, SiteRules, buckets, interval_of
from reports.rollup_reads import REACH, fact_of, inputs
from reports.rollup_rows import bucket_of, row_of

log = logging.getLogger("hotline.reports")
BATCH = 20_000  # new facts read at a time by a refresh
GRACE = 120.0  # seconds: a call's end whose record is not derived yet holds the watermark back this long
STATE = {"ledger_id": "0", "horizon": "0", "timezone": ""}
# the store's own first fact says when it was made, not that anything happened: time is counted from the first
# fact and up to the newest one but this
CREATED = "store.created"
INSERT_PAGE = 500  # rows per INSERT statement (PostgreSQL's bind limit: 32767 values; 52 columns a row)


class Moved(RuntimeError):
    """Another refresh or rebuild wrote the rollups while this one counted: its rows are not written."""


class ZoneChanged(RuntimeError):
    """The rollups' days are cut in another timezone than the site's: a rebuild makes them again."""


@dataclass(frozen=True)
class Status:
    ledger_id: int  # facts up to this id are counted
    horizon: float  # epoch s: the time counted up to (the newest fact's, or the engine's time at a refresh)
    timezone: str  # the days' zone
    rows: int
    days: int
    newest_fact: int  # the ledger's newest id: the facts behind it are what the next refresh counts


class Rollups:
    def __init__(self, engine: AsyncEngine, rules: SiteRules, timezone: str) -> None:
        self.engine = engine
        self.rules = rules
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)

    # ---- state ---------------------------------------------------------------------------------------------------
    async def _state(self, conn: AsyncConnection) -> dict[str, str]:
        got = {r.name: r.value for r in (await conn.execute(select(report_rollup_state))).all()}
        return STATE | got

    async def _set_state(self, conn: AsyncConnection, expected: str, **values: str) -> None:
        """Write the state, first checking the watermark is still ``expected``. The first statement is a write: it
        takes the write lock (SQLite) or the row's lock (PostgreSQL), so two writers of the rollups take turns."""
        st = report_rollup_state
        await conn.execute(update(st).where(st.c.name == "ledger_id").values(value=st.c.value))
        have = (await conn.execute(select(st.c.value).where(st.c.name == "ledger_id"))).scalar()
        if (have or "0") != expected:
            raise Moved(f"the rollups' watermark moved from {expected} to {have} meanwhile")
        for name, value in values.items():
            await conn.execute(update(st).where(st.c.name == name).values(value=value))

    async def status(self) -> Status:
        async with self.engine.connect() as conn:
            st = await self._state(conn)
            rows = (await conn.execute(select(func.count()).select_from(report_buckets))).scalar_one()
            days = (await conn.execute(select(func.count()).select_from(report_days))).scalar_one()
            newest = (await conn.execute(select(func.max(ledger.c.id)))).scalar() or 0
        return Status(int(st["ledger_id"]), float(st["horizon"]), st["timezone"], int(rows), int(days), int(newest))

    # ---- counting --------------------------------------------------------------------------------------------------
    async def count(self, conn: AsyncConnection, start: int, end: int, horizon: float,
                    before: dict[str, Fact] | None = None) -> list[Bucket]:  # fmt: skip
        """The bucket rows of the intervals in [start, end), time counted up to ``horizon`` at most."""
        recs, facts, grade_rows = await inputs(conn, start, end, before)
        # counted in a thread: a long range must not hold up the engine's event loop meanwhile
        got = await asyncio.to_thread(buckets, recs, facts, self.rules, start - REACH, min(end + REACH, horizon),
                                      grade_rows)  # fmt: skip
        return [b for b in got if start <= b.start < end]

    async def _write(self, conn: AsyncConnection, spans: list[tuple[int, int]], rows: list[Bucket]) -> int:
        """Replace the rows of the [start, end) spans, then their local days, from the 15-minute rows."""
        for a, b in spans:
            await conn.execute(delete(report_buckets).where(report_buckets.c.start >= a, report_buckets.c.start < b))
        await _insert(conn, report_buckets, rows)
        days = plan.days(spans, self.tz)
        for a, b in days:
            q = (select(report_buckets).where(report_buckets.c.start >= a, report_buckets.c.start < b)
                 .order_by(*report_buckets.primary_key.columns))  # sums in key order: a rebuild's, to the last bit
            quarter = [bucket_of(r) for r in (await conn.execute(q)).mappings().all()]
            day = plan.day_rows(quarter, self.tz)
            for t in (report_days, report_agent_days):
                await conn.execute(delete(t).where(t.c.start >= a, t.c.start < b))
            await _insert(conn, report_days, day)
            await _insert(conn, report_agent_days, plan.agent_day_rows(day))
        return len(days)

    async def refresh(self) -> int:
        """Count again what the facts after the watermark change; returns how many intervals."""
        total = 0
        while True:
            n, more = await self._refresh()
            total += n
            if not more:
                return total

    async def _refresh(self) -> tuple[int, bool]:
        async with self.engine.connect() as conn:
            st = await self._state(conn)
            if st["timezone"] not in ("", self.timezone):
                raise ZoneChanged(f"the rollups' days are cut in {st['timezone']}, the site's timezone is "
                                  f"{self.timezone}: run `hotline report rebuild`")  # fmt: skip
            mark, old = int(st["ledger_id"]), float(st["horizon"])
            q = select(ledger).where(ledger.c.id > mark).order_by(ledger.c.id).limit(BATCH)
            got = (await conn.execute(q)).all()
            if not got:
                return 0, False
            facts = [fact_of(r) for r in got]
            ids = [int(r.id) for r in got]
            reach = await self._reach(conn, {f.call_id for f in facts if f.call_id})
            mark = _hold(facts, ids, await self._callers(conn, facts, reach))
            known = [f.at for f in facts if f.kind != CREATED]
            new = max(old, horizon(max(known))) if known else old
            previous = await self._previous(conn, facts)
            spans = plan.runs(plan.touched(facts, reach, previous, (old, new)))
            rows: list[Bucket] = []
            for a, b in spans:
                rows += await self.count(conn, a, b, new)
        async with self.engine.begin() as conn:
            await self._set_state(conn, st["ledger_id"], ledger_id=str(mark), horizon=str(new), timezone=self.timezone)
            await self._write(conn, spans, rows)
        held = bool(got) and mark != int(got[-1].id)
        return sum((b - a) // INTERVAL for a, b in spans), len(got) == BATCH and not held

    async def _reach(self, conn: AsyncConnection, calls: set[str]) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        ids = sorted(calls)
        for i in range(0, len(ids), 500):
            q = select(call_records).where(call_records.c.call_id.in_(ids[i : i + 500]))
            for r in (await conn.execute(q)).mappings().all():
                out[str(r["call_id"])] = plan.span(r)
        return out

    async def _callers(self, conn: AsyncConnection, facts: list[Fact], reach: dict[str, Any]) -> set[str]:
        """The calls among the ended ones without a record that are callers' calls (those get one)."""
        ended = sorted({f.call_id for f in facts if f.kind == "call.end" and f.call_id not in reach})
        out: set[str] = set()
        for i in range(0, len(ended), 500):
            q = select(ledger.c.call_id).where(ledger.c.kind == "channel.new", ledger.c.call_id.in_(ended[i : i + 500]),
                                               ledger.c.data["role"].as_string() == "caller")  # fmt: skip
            out.update((await conn.execute(q)).scalars())
        return out

    async def _previous(self, conn: AsyncConnection, facts: list[Fact]) -> dict[str, float]:
        """Each agent with a new status fact: the time of its status fact before the first new one."""
        first: dict[str, float] = {}
        for f in facts:
            if f.kind in STATUS_KINDS:
                a = str(f.data.get("agent") or "")
                first[a] = min(first.get(a, f.at), f.at)
        if not first:
            return {}
        agent = ledger.c.data["agent"].as_string()
        out: dict[str, float] = {}
        for a, at in first.items():
            q = select(func.max(ledger.c.at)).where(ledger.c.kind.in_(STATUS_KINDS), ledger.c.at < at, agent == a)
            prev = (await conn.execute(q)).scalar()
            out[a] = float(prev) if prev is not None else at
        return out

    # ---- rebuild ---------------------------------------------------------------------------------------------------
    async def rebuild(self, progress: Callable[[str], None] | None = None) -> int:
        """Count every interval again from the ledger, the records and the grades (day by day); returns the rows."""
        async with self.engine.connect() as conn:
            st = await self._state(conn)
            mark = (await conn.execute(select(func.max(ledger.c.id)))).scalar() or 0
            facts = ledger.c.kind != CREATED
            lo = (await conn.execute(select(func.min(ledger.c.at)).where(facts))).scalar()
            hi = (await conn.execute(select(func.max(ledger.c.at)).where(facts))).scalar()
            first_call = (await conn.execute(select(func.min(call_records.c.arrived_at)))).scalar()
            new = horizon(hi) if hi is not None else 0.0
            days: list[tuple[int, int]] = []
            if lo is not None:
                lo = min(lo, first_call if first_call is not None else lo)
                days = plan.days([(interval_of(lo), new)], self.tz)
            rows: list[tuple[Any, ...]] = []  # tuples, not buckets: a year is half a million rows
            day_rows: list[tuple[Any, ...]] = []
            agent_rows: list[tuple[Any, ...]] = []
            before: dict[str, Fact] = {}
            t0, shown = time.monotonic(), 0.0
            for n, (a, b) in enumerate(days, 1):
                a, b = max(a, interval_of(lo)), min(b, interval_of(new) + INTERVAL)
                got = await self.count(conn, a, b, new, before)
                rows += [_tuple(x) for x in got]
                day = plan.day_rows(got, self.tz)
                day_rows += [_tuple(x) for x in day]
                agent_rows += [_tuple(x) for x in plan.agent_day_rows(day)]
                status = select(ledger).where(ledger.c.kind.in_(STATUS_KINDS), ledger.c.at >= a, ledger.c.at < b)
                for f in sorted((fact_of(r) for r in (await conn.execute(status)).all()), key=lambda f: (f.at, f.key)):
                    before[str(f.data.get("agent") or "")] = f
                if progress and (time.monotonic() - shown > 5 or n == len(days)):
                    shown = time.monotonic()
                    progress(f"rollups: {n}/{len(days)} days counted, {len(rows)} rows ({shown - t0:.0f} s)")
        async with self.engine.begin() as conn:
            await self._set_state(conn, st["ledger_id"], ledger_id=str(mark), horizon=str(new), timezone=self.timezone)
            for t in (report_buckets, report_days, report_agent_days):
                await conn.execute(delete(t))
            await _insert_tuples(conn, report_buckets, rows)
            await _insert_tuples(conn, report_days, day_rows)
            await _insert_tuples(conn, report_agent_days, agent_rows)
        return len(rows)


async def _insert(conn: AsyncConnection, table: Any, rows: list[Bucket]) -> None:
    for i in range(0, len(rows), INSERT_PAGE):
        await conn.execute(table.insert(), [row_of(b) for b in rows[i : i + INSERT_PAGE]])


COLUMNS = [c.name for c in report_buckets.columns]


def horizon(newest: float) -> float:
    """The time counted up to: just past the newest fact, as the reports counted straight from the ledger do
    (nobody knows yet whether an agent logged in then stayed so)."""
    return newest + 0.001


def _tuple(b: Bucket) -> tuple[Any, ...]:
    row = row_of(b)
    return tuple(row[c] for c in COLUMNS)


async def _insert_tuples(conn: AsyncConnection, table: Any, rows: list[tuple[Any, ...]]) -> None:
    for i in range(0, len(rows), INSERT_PAGE):
        await conn.execute(table.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in rows[i : i + INSERT_PAGE]])


def _hold(facts: list[Fact], ids: list[int], waiting: set[str]) -> int:
    """The new watermark: the last id read, unless a caller's call ended lately with no record yet (``waiting``:
    the engine derives it right after writing the end): then just before that end, so the next refresh sees the
    record. Past ``GRACE`` it is let go (a call that never gets a record: the degraded menu's)."""
    newest = max(f.at for f in facts)
    for f, i in zip(facts, ids, strict=True):
        if f.kind == "call.end" and f.call_id in waiting and newest - f.at < GRACE:
            return i - 1
    return ids[-1]
