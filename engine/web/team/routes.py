"""The team page's routes: the lead's own team (/team), any team for those the policy lets see it
(/team/{name}), and its event stream (/team/events?team=NAME).

The page's buttons post to the console's /api/action (engine/web/auth.py), so every action goes through the
service API and its policy like a feature code does; this module only shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from engine.config_agents import Agent
from engine.live.bus import Bus
from engine.web.actor import Gate, Visible, Who
from engine.web.i18n import pick_language
from engine.web.team.alerts import AlertBook
from engine.web.team.stream import events, team_filter
from engine.web.team.texts import TEXTS
from engine.web.wallboard.routes import script_json, templates
from engine.web.wallboard.settings import WallboardSettings

Roster = Mapping[str, Mapping[str, str]]  # team -> agent id -> name
Sample = Callable[[str], Awaitable[list[dict[str, Any]]]]  # team -> today's picks (time, length, risks, graded)


def rosters(agents: Iterable[Agent]) -> dict[str, dict[str, str]]:
    """Each team (an agent group of the site) and its agents' names, by id."""
    out: dict[str, dict[str, str]] = {}
    for a in agents:
        for g in a.groups:
            out.setdefault(g, {})[a.id] = a.name
    return out


def team_routes(bus: Bus, now: Callable[[], float], settings: WallboardSettings, timezone: str, roster: Roster, *,
                who: Who, gate: Gate, visible: Visible, reasons: Sequence[str] = (),
                sample: Sample | None = None, queue_limit: int = 500) -> list[BaseRoute]:  # fmt: skip
    """``now``: the engine's clock; ``reasons``: pause reasons to offer (the lead may type another); ``sample``:
    today's calls to score of a team's agents (none: no section)."""
    clients = [0]

    async def render(request: Request, team: str) -> Response:
        lang = pick_language(request.headers.get("accept-language", ""))
        picks = await sample(team) if sample is not None and team else None
        t = TEXTS[lang]
        names = dict(roster.get(team, {}))
        boot = {"texts": t, "thresholds": settings.as_dict(), "timezone": timezone, "lang": lang, "team": team,
                "agents": names, "reasons": list(reasons)}  # fmt: skip
        title = t["team_of"].format(team=team) if team else t["teams"]
        return templates.TemplateResponse(request, "team.html", {
            "t": t, "lang": "zh-CN" if lang == "zh" else "en", "team": team, "title": title,
            "teams": sorted(roster), "agents": names, "reasons": reasons, "boot": script_json(boot),
            "sample": picks})  # fmt: skip

    def unknown(team: str, json: bool) -> Response:
        why = f"no team {team!r}: not a group of the site's agents"
        if json:
            return JSONResponse({"ok": False, "reason": why}, status_code=404)
        return HTMLResponse(f'<!doctype html><html lang="en"><meta charset="utf-8"><title>hotline: no such team'
                            f'</title><main><h1>No such team</h1><p role="alert">{escape(why)}</p>'
                            f'<p><a href="/team">Teams</a></p></main></html>', status_code=404)  # fmt: skip

    async def own(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        team = min(actor.teams) if actor.teams else ""  # a lead leads one team; others see the list of teams
        allowed = await gate(request, "team", team)
        if isinstance(allowed, Response):
            return allowed
        return await render(request, team)

    async def one(request: Request) -> Response:
        team = request.path_params["name"]
        actor = await gate(request, "team", team)
        if isinstance(actor, Response):
            return actor
        return await render(request, team) if team in roster else unknown(team, json=False)

    async def stream(request: Request) -> Response:
        team = request.query_params.get("team", "")
        actor = await gate(request, "team", team)
        if isinstance(actor, Response):
            return actor
        if team not in roster:
            return unknown(team, json=True)
        clients[0] += 1
        sub = bus.subscribe(queue_limit, name=f"team-{team}-{clients[0]}")
        keep = team_filter(frozenset(roster[team]), lambda c: visible(actor, c), team)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(sub, now, keep, AlertBook(settings)), media_type="text/event-stream",
                                 headers=headers)  # fmt: skip

    return [Route("/team", own, methods=["GET"]), Route("/team/events", stream, methods=["GET"]),
            Route("/team/{name}", one, methods=["GET"])]  # fmt: skip
