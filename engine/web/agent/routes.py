"""The agent page's routes: the agent's own page (/agent), another agent's (/agent/{id}) and the stream of one
agent (/agent/events?agent=ID).

Each asks the ``gate`` with the policy's view ``agent`` and the agent's id: an agent sees its own page only, a
team lead its teams' agents, QA, a manager and an admin any (engine/policy.py ``view_refusal``); a refusal is a
403 saying why. The buttons post to the console's /api/action, so the service API decides and records each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from engine.live.bus import Bus
from engine.web.actor import Gate, Visible, Who
from engine.web.agent.desk import Desk
from engine.web.agent.roster import Roster
from engine.web.agent.stream import FactReader, PopLookup, desk_events
from engine.web.agent.texts import TEXTS
from engine.web.i18n import pick_language

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(WEB / "templates"))


def _script_json(value: object) -> Markup:
    """JSON to put inside a <script> element: no "</script>" can end it early."""
    return Markup(json.dumps(value, ensure_ascii=False).replace("<", "\\u003c"))


def _no_page(text: str) -> Response:
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>hotline: no such page</title></head>
<body><main><h1>No such page</h1><p role="alert">{escape(text)}</p></main></body></html>""", status_code=404)


def agent_routes(bus: Bus, now: Callable[[], float], roster: Roster, read: FactReader, timezone: str, *,
                 who: Who, gate: Gate, visible: Visible, queue_limit: int = 500,
                 fax: bool = False, pop: PopLookup | None = None,
                 products: tuple[str, ...] | None = None, kb: bool = False) -> list[BaseRoute]:  # fmt: skip
    """``now``: the engine's clock; ``read``: the ledger's facts (a call's, or recent ones of some kinds);
    ``who``: the signed-in actor, for the page of one's own; ``queue_limit``: changes a page may lag behind
    before it is handed a fresh snapshot instead; ``fax``: the site has fax lines (the agent's own page offers
    to send a PDF); ``pop``: the site's screen pop ([crm] screen_pop), looked up for each call offered;
    ``products``: the engine takes orders (a sale disposition's form), naming these products (empty: any); ``kb``:
    the site keeps a knowledge base (the page searches it)."""
    clients = [0]

    async def own(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        if actor.id not in roster.agents:
            return _no_page(f"{actor.id} is no agent of the site: open /agent/<id> for an agent's page")
        return await page(request, actor.id)

    async def other(request: Request) -> Response:
        return await page(request, request.path_params["agent_id"])

    async def page(request: Request, agent_id: str) -> Response:
        viewer = await gate(request, "agent", agent_id)
        if isinstance(viewer, Response):
            return viewer
        info = roster.agents.get(agent_id)
        if info is None:
            return _no_page(f"no agent {agent_id!r} in the site file")
        lang = pick_language(request.headers.get("accept-language", ""))
        # the buttons are the agent's own actions (the policy's OWN): shown to the agent itself only
        boot = {"texts": TEXTS[lang], "agent": info.as_dict(), "own": viewer.id == agent_id,
                "pause_reasons": list(roster.pause_reasons), "timezone": timezone, "lang": lang}  # fmt: skip
        return templates.TemplateResponse(request, "agent.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "agent": info, "own": boot["own"],
            "reasons": roster.pause_reasons, "boot": _script_json(boot), "fax": fax,
            "sale": products is not None and any(label == "sale" for _, label in info.dispositions),
            "products": products or (), "kb": kb})  # fmt: skip

    async def stream(request: Request) -> Response:
        agent_id = request.query_params.get("agent", "")
        if not agent_id:
            actor = await who(request)
            if isinstance(actor, Response):
                return actor
            agent_id = actor.id
        viewer = await gate(request, "agent", agent_id)
        if isinstance(viewer, Response):
            return viewer
        info = roster.agents.get(agent_id)
        if info is None:
            return JSONResponse({"ok": False, "reason": f"no agent {agent_id!r} in the site file"}, status_code=404)
        clients[0] += 1
        sub = bus.subscribe(queue_limit, name=f"agent-{agent_id}-{clients[0]}")
        body = desk_events(sub, Desk(agent_id), now, read, viewer, visible, recall=bool(info.campaign),
                           pop=pop)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(body, media_type="text/event-stream", headers=headers)

    # /agent/events before /agent/{agent_id}: the stream's path is not an agent's page
    return [Route("/agent", own, methods=["GET"]), Route("/agent/events", stream, methods=["GET"]),
            Route("/agent/{agent_id}", other, methods=["GET"])]  # fmt: skip
