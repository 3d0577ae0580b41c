"""The engine's HTTP app (Starlette): /metrics, and the web console's pages on the same app.

It is handed narrow objects, never the Engine, so each route states what it reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine.web.stream_guard import StreamGuard


def create_app(*, metrics: CollectorRegistry | None = None, routes: list[BaseRoute] | None = None,
               still_in: Callable[[Request], Awaitable[bool]] | None = None) -> Starlette:  # fmt: skip
    """``metrics``: the registry /metrics writes (no such route without one); ``routes``: more (pages);
    ``still_in``: whether a request's session is still good, asked while a page's event stream is open."""
    table: list[BaseRoute] = list(routes or [])
    if metrics is not None:
        registry = metrics

        async def scrape(request: Request) -> Response:
            # async, so it runs in the event loop between two updates of the tallies, not in a worker thread
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

        table.append(Route("/metrics", scrape, methods=["GET"]))
    middleware = [Middleware(StreamGuard, still_in=still_in)] if still_in is not None else []
    return Starlette(routes=table, middleware=middleware)
