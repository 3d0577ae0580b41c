"""The HTTP listener's wiring: the composition root calls ``install`` when the site has an ``[http] listen``."""

from __future__ import annotations

from engine.app import Engine
from engine.live.metrics import EngineMetrics
from engine.store.stats import targets_of
from engine.web.app import create_app
from engine.web.server import HttpServer
from engine.web.settings import HttpSettings
from engine.web.wallboard.routes import static_route, wallboard_routes
from engine.web.wallboard.settings import WallboardSettings


def install(engine: Engine, settings: HttpSettings, setting: str = "http.listen") -> HttpServer:
    """/metrics over the engine's bus and call records, and the wallboard over the bus, served on
    ``settings.listen`` (bound now: HttpListenError names ``setting`` when it cannot be) by the named task
    ``http``."""
    metrics = EngineMetrics(engine.bus, targets_of(engine.site))
    engine.record_hooks.append(metrics.on_record)
    engine.frame_hooks.append(metrics.on_frame)
    host, port = settings.address()
    board = wallboard_routes(engine.bus, engine.clock.now, WallboardSettings.of(engine.site["wallboard"]),
                             engine.site["site"]["timezone"])  # fmt: skip
    server = HttpServer(create_app(metrics=metrics.registry, routes=[*board, static_route()]), host, port, setting)
    server.bind()
    engine.feature_tasks.append(("http", server.serve))
    engine.features["metrics"] = metrics
    engine.features["http"] = server
    return server
