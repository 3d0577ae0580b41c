"""The IVR's wiring: the composition root calls ``install`` to build the menu service and the degraded-call
counter on the engine's ports and to register their FastAGI routes and named tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from engine.app import Engine
from engine.dialplan import IVR_ROUTE, SURVEY_ROUTE, VOICEMAIL_ROUTE
from ivr.degraded import DegradedCounter
from ivr.places import places_for
from ivr.session import IvrService, Waiting
from ivr.settings import IvrSettings
from ivr.site_menu import SiteMenu


def install(engine: Engine, on_queued: Callable[[Waiting], Awaitable[None]]) -> IvrService:
    """The menu (``ivr``), the survey and the rule steps' voicemail on their routes; ``on_queued`` takes the
    callers the menu hands over. The menu's file watch (``ivr-menu-watch``) and the degraded-call count from
    Asterisk's CDR file (``ivr-degraded``) run as named tasks."""
    site = engine.site
    settings = IvrSettings.of(site["ivr"])
    ivr = IvrService(settings, SiteMenu.of(site, settings), places_for(settings, site["asterisk"]["lab"]),
                     ledger=engine, calls=engine, spawner=engine, clock=engine.clock, on_queued=on_queued)  # fmt: skip
    engine.route(IVR_ROUTE, ivr)
    engine.route(SURVEY_ROUTE, ivr.survey)
    engine.route(VOICEMAIL_ROUTE, ivr.voicemail)
    engine.features["ivr"] = ivr
    engine.feature_tasks.append(("ivr-menu-watch", ivr.watch))
    degraded = DegradedCounter(engine, engine.store, engine.clock, ivr.places.cdr)
    engine.feature_tasks.append(("ivr-degraded", degraded.run))
    engine.features["ivr-degraded"] = degraded
    return ivr
