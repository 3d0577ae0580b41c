"""The ``lead_batches`` table and a batch's leads: a batch made at import, its quality read from the leads and
the ledger (``dialer.batches``), and its personal data destroyed with the figures kept."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.batches import FACT_KINDS, outcomes, quality
from dialer.leads import DIALING, PURGED, Forget, LeadStore
from engine.store.tables import dnc, lead_batches, leads

log = logging.getLogger("hotline.leads")
FactReader = Any  # the ledger's facts(call_id, kinds, since)


class BatchError(ValueError):
    """A batch that cannot be read or destroyed: the message says why."""


class BatchStore:
    def __init__(self, engine: AsyncEngine, forget: Forget | None = None) -> None:
        self.engine = engine
        self.forget = forget  # the customers' records forget the destroyed leads' dials (dialer.leads.forgetting)

    async def create(self, campaign: str, *, source: str, cost: int, team: str | None, file: str, now: float,
                     file_rows: int, valid: int, repeated: int) -> int:  # fmt: skip
        async with self.engine.begin() as conn:
            got = await conn.execute(lead_batches.insert().values(
                campaign=campaign, source=source[:120], cost=cost, team=team, file=file[:255], imported_at=now,
                file_rows=file_rows, valid=valid, repeated=repeated, already=0, imported=0).returning(
                lead_batches.c.id))  # fmt: skip
            return int(got.scalar_one())

    async def counted(self, batch: int, imported: int, already: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(lead_batches).where(lead_batches.c.id == batch)
                               .values(imported=imported, already=already))  # fmt: skip

    async def rows(self, campaign: str | None = None) -> list[dict[str, Any]]:
        q = select(lead_batches).order_by(lead_batches.c.id)
        if campaign is not None:
            q = q.where(lead_batches.c.campaign == campaign)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def get(self, batch: int) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(lead_batches).where(lead_batches.c.id == batch))).mappings().first()
        return dict(row) if row is not None else None

    async def figures(self, batch: dict[str, Any], facts: FactReader) -> dict[str, Any]:
        """The batch's quality now; a destroyed batch's as it was kept."""
        if batch["destroyed_at"] is not None:
            return dict(batch["figures"] or {})
        async with self.engine.connect() as conn:
            mine = (await conn.execute(select(leads.c.id, leads.c.attempts, leads.c.phone)
                                       .where(leads.c.batch == batch["id"]))).mappings().all()  # fmt: skip
            listed = select(func.count()).select_from(leads).where(
                leads.c.batch == batch["id"], leads.c.phone.in_(select(dnc.c.phone).where(
                    or_(dnc.c.campaign == "", dnc.c.campaign == batch["campaign"]))))  # fmt: skip
            on_dnc = int((await conn.execute(listed)).scalar_one())
        per_lead = outcomes(await facts(None, FACT_KINDS, batch["imported_at"]), [r["id"] for r in mine])
        return quality(batch, [dict(r) for r in mine], on_dnc, per_lead)

    async def destroy(self, batch_id: int, now: float, facts: FactReader) -> dict[str, Any]:
        """Destroy the personal data of the batch's leads (phone, name, extra columns) and keep its figures, in one
        transaction; the figures. BatchError when there is no such batch, it is destroyed already, or one of its
        leads is being dialed (then nothing is destroyed)."""
        batch = await self.get(batch_id)
        if batch is None:
            raise BatchError(f"no batch {batch_id}")
        if batch["destroyed_at"] is not None:
            raise BatchError(f"batch {batch_id} was destroyed already")
        figures = {**await self.figures(batch, facts), "destroyed_at": now}

        async def keep(conn: Any) -> None:
            # after the wipe, in its transaction: a lead the engine took for a dial meanwhile was left out of it
            left = (await conn.execute(select(func.count()).select_from(leads).where(
                leads.c.batch == batch_id, leads.c.status != PURGED))).scalar_one()  # fmt: skip
            if left:
                raise BatchError(f"batch {batch_id}: {left} lead(s) being dialed now: destroy it once they are done")
            await conn.execute(update(lead_batches).where(lead_batches.c.id == batch_id)
                               .values(figures=figures, destroyed_at=now))  # fmt: skip

        live = and_(leads.c.batch == batch_id, leads.c.status.not_in((PURGED, DIALING)))
        n = await LeadStore(self.engine, self.forget).wipe(batch["campaign"], live, now, then=keep)
        log.info("batch %d of campaign %s: personal data of %d lead(s) destroyed", batch_id, batch["campaign"], n)
        return figures
