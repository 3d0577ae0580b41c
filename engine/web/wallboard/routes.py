"""The wallboard's routes: the page (/wallboard) and its event stream (/wallboard/events).

Both ask the ``gate`` first (engine/web/actor.py: signed in, and the policy lets them see the wallboard) and
stream only what ``visible`` lets that person see (a team lead: the agents of its teams).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from engine.live.bus import Bus
from engine.policy import Role
from engine.web.actor import Gate, Visible
from engine.web.i18n import pick_language
from engine.web.wallboard.settings import WallboardSettings
from engine.web.wallboard.stream import events
from engine.web.wallboard.texts import TEXTS

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(WEB / "templates"))


def script_json(value: object) -> Markup:
    """JSON to put inside a <script> element: no "</script>" can end it early."""
    return Markup(json.dumps(value, ensure_ascii=False).replace("<", "\\u003c"))


def static_route() -> BaseRoute:
    """The console's hand-written scripts and style sheet (no build step)."""
    return Mount("/static", app=StaticFiles(directory=str(WEB / "static")), name="static")


def wallboard_routes(bus: Bus, now: Callable[[], float], settings: WallboardSettings, timezone: str, *,
                     gate: Gate, visible: Visible, queue_limit: int = 500) -> list[BaseRoute]:  # fmt: skip
    """``now``: the engine's clock; ``queue_limit``: changes a browser may lag behind before it is handed a
    fresh snapshot instead."""
    clients = [0]

    async def page(request: Request) -> Response:
        who = await gate(request, "wallboard", "")
        if isinstance(who, Response):
            return who
        lang = pick_language(request.headers.get("accept-language", ""))
        boot = {"texts": TEXTS[lang], "thresholds": settings.as_dict(), "timezone": timezone, "lang": lang}
        return templates.TemplateResponse(request, "wallboard.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "boot": script_json(boot),
            "users_link": who.role is Role.ADMIN})  # fmt: skip

    async def stream(request: Request) -> Response:
        actor = await gate(request, "wallboard", "")
        if isinstance(actor, Response):
            return actor
        clients[0] += 1
        sub = bus.subscribe(queue_limit, name=f"wallboard-{clients[0]}")
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(sub, now, actor, visible), media_type="text/event-stream", headers=headers)

    return [Route("/wallboard", page, methods=["GET"]), Route("/wallboard/events", stream, methods=["GET"])]
