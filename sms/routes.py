"""The gateway's callbacks on the engine's HTTP listener: delivery reports (/sms/kannel/dlr), customers' replies
(/sms/kannel/mo) and a check the send command makes first (/sms/kannel/ping). Each carries the secret of
``[sms] token_file``; a request without it is refused (403) and written nowhere.

A reply is decoded from Kannel's binary form and charset (``%b``, ``%C``), so Chinese text arrives whole whether
the operator sent it as UCS-2 or not. A reply that is an opt-out word opts its sender out of SMS.
"""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from dialer.phone import PhoneError, normalise
from engine.ports import Ledger
from engine.privacy import mask_number
from sms import facts
from sms.kannel import delivery_status

log = logging.getLogger("hotline.sms")


def mo_query(callback_url: str, token: str) -> str:
    """The get-url of Kannel's ``sms-service`` that hands every reply to the engine."""
    return f"{callback_url}/sms/kannel/mo?token={token}&from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%t"


def _raw_params(request: Request) -> dict[str, bytes]:
    pairs = urllib.parse.parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True,
                                   encoding="latin-1")  # fmt: skip
    return {k: v.encode("latin-1") for k, v in pairs}


def decode_text(raw: bytes, coding: str, charset: str) -> str:
    """Kannel's ``%b`` as text: its ``%C`` names the charset; without one, coding 2 is UCS-2, else UTF-8."""
    name = charset or ("UTF-16BE" if coding == "2" else "UTF-8")
    try:
        return raw.decode(name, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def sms_routes(token: str, ledger: Ledger, now: Callable[[], float], opt_out_words: frozenset[str],
               region: str) -> list[BaseRoute]:  # fmt: skip
    def allowed(request: Request) -> bool:
        return hmac.compare_digest(request.query_params.get("token", "").encode(), token.encode())

    async def ping(request: Request) -> Response:
        return PlainTextResponse("ok") if allowed(request) else PlainTextResponse("bad token", 403)

    async def dlr(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("bad token", 403)
        q = request.query_params
        campaign, to, attempt, ref = q.get("c", ""), q.get("to", ""), q.get("a", ""), q.get("r", "")
        if not facts.CAMPAIGN_NAME.fullmatch(campaign) or not to.isdigit() or not attempt.isdigit():
            return PlainTextResponse("c, to and a are needed", 400)
        if not facts.REF.fullmatch(ref):
            return PlainTextResponse("r is not a reference", 400)
        status = delivery_status(q.get("type", ""))
        phone = "+" + to
        reply = q.get("reply", "")[:200]
        await ledger.record([facts.delivery(campaign, phone, int(attempt), status, now(), reply, ref)])
        log.info("sms %s: %s for %s (attempt %s)", campaign, status, mask_number(phone), attempt)
        return PlainTextResponse("ok")

    async def mo(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("bad token", 403)
        raw = _raw_params(request)
        sender = raw.get("from", b"").decode("latin-1").strip()
        try:
            phone = normalise(sender, region)
        except PhoneError:
            phone = sender
        text = decode_text(raw.get("text", b""), raw.get("coding", b"").decode(), raw.get("charset", b"").decode())
        at = now()
        new = [facts.incoming(phone, raw.get("to", b"").decode("latin-1"), text, at,
                              raw.get("ts", b"").decode("latin-1"))]  # fmt: skip
        word = facts.is_opt_out(text, opt_out_words)
        if word:
            new.append(facts.opt_out(phone, word, at))
        await ledger.record(new)
        log.info("sms: a reply from %s%s", mask_number(phone), " (opt-out)" if word else "")
        return PlainTextResponse("")  # Kannel's sms-service sends no reply (max-messages = 0)

    return [Route("/sms/kannel/ping", ping), Route("/sms/kannel/dlr", dlr), Route("/sms/kannel/mo", mo)]
