"""``POST /fax/send?number=N[&case=ID]``: the body is the PDF itself (``application/pdf``, at most ``MAX_PDF``),
with the session's CSRF token in ``X-CSRF-Token``; the answer is JSON: ``{"ok": true, "job", "pages"}`` or
``{"ok": false, "reason"}``. Agents, team leads, managers and admins may send; QA staff may not (they score
calls and reach no customer). A refusal is recorded as the console's refusals are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine.policy import Role
from engine.web.auth import Console
from engine.web.sessions import same_token
from fax.images import ImageError
from fax.queue import MAX_PDF, number_problem

Queue = Callable[[bytes, str, str, str], Awaitable[tuple[str, int]]]  # (pdf, number, case, by) -> (job, pages)
CaseExists = Callable[[str], Awaitable[bool]]


def _no(reason: str, status: int = 400) -> Response:
    return JSONResponse({"ok": False, "reason": reason}, status_code=status)


def fax_routes(console: Console, queue: Queue, case_exists: CaseExists) -> list[BaseRoute]:
    async def send(request: Request) -> Response:
        v = await console.signed_in(request)
        if isinstance(v, Response):
            return v
        if not same_token(v.session.csrf, request.headers.get("x-csrf-token")):
            return await console.refuse(v.actor, "fax", "", "/fax/send", "the request has no valid CSRF token")
        if v.actor.role is Role.QA:
            return await console.refuse(v.actor, "fax", "", "/fax/send",
                                        "QA staff score calls; they do not send faxes to customers")  # fmt: skip
        number = request.query_params.get("number", "").replace(" ", "")
        case = request.query_params.get("case", "").strip()
        if problem := number_problem(number):
            return _no(problem)
        if case and not await case_exists(case):
            return _no(f"no case {case!r}")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PDF:
                return _no(f"the file is over {MAX_PDF // (1024 * 1024)} MB", 413)
        if not body.startswith(b"%PDF"):
            return _no("the file is not a PDF")
        try:
            job, pages = await queue(body, number, case, v.actor.id)
        except ImageError as exc:
            return _no(str(exc))
        return JSONResponse({"ok": True, "job": job, "pages": pages})

    return [Route("/fax/send", send, methods=["POST"])]
