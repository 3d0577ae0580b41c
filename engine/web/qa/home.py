"""QA's own page (/qa, where QA staff land after signing in): today's sample to score across the teams, the AMD
samples waiting for a label, and the latest recordings, each a link to its replay. QA staff and managers (the
policy's view ``recording`` of no one agent's recording); a team lead has its team's sample on /team."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine.web.actor import Gate
from engine.web.i18n import pick_language
from engine.web.qa.routes import templates
from engine.web.qa.texts import TEXTS

LATEST = 30  # recordings listed

Sample = Callable[[], Awaitable[list[dict[str, Any]]]]  # today's picks, every agent
Latest = Callable[[int], Awaitable[list[dict[str, Any]]]]  # the newest index rows
Pending = Callable[[], Awaitable[int]]  # AMD samples waiting for a label


def qa_home_routes(sample: Sample, latest: Latest, pending: Pending, timezone: str, *, gate: Gate) -> list[BaseRoute]:
    tz = ZoneInfo(timezone)

    async def page(request: Request) -> Response:
        actor = await gate(request, "recording", "")
        if isinstance(actor, Response):
            return actor
        lang = pick_language(request.headers.get("accept-language", ""))
        rows = [{**r, "time": dt.datetime.fromtimestamp(r["started_at"], tz).strftime("%m-%d %H:%M"),
                 "length": f"{int(r['seconds']) // 60}:{int(r['seconds']) % 60:02d}"}
                for r in await latest(LATEST)]  # fmt: skip
        return templates.TemplateResponse(request, "qa_home.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "viewer": actor.id,
            "sample": await sample(), "latest": rows, "pending": await pending()})  # fmt: skip

    return [Route("/qa", page)]
