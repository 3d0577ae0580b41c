"""The dialer's wiring: the composition root calls ``install`` with the engine and what the dialer works with;
one runner per campaign of the site, each given the runtime's ports and its settings, and the dialer's hooks
(AMI frames, its task) registered here. The ``outbound`` AGI route is bound by the composition root with the
others (tests/test_dialplan_names.py reads them there)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from acd.board import Board
from dialer.dialing import DialPath, Recording
from dialer.lead_source import Leads, StoredLeads
from dialer.ports import DialerPorts
from dialer.runner import CampaignRunner
from dialer.services import Definitions, Dialer
from dialer.settings import MACHINE_LABEL, Campaign
from engine.app import Engine
from engine.ports import InboundView

log = logging.getLogger("hotline.dialer")


def install(engine: Engine, recorder: Recording | None = None, inbound: InboundView | None = None,
            synthetic: Callable[[], Leads] | None = None, board: Board | None = None) -> Dialer | None:  # fmt: skip
    """The site's dialer, wired to the engine (None: the site has no campaign). ``recorder`` records every
    conversation (the composition root passes the same recorder the ACD uses, so outbound recordings are
    finished and indexed alike); ``inbound`` is the ACD's view of hotline callers, for the pacer's blended
    floor; ``synthetic`` makes the simulator's lead list for campaigns with ``leads = "synthetic"``; ``board``
    the site's agent board, shared with the ACD."""
    dialer = build(engine, recorder, inbound, synthetic, board)
    if dialer is None:
        return None
    engine.on_events(DialPath.EVENTS, dialer.on_frame)
    engine.feature_tasks.append(("dialer", dialer.run))
    engine.features["dialer"] = dialer
    return dialer


def build(engine: Engine, recorder: Recording | None = None, inbound: InboundView | None = None,
          synthetic: Callable[[], Leads] | None = None, board: Board | None = None) -> Dialer | None:  # fmt: skip
    """One runner per campaign of the site, with its lead source; nothing registered."""
    site = engine.site
    ports = DialerPorts.of(engine)
    agents = {a.id: a for a in site.agents}
    sql = getattr(engine.store, "engine", None)
    runners = []
    for c in site.campaigns:
        if c.leads == "synthetic":
            if synthetic is None:
                raise ValueError(f"campaign {c.name}: synthetic leads come from the simulator only")
            leads: Leads = synthetic()
        else:
            if sql is None:
                raise ValueError(f"campaign {c.name}: stored leads need the SQL store")
            leads = StoredLeads(sql, c.name, c.team)
        if c.profile == "uk" and c.amd and c.mode != "preview":  # HUMAN comes 0.8 s after the greeting
            log.warning("campaign %s: UK rule with AMD on: a verdict after answer + 2.3 s means the abandon message "
                        "at once (PaceBench runs the UK profile with AMD off)", c.name)  # fmt: skip
        if not c.amd and c.mode != "preview" and MACHINE_LABEL not in c.dispositions.values():
            log.warning("campaign %s: AMD off and no disposition labelled %r: every machine hung up on counts "
                        "as a person, so the pacer spends less of its budget", c.name, MACHINE_LABEL)  # fmt: skip
        runners.append(CampaignRunner(ports, c, agents, site["site"]["timezone"], leads, recorder=recorder,
                                      inbound=inbound, board=board))  # fmt: skip
    return Dialer(runners, engine.clock, _definitions(engine.store)) if runners else None


def _definitions(store: Any) -> Definitions | None:
    """Campaign definition versions go to the SQL store only (the in-memory one keeps none)."""
    sql = getattr(store, "engine", None)
    if sql is None:
        return None

    async def record(campaigns: list[Campaign], now: float) -> None:
        from dialer.definitions import CampaignVersions

        await store.write(CampaignVersions(sql).record(campaigns, now))

    return record
