"""The sales feature's wiring: orders taken with an outbound sale (the dialer's ``place_order``), corrected by team
leads, read by the /sales page and ``hotline sales``; the sales report reads the same facts."""

from __future__ import annotations

from typing import Any

from engine.app import Engine
from sales.services import Sales
from sales.settings import SalesSettings


def sales_of(site: Any, read: Any, record: Any, now: Any, policy: Any) -> Sales:
    teams = {a.id: a.groups[0] for a in site.agents if a.groups}
    campaign_teams = {c.name: c.team for c in site.campaigns if c.team}
    return Sales(SalesSettings.of(site["sales"]), read, record, now, policy, teams, campaign_teams)


def install(engine: Engine, dialer: Any) -> Sales:
    """Orders are ledger facts: any store keeps them (the virtual PBX's in-memory one too)."""
    sales = sales_of(engine.site, engine.facts, engine.record, engine.clock.now,
                     lambda: engine.features["api"].policy)  # fmt: skip
    engine.features["sales"] = sales
    if dialer is not None:
        dialer.place_order = sales.place
    return sales
