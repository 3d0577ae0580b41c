"""The recordings index in SQL: rows written from the ledger (``recording.catalog``), read by the CLI and pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.store.tables import recordings

COLUMNS = [c.name for c in recordings.columns]


class RecordingIndex:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, rows: list[dict[str, Any]]) -> None:
        """Write rows whole (a row derived again replaces the old one: the ledger is the truth). An upsert: two
        writers deriving the same call at once (the fact hook and a purge) must not collide on its id."""
        if not rows:
            return
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        values = [{k: r.get(k) for k in COLUMNS} for r in rows]
        async with self.engine.begin() as conn:
            for v in values:
                stmt = insert(recordings).values(**v)
                await conn.execute(stmt.on_conflict_do_update(index_elements=["id"],
                                                              set_={k: stmt.excluded[k] for k in COLUMNS if k != "id"}))

    async def call_ids(self) -> set[str]:
        async with self.engine.connect() as conn:
            return set((await conn.execute(select(recordings.c.call_id))).scalars())

    async def rows(self, *, since: float | None = None, until: float | None = None, kind: str = "",
                   agent: str = "", call_id: str = "", purged: bool | None = None) -> list[dict[str, Any]]:  # fmt: skip
        q = select(recordings).order_by(recordings.c.started_at, recordings.c.id)
        if since is not None:
            q = q.where(recordings.c.started_at >= since)
        if until is not None:
            q = q.where(recordings.c.started_at < until)
        if kind:
            q = q.where(recordings.c.kind == kind)
        if agent:
            q = q.where(recordings.c.agent == agent)
        if call_id:
            q = q.where(recordings.c.call_id == call_id)
        if purged is not None:
            q = q.where(recordings.c.purged_at.is_not(None) if purged else recordings.c.purged_at.is_(None))
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def get(self, rec_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(recordings).where(recordings.c.id == rec_id))).mappings().first()
        return dict(row) if row is not None else None

    async def ids(self) -> set[str]:
        async with self.engine.connect() as conn:
            return set((await conn.execute(select(recordings.c.id))).scalars())
