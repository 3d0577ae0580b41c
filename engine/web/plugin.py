"""The HTTP listener's wiring: the composition root calls ``install`` when the site has an ``[http] listen``."""

from __future__ import annotations

from engine.app import Engine
from engine.live.metrics import EngineMetrics
from engine.store.stats import targets_of
from engine.web.app import create_app
from engine.web.server import HttpServer
from engine.web.settings import HttpSettings


def install(engine: Engine, settings: HttpSettings, setting: str = "http.listen") -> HttpServer:
    """/metrics over the engine's bus and call records, served on ``settings.listen`` (bound now: HttpListenError
    names ``setting`` when it cannot be) by the named task ``http``."""
    metrics = EngineMetrics(engine.bus, targets_of(engine.site))
    engine.record_hooks.append(metrics.on_record)
    engine.frame_hooks.append(metrics.on_frame)
    host, port = settings.address()
    server = HttpServer(create_app(metrics=metrics.registry), host, port, setting)
    server.bind()
    engine.feature_tasks.append(("http", server.serve))
    engine.features["metrics"] = metrics
    engine.features["http"] = server
    return server
