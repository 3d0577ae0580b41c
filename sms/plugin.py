"""SMS's wiring: the composition root's HTTP listener serves the gateway's callbacks when the site names a
gateway (``[sms] gateway``); the send command builds its ``Outbox`` from the same settings."""

from __future__ import annotations

from starlette.routing import BaseRoute

from engine.app import Engine
from sms.routes import sms_routes
from sms.settings import SmsSettings


def callback_routes(engine: Engine) -> list[BaseRoute]:
    site = engine.site
    if not site["sms"]["gateway"]:
        return []
    rules = SmsSettings.of(site["sms"], site.path.parent)
    return sms_routes(rules.token, engine, engine.clock.now, rules.opt_out_words, site["hotline"]["region"])
