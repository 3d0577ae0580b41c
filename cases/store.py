"""The ``cases`` table: each row written whole from its case's fold (migration 0016), read back for the
services, the command line and the reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cases.model import LIVE, Case
from engine.store.tables import cases


class CaseStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, rows: Iterable[Case]) -> None:
        """Replace each case's row with this one (a delete and an insert: the same on SQLite and PostgreSQL)."""
        rows = [c.as_row() for c in rows]
        if not rows:
            return
        async with self.engine.begin() as conn:
            await conn.execute(delete(cases).where(cases.c.id.in_([r["id"] for r in rows])))
            await conn.execute(cases.insert(), rows)

    async def replace_all(self, rows: Iterable[Case]) -> None:
        """The whole table as these rows (a rebuild from the ledger)."""
        rows = [c.as_row() for c in rows]
        async with self.engine.begin() as conn:
            await conn.execute(delete(cases))
            if rows:
                await conn.execute(cases.insert(), rows)

    async def get(self, case_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(cases).where(cases.c.id == case_id))).mappings().first()
        return dict(row) if row is not None else None

    async def rows(self, *, status: str = "", kind: str = "", owner: str = "", since: float | None = None,
                   until: float | None = None) -> list[dict[str, Any]]:  # fmt: skip
        q = select(cases).order_by(cases.c.opened_at, cases.c.id)
        if status:
            q = q.where(cases.c.status == status)
        if kind:
            q = q.where(cases.c.kind == kind)
        if owner:
            q = q.where(cases.c.owner == owner)
        if since is not None:  # what a range's report needs: opened before its end, and not settled before it
            q = q.where(or_(cases.c.resolved_at.is_(None), cases.c.resolved_at >= since, cases.c.due_at >= since))
        if until is not None:
            q = q.where(cases.c.opened_at < until)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def live(self, *, number: str = "", lead: str = "", call_id: str = "",
                   settled_since: float | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """The cases still owed to a customer (by number, lead or source call; all of them with no filter), and
        with ``settled_since`` those resolved since then too (a call about them again is a repeat contact)."""
        owed = cases.c.status.in_(LIVE)
        if settled_since is not None:
            owed = or_(owed, cases.c.resolved_at >= settled_since)
        q = select(cases).where(owed).order_by(cases.c.opened_at)
        if number:
            q = q.where(cases.c.number == number)
        if lead:
            q = q.where(cases.c.lead == lead)
        if call_id:
            q = q.where(cases.c.call_id == call_id)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def closed_before(self, at: float) -> list[dict[str, Any]]:
        """Closed cases whose personal data is still kept, closed before ``at``."""
        q = select(cases).where(cases.c.status == "closed", cases.c.closed_at < at, cases.c.purged_at.is_(None))
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]
