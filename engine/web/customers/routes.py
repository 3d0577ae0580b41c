"""The customers' pages: the records recently in touch and a search by number (/customers; POST /customers opens
the record of the number typed, made if there is none, so the number never rides in a URL or an access log),
one record with its timeline (/customers/{id}), and its forms: a note (POST /customers/{id}/notes) and a merge of
another record into it (POST /customers/{id}/merge: the other record's number and a reason).

The policy's ``customer_refusal`` says who reads, notes and merges; numbers are shown masked, as in the logs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from crm.customers import customer_number
from customers.model import CustomerError
from customers.services import Customers
from engine.policy import Actor, Policy
from engine.privacy import mask_number
from engine.web.actor import Who
from engine.web.customers.texts import TEXTS
from engine.web.i18n import pick_language
from engine.web.qa.routes import Post, Refuse, message_page, templates


def customer_routes(customers: Customers, timezone: str, region: str, *, policy: Callable[[], Policy], who: Who,
                    post: Post, refuse: Refuse, token: Callable[[Request], Any]) -> list[BaseRoute]:  # fmt: skip
    tz = ZoneInfo(timezone)

    def t_of(request: Request) -> dict[str, str]:
        return TEXTS[pick_language(request.headers.get("accept-language", ""))]

    def stamp(at: float | None) -> str:
        return dt.datetime.fromtimestamp(at, tz).strftime("%Y-%m-%d %H:%M") if at else ""

    async def listing(request: Request, actor: Actor, csrf: str, status: int = 200, message: str = "") -> Response:
        rows = await customers.store.newest()
        t = t_of(request)
        return templates.TemplateResponse(request, "customers.html", {
            "t": t, "lang": "zh-CN" if t is TEXTS["zh"] else "en", "viewer": actor.id, "csrf": csrf,
            "rows": [{**r, "updated": stamp(r["updated_at"])} for r in rows], "message": message},
            status_code=status)  # fmt: skip

    async def record_page(request: Request, actor: Actor, customer: int, csrf: str, status: int = 200,
                          message: str = "", ok: bool = True) -> Response:  # fmt: skip
        view = await customers.view(actor, customer)
        if view is None:
            return message_page(404, "no such customer", f"no customer {customer}")
        t = t_of(request)
        entries = [{**e, "when": stamp(e["at"]), "callback_when": stamp(e.get("callback_at"))}
                   for e in view["timeline"]]  # fmt: skip
        return templates.TemplateResponse(request, "customer.html", {
            "t": t, "lang": "zh-CN" if t is TEXTS["zh"] else "en", "viewer": actor.id, "csrf": csrf,
            "c": view, "numbers": [mask_number(n) for n in view["numbers"]], "entries": entries,
            "keep_days": customers.keep_days, "message": message, "ok": ok,
            "may_note": policy().customer_refusal(actor, "note") is None,
            "may_merge": policy().customer_refusal(actor, "merge") is None}, status_code=status)  # fmt: skip

    async def refused(actor: Actor, action: str, subject: str) -> Response | None:
        why = policy().customer_refusal(actor, action)
        if why is None:
            return None
        await refuse(actor, f"customer_{action}", "", subject, why)
        return message_page(403, "refused", why)

    def ident(request: Request) -> int | None:
        raw = request.path_params["customer"]
        # an id the store's integer cannot hold is no record, not a database error
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None

    async def index(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        return await refused(actor, "read", "customers") or await listing(request, actor, await token(request))

    async def find(request: Request, v: Any, body: dict[str, str]) -> Response:
        no = await refused(v.actor, "read", "customers")
        if no is not None:
            return no
        try:
            customer = await customers.find(v.actor, body.get("number", ""), region)
        except CustomerError as exc:
            return await listing(request, v.actor, v.session.csrf, 400, str(exc))
        return RedirectResponse(f"/customers/{customer}", status_code=303)

    async def one(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        no = await refused(actor, "read", request.path_params["customer"])
        if no is not None:
            return no
        customer = ident(request)
        if customer is None:
            return message_page(404, "no such customer", f"no customer {request.path_params['customer']!r}")
        return await record_page(request, actor, customer, await token(request))

    async def note(request: Request, v: Any, body: dict[str, str]) -> Response:
        no = await refused(v.actor, "note", request.path_params["customer"])
        if no is not None:
            return no
        customer = ident(request)
        try:
            if customer is None:
                raise KeyError(customer)
            await customers.note(v.actor, customer, body.get("text", ""))
        except KeyError:
            return message_page(404, "no such customer", f"no customer {request.path_params['customer']!r}")
        except CustomerError as exc:
            status = 400 if str(exc).startswith("note:") else 409  # the note's words, or the record's state
            return await record_page(request, v.actor, customer, v.session.csrf, status, str(exc), ok=False)
        # after a POST, the record by GET: reloading the page does not write the note again
        return RedirectResponse(f"/customers/{customer}#timeline", status_code=303)

    async def merge(request: Request, v: Any, body: dict[str, str]) -> Response:
        subject = request.path_params["customer"]
        no = await refused(v.actor, "read", subject)  # a role that may not even read the record sees no page of it
        if no is not None:
            return no
        customer = ident(request)
        if customer is None:
            return message_page(404, "no such customer", f"no customer {subject!r}")
        why = policy().customer_refusal(v.actor, "merge")
        if why is not None:
            await refuse(v.actor, "customer_merge", "", subject, why)
            return await record_page(request, v.actor, customer, v.session.csrf, 403, why, ok=False)
        try:
            # the other record by its number: what the lead has in hand (a caller's second phone)
            other = await customers.store.by_number(_e164(body.get("other", ""), region))
            if other is None:
                raise CustomerError("other: no customer's record has that number")
            n = await customers.merge(v.actor, customer, other, body.get("reason", ""))
        except CustomerError as exc:
            return await record_page(request, v.actor, customer, v.session.csrf, 400, str(exc), ok=False)
        words = t_of(request)["merged"].format(other=other, n=n)
        return await record_page(request, v.actor, customer, v.session.csrf, 200, words)

    return [Route("/customers", index, methods=["GET"]), post("/customers", find),
            Route("/customers/{customer}", one, methods=["GET"]), post("/customers/{customer}/notes", note),
            post("/customers/{customer}/merge", merge)]  # fmt: skip


def _e164(raw: str, region: str) -> str:
    number = customer_number(raw.strip(), region)
    if number is None:
        raise CustomerError("other: not a phone number this site can match")
    return number
