"""Cases' wiring: the composition root calls ``install`` to open and link cases from the engine's facts, check
for overdue cases on the engine's clock and purge closed cases' personal data by the ``[cases]`` rules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cases.services import DAY, Cases
from cases.settings import CasesSettings
from cases.store import CaseStore
from engine.app import Engine
from engine.clock import Clock
from engine.config import Site
from engine.live.bus import Change
from engine.ports import Ledger
from engine.store.tables import leads

log = logging.getLogger("hotline.cases")
CATCH_UP_DAYS = 7.0  # facts read again at start: an engine stopped longer than this opens no case for them
PURGE_EVERY = 3600.0  # seconds between retention passes (engine time)


def cases_of(site: Site, ledger: Ledger, sql: AsyncEngine, publish: Callable[[Change], Any] | None = None) -> Cases:
    """The cases service of a site on its store (the engine's, or the command line's own)."""
    teams = {a.id: (a.groups[0] if a.groups else "") for a in site.agents}  # the first team named: the agent's own

    async def lead_phone(lead: str) -> str:
        if not lead.isdigit():
            return ""
        async with sql.connect() as conn:
            phone = (await conn.execute(select(leads.c.phone).where(leads.c.id == int(lead)))).scalar()
        return str(phone or "")

    rules = CasesSettings.of(site["cases"], site["site"]["timezone"])
    cases = Cases(ledger=ledger, store=CaseStore(sql), rules=rules, teams=teams, lead_phone=lead_phone,
                  publish=publish, region=site["hotline"]["region"])  # fmt: skip
    cases.fax_numbers = frozenset(str(n).lstrip("+") for n in site["fax"]["numbers"])
    return cases


async def watch(cases: Cases, clock: Clock) -> None:
    """Named task: catch up with the ledger, tell the bus of the overdue cases, then check for newly overdue
    cases every ``overdue_every`` seconds and purge by rule every hour, on the engine's clock."""
    try:
        await cases.catch_up(clock.now() - CATCH_UP_DAYS * DAY)
        await cases.announce(clock.now())
    except Exception:  # noqa: BLE001 - the calls go on without cases; the next start catches up again
        log.exception("cases: catching up with the ledger failed")
    purged_at = float("-inf")
    while True:
        try:
            await cases.check_overdue(clock.now())
            if clock.now() - purged_at >= PURGE_EVERY:
                await cases.purge(clock.now())
                purged_at = clock.now()
        except Exception:  # noqa: BLE001 - a store error must not stop the engine's calls; next round again
            log.exception("cases: overdue check failed")
        await clock.sleep(cases.rules.overdue_every)


def install(engine: Engine) -> Cases | None:
    sql = getattr(engine.store, "engine", None)  # the virtual PBX's in-memory store keeps no tables
    if sql is None:
        return None

    def publish(change: Change) -> None:
        engine.bus.publish(change)

    cases = cases_of(engine.site, engine, sql, publish)
    engine.features["cases"] = cases
    engine.fact_hooks.append(cases.on_facts(engine.spawn))
    engine.feature_tasks.append(("cases", lambda: watch(cases, engine.clock)))
    return cases
