"""MQTT out's wiring: the composition root calls ``install`` when the site's ``[mqtt] url`` is set."""

from __future__ import annotations

import os

from engine.app import Engine
from engine.mqtt.out import MqttOut
from engine.mqtt.settings import parse_url, topic_prefix


def install(engine: Engine) -> MqttOut:
    """Publish ``engine.bus`` to the site's broker from a named feature task (``mqtt-out``)."""
    site = engine.site
    cfg = site["mqtt"]
    name = site["site"]["name"]
    out = MqttOut(engine.bus, parse_url(cfg["url"]), topic_prefix(cfg, name), engine.clock.now,
                  client_id=f"hotline-{name}-{os.getpid()}")  # fmt: skip
    engine.feature_tasks.append(("mqtt-out", out.run))
    engine.features["mqtt"] = out
    return out
