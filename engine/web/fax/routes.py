"""``POST /fax/send?number=N[&case=ID]``: the body is the PDF itself (``application/pdf``, at most ``MAX_PDF``),
with the session's CSRF token in ``X-CSRF-Token``; the answer is JSON: ``{"ok": true, "job", "pages"}`` or
``{"ok": false, "reason"}``. Agents, team leads, managers and admins may send; QA staff may not (they score
calls and reach no customer), and a fax for a case only by someone who may read that case. A refusal is
recorded as the console's refusals are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine.policy import Role
from engine.web.auth import Console
from engine.web.sessions import same_token
from fax.images import ImageError
from fax.queue import MAX_PDF, number_problem

Queue = Callable[[bytes, str, str, str], Awaitable[tuple[str, int]]]  # (pdf, number, case, by) -> (job, pages)
CaseOf = Callable[[str], Awaitable[Mapping[str, Any] | None]]  # a case's row, None for no such case


def _no(reason: str, status: int = 400) -> Response:
    return JSONResponse({"ok": False, "reason": reason}, status_code=status)


def fax_routes(console: Console, queue: Queue, case_of: CaseOf) -> list[BaseRoute]:
    async def send(request: Request) -> Response:
        v = await console.signed_in(request)
        if isinstance(v, Response):
            return v
        if not same_token(v.session.csrf, request.headers.get("x-csrf-token")):
            return await console.refuse(v.actor, "fax", "", "/fax/send", "the request has no valid CSRF token")
        if v.actor.role is Role.QA:
            return await console.refuse(v.actor, "fax", "", "/fax/send",
                                        "QA staff score calls; they do not send faxes to customers")  # fmt: skip
        if v.actor.role is Role.TRAINING:
            return await console.refuse(v.actor, "fax", "", "/fax/send",
                                        "the training staff keep the knowledge base; they do not send faxes to "
                                        "customers")  # fmt: skip
        number = request.query_params.get("number", "").replace(" ", "")
        case = request.query_params.get("case", "").strip()
        if problem := number_problem(number):
            return _no(problem)
        if case:
            row = await case_of(case)
            if row is None:
                return _no(f"no case {case!r}")
            if why := console.policy().case_refusal(v.actor, "read", row):
                return await console.refuse(v.actor, "fax", "", f"/fax/send case {case}", why)
        too_big = _no(f"the file is over {MAX_PDF // (1024 * 1024)} MB", 413)
        if int(request.headers.get("content-length") or 0) > MAX_PDF:
            return too_big
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PDF:
                return too_big
        if not body.startswith(b"%PDF"):
            return _no("the file is not a PDF")
        try:
            job, pages = await queue(bytes(body), number, case, v.actor.id)
        except ImageError as exc:
            return _no(str(exc))
        return JSONResponse({"ok": True, "job": job, "pages": pages})

    return [Route("/fax/send", send, methods=["POST"])]
