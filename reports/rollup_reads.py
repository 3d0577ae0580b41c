"""What the rollups read to count the intervals of [start, end) again: exactly what ``reports.buckets`` needs for
those intervals to come out as a count of the whole ledger would give them, and little more.

- call records counted from ``REACH`` before ``start`` (their work reaches into the range: the agents' busy
  time), and their calls' decisions, lendings, surveys and grades whenever those were written;
- the counted facts of the range, the outbound conversations that end within ``REACH`` after it (their talk
  began in it), the verdicts of the range's connects (a connect is late by its verdict's rule);
- each agent's last status fact before ``start`` (its status at the range's start);
- grades and surveys of the range whose call has no record (counted at their own time).

A call's work or survey more than ``REACH`` after its queue entry is beyond what an interval is counted from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.facts import Fact
from engine.store.tables import call_records, grades, ledger
from reports.buckets import STATUS_KINDS, call_time

REACH = 6 * 3600.0  # seconds
ARRIVAL = 3 * 3600.0  # a caller may spend this long in the menu before queueing: records arrived earlier are read
OUTBOUND = ("outbound.placed", "outbound.result", "outbound.verdict", "outbound.machine", "outbound.connect",
            "outbound.abandon", "outbound.talk_end", "outbound.qa", "outbound.disposition")  # fmt: skip
# every kind the buckets count (reports.buckets reads these and no other)
COUNTED = (*STATUS_KINDS, "route.decision", "dialer.lent", "ivr.survey", "acd.guard", "ivr.overflow", *OUTBOUND)
BY_CALL = ("route.decision", "dialer.lent", "ivr.survey")  # a record's own facts, read by its call id
PAGE = 500  # ids in one IN (...)
GRADE_COLUMNS = (grades.c.id, grades.c.call_id, grades.c.agent, grades.c.score, grades.c.supersedes,
                 grades.c.created_at)  # fmt: skip


def fact_of(r: Any) -> Fact:
    return Fact(r.kind, r.at, r.call_id, r.uniqueid, r.key, dict(r.data))


def _pages(ids: Iterable[str]) -> list[list[str]]:
    got = sorted(set(ids))
    return [got[i : i + PAGE] for i in range(0, len(got), PAGE)]


async def _facts(conn: AsyncConnection, *where: Any) -> list[Fact]:
    return [fact_of(r) for r in (await conn.execute(select(ledger).where(*where))).all()]


async def records(conn: AsyncConnection, start: float, end: float) -> list[dict[str, Any]]:
    """Call records counted in [start - REACH, end)."""
    c = call_records.c
    q = select(call_records).where(c.arrived_at >= start - REACH - ARRIVAL, c.arrived_at < end)
    rows = [dict(r) for r in (await conn.execute(q)).mappings().all()]
    return [r for r in rows if start - REACH <= call_time(r) < end]


async def last_status(conn: AsyncConnection, before: float) -> dict[str, Fact]:
    """Each agent's last status fact before ``before``."""
    agent = ledger.c.data["agent"].as_string()
    latest = select(agent.label("agent"), func.max(ledger.c.at).label("at")).where(
        ledger.c.kind.in_(STATUS_KINDS), ledger.c.at < before).group_by(agent)  # fmt: skip
    wanted = {(r.agent, r.at) for r in (await conn.execute(latest)).all()}
    times = sorted({at for _, at in wanted})
    out: dict[str, Fact] = {}
    for i in range(0, len(times), PAGE):
        got = await _facts(conn, ledger.c.kind.in_(STATUS_KINDS), ledger.c.at.in_(times[i : i + PAGE]))
        for f in sorted(got, key=lambda f: (f.at, f.key)):  # the buckets' own order: the last one holds
            a = str(f.data.get("agent") or "")
            if (a, f.at) in wanted:
                out[a] = f
    return out


async def inputs(conn: AsyncConnection, start: float, end: float, before: Mapping[str, Fact] | None = None
                 ) -> tuple[list[dict[str, Any]], list[Fact], list[dict[str, Any]]]:  # fmt: skip
    """(records, facts, grades) to count [start, end) with ``reports.buckets.buckets`` over [start - REACH,
    end + REACH), keeping only the buckets of [start, end). ``before``: each agent's last status fact before
    ``start`` when the caller knows them (a rebuild going forward), else read."""
    recs = await records(conn, start, end)
    c = ledger.c
    facts = await _facts(conn, c.kind.in_(COUNTED), c.at >= start, c.at < end)
    facts += await _facts(conn, c.kind == "outbound.talk_end", c.at >= end, c.at < end + REACH)
    known = {str(r["call_id"]) for r in recs}
    connects = {f.call_id for f in facts if f.kind == "outbound.connect"}
    for page in _pages(known):
        facts += await _facts(conn, c.kind.in_(BY_CALL), c.call_id.in_(page))
    for page in _pages(connects):
        facts += await _facts(conn, c.kind == "outbound.verdict", c.call_id.in_(page), c.at < start)
    # the range's surveys of calls counted elsewhere are theirs (read above when theirs is in reach): left out
    unrecorded = c.call_id.not_in(select(call_records.c.call_id))
    facts = [f for f in facts if not (f.kind == "ivr.survey" and start <= f.at < end and f.call_id not in known)]
    facts += await _facts(conn, c.kind == "ivr.survey", c.at >= start, c.at < end, unrecorded)
    if before is None:
        before = await last_status(conn, start)
    facts += list(before.values())
    unique = {f.key: f for f in facts}
    g = grades.c
    rows: list[dict[str, Any]] = []
    for page in _pages(known):
        rows += [dict(r) for r in (await conn.execute(select(*GRADE_COLUMNS).where(g.call_id.in_(page)))).mappings()]
    q = select(*GRADE_COLUMNS).where(g.created_at >= start, g.created_at < end,
                                     g.call_id.not_in(select(call_records.c.call_id)))  # fmt: skip
    rows += [dict(r) for r in (await conn.execute(q)).mappings()]
    return recs, list(unique.values()), list({r["id"]: r for r in rows}.values())
