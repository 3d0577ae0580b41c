"""The report pages: ``/reports`` lists the reports this person may read; ``/reports/{name}`` is a filter form and
the report as tables, each figure's formula under them, the abandoned calls and the plot; its downloads are
``/reports/{name}.json|csv|xlsx|png`` with the same query string (``from``, ``to``, ``interval``, ``team``,
``agent``, ``service``).

Every request reads who asks, fills the defaults of query.py and asks the policy's ``report_refusal`` with the team
and agent it is for: a refusal is a 403 with the policy's reason and an ``action`` fact (the console's
``refuse``, as every refused page is recorded), a wrong field a 400 naming it. The report is ``Answer``
(reports.services.Reports.report): this module only reads the query and shows the answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from engine.config import Site
from engine.policy import Actor, Policy
from engine.web.actor import Who
from engine.web.forms import refusal_page
from engine.web.i18n import pick_language
from engine.web.qa.routes import message_page, templates
from engine.web.reports.files import MEDIA, as_bytes, file_name
from engine.web.reports.query import FIELDS, BadField, Refusal, field_of, query_of, query_string
from engine.web.reports.texts import TEXTS
from engine.web.reports.view import page_view
from reports.export import PLOTS
from reports.fold import INTERVALS
from reports.services import REPORTS, Query, QueryError, teams_of

Answer = Callable[[Query], Awaitable[dict[str, Any]]]
Today = Callable[[], dt.date]  # the site's date on the engine's clock
Refuse = Callable[[Actor, str, str, str, str], Awaitable[Response]]  # (actor, action, agent, arg, why)


@dataclass(frozen=True)
class Choices:
    """The names the filter form offers (the site's); each person sees those the policy lets it read."""

    teams: Mapping[str, frozenset[str]]  # team -> its agents
    agents: Mapping[str, str]  # agent id -> name
    services: Sequence[str]

    @classmethod
    def of(cls, site: Site) -> Choices:
        return cls({t: frozenset(a) for t, a in sorted(teams_of(site).items())}, {a.id: a.name for a in site.agents},
                   site.service_names())  # fmt: skip


def report_routes(answer: Answer, choices: Choices, today: Today, *, who: Who, policy: Callable[[], Policy],
                  refuse: Refuse) -> list[BaseRoute]:  # fmt: skip
    """``policy``: the service API's (a callable: built after the listener), as the console's gate asks it."""

    def language(request: Request) -> str:
        return pick_language(request.headers.get("accept-language", ""))

    def refusal_of(actor: Actor) -> Refusal:
        return lambda name, team, agent: policy().report_refusal(actor, name, team=team, agent=agent)

    def readable(actor: Actor) -> list[str]:
        """The reports ``actor`` may open as they open (today, narrowed to its own part where it must be)."""
        refusal = refusal_of(actor)
        out = []
        for name in REPORTS:
            q = query_of(name, {}, dt.date.min, actor, refusal)
            team, agent = q.team or "", q.agent or ""
            if refusal(name, team, agent) is None:
                out.append(name)
        return out

    def options(actor: Actor, q: Query) -> dict[str, list[tuple[str, str]]]:
        """The filter form's choices for this report: (value, label) of the teams and agents the policy lets
        ``actor`` read it for, and the services."""
        refusal = refusal_of(actor)
        takes = REPORTS[q.name]
        teams = [(t, t) for t in choices.teams if "team" in takes and refusal(q.name, t, "") is None]
        agents = [(a, f"{a} · {n}" if n else a) for a, n in choices.agents.items()
                  if "agent" in takes and refusal(q.name, "", a) is None]  # fmt: skip
        services = [(s, s) for s in choices.services] if "service" in takes else []
        return {"team": teams, "agent": agents, "service": services}

    def page(request: Request, actor: Actor, q: Query | None, name: str, status: int = 200, *,
             report: dict[str, Any] | None = None, problem: str = "", field: str = "") -> Response:  # fmt: skip
        lang = language(request)
        t = TEXTS[lang]
        values = {k: request.query_params.get(k, "") for k in FIELDS}
        if q is not None:  # the form shows what was read, defaults filled in
            values |= {"from": q.first.isoformat(), "to": q.last.isoformat(), "team": q.team or "",
                       "agent": q.agent or ""}  # fmt: skip
        reply = templates.TemplateResponse(request, "reports.html", {
            "t": t, "lang": "zh-CN" if lang == "zh" else "en", "viewer": actor.id, "name": name,
            "title": t[f"r_{name}"], "values": values, "takes": REPORTS[name], "intervals": INTERVALS,
            "options": options(actor, q or Query(name, dt.date.min, dt.date.min)), "problem": problem,
            "field": field, "report": report, "view": page_view(report, lang) if report else None,
            "query": query_string(q) if q else "", "plot": name in PLOTS,
            "downloads": [f for f in MEDIA if f != "png" or name in PLOTS]}, status_code=status)  # fmt: skip
        reply.headers["Cache-Control"] = "private, no-store"  # people's figures
        return reply

    async def read(request: Request, name: str) -> tuple[Actor, Query, dict[str, Any]] | Response:
        """Who asks, the query and the report; or the answer instead (sign-in, 404, 400, 403)."""
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        lang = language(request)
        if name not in REPORTS:
            why = f"no report {name!r} (reports: {', '.join(REPORTS)})"
            return message_page(404, "no such report", why)
        refusal = refusal_of(actor)
        try:
            q = query_of(name, request.query_params, today(), actor, refusal)
        except BadField as exc:
            return page(request, actor, None, name, 400, problem=str(exc), field=exc.field)
        why = refusal(name, q.team or "", q.agent or "")
        if why is not None:
            filters = " ".join(f"{k}={v}" for k, v in (("team", q.team), ("agent", q.agent)) if v)
            refused = await refuse(actor, "view", q.agent or "", f"report {name} {filters}".strip(), why)
            if "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(refusal_page(why, actor.id, lang), status_code=403)
            return refused
        try:
            report = await answer(q)
        except QueryError as exc:
            text = str(exc)
            return page(request, actor, q, name, 400, problem=text.removeprefix("--"), field=field_of(text))
        return actor, q, report

    async def index(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        lang = language(request)
        reply = templates.TemplateResponse(request, "reports_index.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "viewer": actor.id,
            "reports": readable(actor)})  # fmt: skip
        reply.headers["Cache-Control"] = "private, no-store"
        return reply

    async def one(request: Request) -> Response:
        name = request.path_params["name"]
        got = await read(request, name)
        if isinstance(got, Response):
            return got
        actor, q, report = got
        return page(request, actor, q, name, report=report)

    async def download(request: Request) -> Response:
        name, fmt = request.path_params["name"], request.path_params["fmt"]
        if fmt not in MEDIA or (fmt == "png" and name not in PLOTS):
            return message_page(404, "no such download", f"no {fmt!r} download of the {name} report (json, csv, "
                                                         f"xlsx; png for {', '.join(PLOTS)})")  # fmt: skip
        got = await read(request, name)
        if isinstance(got, Response):
            return got
        _actor, q, report = got
        body = await asyncio.to_thread(as_bytes, report, fmt)
        how = "inline" if fmt == "png" else "attachment"  # the page shows the plot; the others are saved
        return Response(body, media_type=MEDIA[fmt], headers={
            "Content-Disposition": f'{how}; filename="{file_name(q, fmt)}"',
            "Cache-Control": "private, no-store"})  # fmt: skip

    return [Route("/reports", index, methods=["GET"]), Route("/reports/{name}.{fmt}", download, methods=["GET"]),
            Route("/reports/{name}", one, methods=["GET"])]  # fmt: skip
