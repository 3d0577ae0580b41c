"""Campaign definitions in the store: which rules a campaign ran under, as an append-only history.

The site file is the source of a campaign's definition, but it changes; the calls, outcomes and leads in
SQL must stay explainable afterwards. So when the engine starts with campaigns it stores each one's
definition (canonical JSON and its SHA-256) unless that exact version is already there. Rows are never
updated or deleted: a version is in force from its ``first_seen`` until the next version's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.config import Campaign
from engine.store.tables import campaign_versions

log = logging.getLogger("hotline.dialer")


@dataclass(frozen=True)
class Version:
    campaign: str
    hash: str
    first_seen: float
    definition: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """What a report shows of it (the full definition stays in the store)."""
        return {"hash": self.hash, "first_seen": round(self.first_seen, 3)}


def definition(c: Campaign) -> dict[str, Any]:
    """The campaign's full definition as JSON-ready data (tuples as lists), keys in a fixed order."""
    data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(c), sort_keys=True))
    return data


def definition_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: the same definition always gives the same hash, whatever the key order
    or the layout of the site file."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class CampaignVersions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, campaigns: Iterable[Campaign], now: float) -> list[tuple[str, str, bool]]:
        """Store each campaign's definition unless that version is there already. Returns (campaign, hash,
        newly stored) per campaign."""
        ins = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        out = []
        async with self.engine.begin() as conn:
            for c in campaigns:
                data = definition(c)
                digest = definition_hash(data)
                stmt = (
                    ins(campaign_versions)
                    .values(campaign=c.name, hash=digest, definition=data, first_seen=now)
                    .on_conflict_do_nothing(index_elements=["campaign", "hash"])  # append-only: never an update
                )
                res = await conn.execute(stmt)
                out.append((c.name, digest, bool(res.rowcount)))
        for name, digest, new in out:
            if new:
                log.info("campaign %s: definition version %s stored", name, digest[:12])
        return out

    async def versions(self, campaign: str | None = None) -> list[Version]:
        """Stored versions, oldest first."""
        q = select(campaign_versions).order_by(campaign_versions.c.first_seen, campaign_versions.c.id)
        if campaign is not None:
            q = q.where(campaign_versions.c.campaign == campaign)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return [Version(r["campaign"], r["hash"], float(r["first_seen"]), dict(r["definition"])) for r in rows]
