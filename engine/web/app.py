"""The engine's HTTP app (Starlette): today /metrics; the web console mounts its pages on the same app.

It is handed narrow objects, never the Engine, so each route states what it reads.
"""

from __future__ import annotations

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route


def create_app(*, metrics: CollectorRegistry | None = None, routes: list[BaseRoute] | None = None) -> Starlette:
    """``metrics``: the registry /metrics writes (no such route without one); ``routes``: more (pages)."""
    table: list[BaseRoute] = list(routes or [])
    if metrics is not None:
        registry = metrics

        async def scrape(request: Request) -> Response:
            # async, so it runs in the event loop between two updates of the tallies, not in a worker thread
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

        table.append(Route("/metrics", scrape, methods=["GET"]))
    return Starlette(routes=table)
