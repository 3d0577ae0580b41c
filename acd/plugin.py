"""The ACD's wiring, called by the composition root: builds the dispatcher on the engine's ports, hooks it to
the AMI events, the resyncs and the ``queue-callback`` FastAGI route, keeps the always-on sessions of agents
outside campaigns, and starts its tasks. Returns the ACD's services and its view for the dialer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from acd.board import Board
from acd.connectors import Recording
from acd.dispatcher import Dispatcher
from acd.inbound_view import AcdInbound
from acd.queue_log import QueueLog
from acd.services import AcdServices
from acd.sessions import SessionKeeper
from acd.settings import HotlineSettings
from engine.app import Engine
from engine.config import Site
from engine.dialplan import QUEUE_CALLBACK_ROUTE


@dataclass(frozen=True)
class Acd:
    services: AcdServices  # the public operations (engine.features["acd"])
    inbound: AcdInbound  # hotline callers as a blended floor's dialer sees them


def queue_log_path(site: Site) -> Path | None:
    qlog = site["store"]["queue_log_file"]
    return Path(qlog).expanduser() if qlog else None


def install(engine: Engine, site: Site, settings: HotlineSettings, recorder: Recording, board: Board) -> Acd:
    """``settings``: the site's ``[hotline]``; ``board``: the agents' board, shared with the dialer."""
    dispatcher = Dispatcher(actions=engine, calls=engine, ledger=engine, records=engine.store, spawner=engine,
                            clock=engine.clock, settings=settings, agents=site.agents, services=site.services,
                            board=board, recorder=recorder,
                            queue_log=QueueLog(queue_log_path(site), engine.store))  # fmt: skip
    services = AcdServices(dispatcher, engine, engine, engine, engine.clock, site.agents)
    engine.on_events(Dispatcher.EVENTS, dispatcher.on_frame)
    engine.resynced_hooks.append(dispatcher.on_resynced)
    engine.route(QUEUE_CALLBACK_ROUTE, services.queue_callback)
    engine.feature_tasks.append(("acd", dispatcher.run))
    engine.features["acd"] = services
    in_campaigns = {a for c in site.campaigns for a in c.agents}
    always_on = [a for a in site.agents if a.always_on and a.id not in in_campaigns]
    if always_on:
        keeper = SessionKeeper.for_agents(engine, engine, engine, engine.clock, board, always_on, settings.number,
                                          dispatcher.agents.logged_in)  # fmt: skip
        services.use_keeper(keeper)  # callers join these agents' open calls, without ringing
        engine.feature_tasks.append(("acd-sessions", keeper.run))
    # the dialer's view of hotline callers (a blended floor): arrivals counted at the IVR's hand-over
    return Acd(services, AcdInbound(dispatcher.router, settings.service, engine.clock))
