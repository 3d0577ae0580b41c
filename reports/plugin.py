"""The reports' wiring: the composition root calls ``install`` to keep the rollups (``reports.rollups``) up to date
while the engine runs: a refresh every ``[reports] rollup_every`` seconds of the engine's clock, and once more
when it stops, so a report read afterwards finds what the engine wrote last already counted."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from engine.app import Engine
from engine.clock import Clock
from engine.config import Site
from engine.store.store import Store
from reports.rollup_query import RollupQuery
from reports.rollups import Rollups
from reports.services import rules_of
from reports.settings import ReportSettings

log = logging.getLogger("hotline.reports")


def rollups_of(site: Site, sql: AsyncEngine) -> Rollups:
    """The rollups of a site on its store (the engine's, or a command's own)."""
    return Rollups(sql, rules_of(site), site["site"]["timezone"])


def query_of(site: Site, sql: AsyncEngine) -> RollupQuery:
    return RollupQuery(sql, site["site"]["timezone"], site["hotline"]["service"])


async def _refresh(rollups: Rollups) -> None:
    try:
        n = await rollups.refresh()
        log.debug("rollups: %d interval(s) counted", n)
    except Exception:  # noqa: BLE001 - a store error must not stop the engine's calls; the next round tries again
        log.exception("rollups refresh failed")


async def refresh_loop(rollups: Rollups, clock: Clock, every: float, store: Store) -> None:
    """Named task: refresh now and every ``every`` seconds (engine time); once more at stop."""
    try:
        while True:
            await _refresh(rollups)
            await clock.sleep(every)
    finally:
        # run to its end even as the engine stops (``Store.close`` waits for it): the last facts are counted
        await store.write(_refresh(rollups))


def install(engine: Engine) -> Rollups | None:
    settings = ReportSettings.of(engine.site["reports"])
    sql = getattr(engine.store, "engine", None)  # the virtual PBX's in-memory store keeps no rollups
    if sql is None or not settings.rollups:
        return None
    rollups = rollups_of(engine.site, sql)
    engine.features["rollups"] = rollups
    engine.feature_tasks.append(("report-rollups",
                                 lambda: refresh_loop(rollups, engine.clock, settings.rollup_every, engine.store)))
    return rollups
