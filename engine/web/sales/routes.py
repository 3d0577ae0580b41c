"""The orders page: the orders a person may see for a range of days (/sales?from=&to=, site days, today by
default), each with its history of versions, and the correction form (POST /sales/{order}/correct).

Who sees and corrects which order is the policy's (engine/policy.py ``order_refusal``): an agent its own team's
orders, a team lead its teams' (and corrects them), managers and admins all; QA staff none. A correction is the
sales service's next version with a reason (sales/services.py); a refusal of the policy is an ``action`` fact
(``refuse``); the service's own refusal ("order sale-x is at version 3 now, not 2") is shown on the page as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine.policy import Actor, Policy, Role
from engine.web.actor import Who
from engine.web.i18n import pick_language
from engine.web.qa.routes import Post, Refuse, message_page, templates
from engine.web.sales.texts import TEXTS
from sales.model import Order
from sales.services import Sales

MAX_DAYS = 31  # a month of orders on one page; the sales report covers longer ranges


def _money(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def sales_routes(sales: Sales, now: Callable[[], float], timezone: str, *, policy: Callable[[], Policy], who: Who,
                 post: Post, refuse: Refuse, token: Callable[[Request], Any]) -> list[BaseRoute]:  # fmt: skip
    tz = ZoneInfo(timezone)

    def span(values: Any) -> tuple[dt.date, dt.date]:
        today = dt.datetime.fromtimestamp(now(), tz).date()
        try:
            first = dt.date.fromisoformat(values.get("from", "")) if values.get("from") else today
            last = dt.date.fromisoformat(values.get("to", "")) if values.get("to") else first
        except ValueError:
            raise ValueError("from and to are dates, YYYY-MM-DD") from None
        if last < first:
            raise ValueError(f"to {last} is before from {first}")
        if (last - first).days >= MAX_DAYS:
            raise ValueError(f"at most {MAX_DAYS} days on one page: the sales report covers longer ranges")
        return first, last

    def when(at: float) -> str:
        return dt.datetime.fromtimestamp(at, tz).strftime("%Y-%m-%d %H:%M")

    def row(o: Order, actor: Actor) -> dict[str, Any]:
        v = o.now
        return {"order": o.id, "placed": when(o.placed_at), "agent": v.agent, "team": v.team,
                "campaign": v.campaign, "lead": v.lead if v.lead is not None else "–", "product": v.product,
                "quantity": v.quantity, "amount": _money(v.amount), "version": v.version,
                "correctable": policy().order_refusal(actor, "correct", v.team, v.agent) is None,
                "history": [{"version": x.version, "product": x.product, "quantity": x.quantity,
                             "amount": _money(x.amount), "by": x.by, "when": when(x.at), "reason": x.reason}
                            for x in o.versions]}  # fmt: skip

    async def render(request: Request, actor: Actor, values: Any, csrf: str, status: int = 200,
                     message: str = "", ok: bool = True) -> Response:  # fmt: skip
        lang = pick_language(request.headers.get("accept-language", ""))
        try:
            first, last = span(values)
        except ValueError as exc:
            return message_page(400, "not a range of days", str(exc))
        start = dt.datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()
        end_day = last + dt.timedelta(days=1)
        end = dt.datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz).timestamp()
        found = await sales.orders(start, end, actor)
        orders = [row(o, actor) for o in found]
        total = sum(o.now.amount for o in found)
        return templates.TemplateResponse(request, "sales.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "viewer": actor.id, "csrf": csrf,
            "orders": orders, "first": first.isoformat(), "last": last.isoformat(),
            "currency": sales.settings.currency, "products": sales.settings.products,
            "total_quantity": sum(o["quantity"] for o in orders), "total_amount": _money(total),
            "may_correct": any(o["correctable"] for o in orders) or not orders,
            "message": message, "ok": ok}, status_code=status)  # fmt: skip

    async def page(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        if actor.role in (Role.QA, Role.TRAINING):  # the roles that see no order at all
            why = str(policy().order_refusal(actor, "read", "", ""))
            await refuse(actor, "view", "", "orders", why)
            return message_page(403, "refused", why)
        return await render(request, actor, request.query_params, await token(request))

    async def correct(request: Request, v: Any, body: dict[str, str]) -> Response:
        actor, oid = v.actor, request.path_params["order"]
        order = await sales.order(oid)
        if order is None:
            return message_page(404, "no such order", f"no order {oid!r}")
        why = policy().order_refusal(actor, "correct", order.now.team, order.now.agent)
        if why is not None:
            answer = await refuse(actor, "order_correct", order.now.agent, oid, why)
            if "text/html" not in request.headers.get("accept", ""):
                return answer
            return await render(request, actor, body, v.session.csrf, 403, why, ok=False)
        raw = body.get("version", "")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
            return await render(request, actor, body, v.session.csrf, 400,
                                f"version {raw!r}: the version corrected is a number", ok=False)  # fmt: skip
        try:
            done = await sales.correct(actor, oid, int(raw), body, body.get("reason", ""))
        except (ValueError, PermissionError) as exc:
            why = str(exc)
            return await render(request, actor, body, v.session.csrf, 409 if "version" in why else 400, why,
                                ok=False)  # fmt: skip
        t = TEXTS[pick_language(request.headers.get("accept-language", ""))]
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"ok": True, "order": oid, "version": done.version})
        return await render(request, actor, body, v.session.csrf, 200,
                            t["corrected"].format(order=oid, version=done.version))  # fmt: skip

    return [Route("/sales", page, methods=["GET"]), post("/sales/{order}/correct", correct)]

