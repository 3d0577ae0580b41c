"""Who a batch goes to: a campaign's leads in the store, or a lead file of the same form (a ``phone`` column,
then ``name``, ``team``, ``tz`` and any others, each a field a template may use)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.lead_file import BadRow, parse_lead_file
from engine.store.tables import leads
from sms.services import Recipient

PAGE = 1000


def _fields(name: str, team: str | None, extra: dict[str, Any] | None) -> dict[str, str]:
    out = {k: str(v) for k, v in (extra or {}).items() if v is not None}
    out.update(name=name or "", team=team or "")
    return out


def from_file(path: str, region: str) -> tuple[list[Recipient], list[BadRow]]:
    """The file's good rows, and its bad rows with their line numbers (LeadFileError: the file is unusable)."""
    good, bad = parse_lead_file(path, region)
    return [Recipient(r.phone, _fields(r.name, r.team, r.extra), r.tz) for r in good], bad


async def from_leads(sql: AsyncEngine, campaign: str) -> AsyncIterator[Recipient]:
    """The campaign's leads that still have a number (a purged lead has none), in the order they came in."""
    last = 0
    while True:
        q = (select(leads.c.id, leads.c.phone, leads.c.name, leads.c.team, leads.c.tz, leads.c.extra)
             .where(leads.c.campaign == campaign, leads.c.phone.is_not(None), leads.c.id > last)
             .order_by(leads.c.id).limit(PAGE))  # fmt: skip
        async with sql.connect() as conn:
            rows = (await conn.execute(q)).all()
        if not rows:
            return
        for r in rows:
            yield Recipient(r.phone, _fields(r.name, r.team, r.extra), r.tz or "")
        last = rows[-1].id
