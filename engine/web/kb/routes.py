"""The knowledge base pages: the articles (/kb?q=: a search, or the newest), one article rendered from its
Markdown (/kb/{id}), the training staff's forms (POST /kb: a new article; POST /kb/{id}: the next version), and
the agent page's search (/kb/search?q=, JSON).

Everyone signed in reads; the policy's ``kb_refusal`` says who writes (the training staff, an admin). Markdown is
rendered with raw HTML off and links checked by the renderer, so an article cannot carry a script into a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine.policy import Actor, Policy
from engine.web.actor import Who
from engine.web.i18n import pick_language
from engine.web.kb.texts import TEXTS
from engine.web.qa.routes import Post, Refuse, message_page, templates
from kb.services import KnowledgeBase

_MD = MarkdownIt("commonmark", {"html": False})  # raw HTML in an article is shown as text, never run
SNIPPET = 160


def render_markdown(text: str) -> Markup:
    return Markup(_MD.render(text))


def _snippet(body: str) -> str:
    flat = " ".join(body.replace("#", " ").replace("*", " ").split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def kb_routes(kb: KnowledgeBase, timezone: str, *, policy: Callable[[], Policy], who: Who, post: Post,
              refuse: Refuse, token: Callable[[Request], Any]) -> list[BaseRoute]:  # fmt: skip
    tz = ZoneInfo(timezone)

    def t_of(request: Request) -> dict[str, str]:
        return TEXTS[pick_language(request.headers.get("accept-language", ""))]

    def lang_of(request: Request) -> str:
        return "zh-CN" if pick_language(request.headers.get("accept-language", "")) == "zh" else "en"

    async def listing(request: Request, actor: Actor, csrf: str, status: int = 200, message: str = "",
                      ok: bool = True) -> Response:  # fmt: skip
        q = request.query_params.get("q", "").strip()[:200]
        articles = await kb.store.search(q) if q else await kb.store.newest()
        return templates.TemplateResponse(request, "kb.html", {
            "t": t_of(request), "lang": lang_of(request), "viewer": actor.id, "csrf": csrf, "q": q,
            "articles": articles, "may_write": policy().kb_refusal(actor, "write") is None, "message": message,
            "ok": ok}, status_code=status)  # fmt: skip

    async def article_page(request: Request, actor: Actor, row: dict[str, Any], csrf: str, status: int = 200,
                           message: str = "", ok: bool = True) -> Response:  # fmt: skip
        updated = dt.datetime.fromtimestamp(row["updated_at"], tz).strftime("%Y-%m-%d %H:%M")
        return templates.TemplateResponse(request, "kb_article.html", {
            "t": t_of(request), "lang": lang_of(request), "viewer": actor.id, "csrf": csrf, "article": row,
            "body": render_markdown(row["body"]), "updated": updated, "message": message, "ok": ok,
            "may_write": policy().kb_refusal(actor, "write") is None}, status_code=status)  # fmt: skip

    async def index(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        return await listing(request, actor, await token(request))

    async def one(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        row = await _row(request.path_params["article"])
        if row is None:
            return message_page(404, "no such article", f"no article {request.path_params['article']!r}")
        return await article_page(request, actor, row, await token(request))

    async def search(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        q = request.query_params.get("q", "").strip()[:200]
        found = await kb.store.search(q, 10) if q else []
        return JSONResponse({"q": q, "articles": [{"id": a["id"], "ref": f"KB-{a['id']}", "title": a["title"],
                                                   "lang": a["lang"], "snippet": _snippet(a["body"])}
                                                  for a in found]})  # fmt: skip

    async def _row(ident: str) -> dict[str, Any] | None:
        # an id the store's integer cannot hold is no article, not a database error
        return await kb.store.get(int(ident)) if ident.isascii() and ident.isdigit() and len(ident) <= 9 else None

    async def save(request: Request, v: Any, body: dict[str, str]) -> Response:
        ident = request.path_params.get("article")
        row = None if ident is None else await _row(ident)
        if ident is not None and row is None:
            return message_page(404, "no such article", f"no article {ident!r}")
        why = policy().kb_refusal(v.actor, "write")
        if why is not None:
            answer = await refuse(v.actor, "kb_write", "", ident or "new", why)
            return answer if "text/html" not in request.headers.get("accept", "") else (
                await listing(request, v.actor, v.session.csrf, 403, why, ok=False) if row is None
                else await article_page(request, v.actor, row, v.session.csrf, 403, why, ok=False))  # fmt: skip
        raw = body.get("version", "0") or "0"
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
            why = f"version {raw!r}: the version edited is a number"
            if row is None:
                return await listing(request, v.actor, v.session.csrf, 400, why, ok=False)
            return await article_page(request, v.actor, row, v.session.csrf, 400, why, ok=False)
        try:
            version = int(raw)
            article, version = await kb.save(v.actor, body, None if row is None else row["id"], version)
        except ValueError as exc:
            if row is None:
                return await listing(request, v.actor, v.session.csrf, 400, str(exc), ok=False)
            return await article_page(request, v.actor, row, v.session.csrf, 409, str(exc), ok=False)
        return RedirectResponse(f"/kb/{article}", status_code=303)

    return [Route("/kb", index, methods=["GET"]), Route("/kb/search", search, methods=["GET"]),
            Route("/kb/{article}", one, methods=["GET"]), post("/kb", save), post("/kb/{article}", save)]
