"""What the reports read from the store: call records, the facts the buckets count, the agents' status before a
range, QA grades. Reads only; works on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.model.facts import Fact
from engine.store.tables import call_records, grades, ledger
from reports.buckets import FACT_KINDS, STATUS_KINDS

# a call counts when it entered the queue, which is after it arrived: records that arrived this long before the
# range are read too, so a caller who spent long in the menu is not lost at the range's start
ARRIVAL_MARGIN = 3 * 3600.0


def _fact(r: Any) -> Fact:
    return Fact(r["kind"], r["at"], r["call_id"], r["uniqueid"], r["key"], dict(r["data"]))


class ReportStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def records(self, start: float, end: float) -> list[dict[str, Any]]:
        c = call_records.c
        since = start - ARRIVAL_MARGIN
        q = select(call_records).where(c.arrived_at >= since, c.arrived_at < end).order_by(c.arrived_at)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def abandoned(self, start: float, end: float) -> list[dict[str, Any]]:
        """``records`` with outcome abandoned only: a year's services report lists its abandoned calls, and reading
        every answered record of the year for them cost more than the rest of the report."""
        c = call_records.c
        q = (select(call_records).where(c.arrived_at >= start - ARRIVAL_MARGIN, c.arrived_at < end,
                                        c.outcome == "abandoned").order_by(c.arrived_at))  # fmt: skip
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def facts(self, start: float, end: float) -> list[Fact]:
        """The facts of ``[start, end)`` the buckets count, and each agent's last status fact before ``start``."""
        q = select(ledger).where(ledger.c.kind.in_(FACT_KINDS), ledger.c.at >= start, ledger.c.at < end)
        before = select(ledger).where(ledger.c.kind.in_(STATUS_KINDS), ledger.c.at < start).order_by(ledger.c.at)
        async with self.engine.connect() as conn:
            got = [_fact(r) for r in (await conn.execute(q)).mappings().all()]
            last: dict[str, Fact] = {}
            for r in (await conn.execute(before)).mappings().all():
                f = _fact(r)
                last[str(f.data.get("agent") or "")] = f
        return [*last.values(), *got]

    async def newest(self, before: float) -> float | None:
        """The time of the ledger's newest fact before ``before``: what happened after it is not known yet. The
        store's own ``store.created`` and the console users' changes (``user.*``, written by `hotline users` on the
        wall clock, also while the engine is down) are left out: they do not say that the engine ran."""
        q = select(func.max(ledger.c.at)).where(ledger.c.at < before, ledger.c.kind != "store.created",
                                                ledger.c.kind.not_like("user.%"))  # fmt: skip
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).scalar()

    async def grades(self, start: float) -> list[dict[str, Any]]:
        """Grades made since ``start`` (a call is graded after it happened), each with ``recorded``: whether its
        call has a call record (then the grade counts in that call's interval, wherever it lies)."""
        q = (select(grades.c.id, grades.c.call_id, grades.c.agent, grades.c.score, grades.c.supersedes,
                    grades.c.created_at, call_records.c.call_id.is_not(None).label("recorded"))
             .select_from(grades.outerjoin(call_records, call_records.c.call_id == grades.c.call_id))
             .where(grades.c.created_at >= start))  # fmt: skip
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]
