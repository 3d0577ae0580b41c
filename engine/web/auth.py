"""Sign-in, sign-out and who may do what on the web console.

``Console`` holds the sessions, the sign-in limiter and the users; ``routes()`` are its Starlette routes. The
console's pages use ``signed_in`` (who is asking, or a redirect / 401), ``may_view`` (the policy's view rules),
and ``post`` (a POST route that checks the session and its CSRF token before the handler sees the fields).

The policy (engine/policy.py) decides everything: a user is mapped to its ``Actor`` (engine/users.py) and an
action goes through the service API, which writes the ledger fact, done or refused. A page refused is a 403 with
the reason and an ``action`` fact of the same shape (action ``view``), so refusals read alike wherever made.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine.clock import Clock, RealClock
from engine.live.bus import Change
from engine.model.facts import Fact, fact_key
from engine.passwords import Passwords
from engine.policy import Actor, Policy, Role
from engine.service_api import Outcome
from engine.service_api import Request as ApiRequest
from engine.store.users import UserStore
from engine.users import User, actor_of
from engine.web.forms import TEXTS, BadBody, fields, local_path, refusal_page, signin_page
from engine.web.i18n import pick_language
from engine.web.limiter import LoginLimiter
from engine.web.sessions import Session, Sessions, Signer, same_token

log = logging.getLogger("hotline.web")

SESSION_COOKIE = "hotline_session"
SIGNIN_COOKIE = "hotline_signin"  # the sign-in form's CSRF nonce, before there is a session
Record = Callable[[list[Fact]], Awaitable[None]]
AGENT_TOPICS = frozenset({"agent", "agent_day"})  # bus topics keyed by an agent id
HOME = {"agent": "/agent", "teamlead": "/team", "manager": "/wallboard", "admin": "/wallboard", "qa": "/qa",
        "training": "/kb"}
Act = Callable[[Actor, ApiRequest], Awaitable[Outcome]]


@dataclass(frozen=True)
class Visitor:
    user: User
    session: Session
    actor: Actor


Handler = Callable[[Request, Visitor, dict[str, str]], Awaitable[Response]]


class Console:
    def __init__(self, users: UserStore, passwords: Passwords, policy: Callable[[], Policy], act: Act,
                 record: Record, clock: Clock | None = None, wall: Callable[[], float] = time.time,
                 secret: bytes | None = None, sessions: Sessions | None = None,
                 limiter: LoginLimiter | None = None) -> None:  # fmt: skip
        self.users = users
        self.passwords = passwords
        self.policy = policy  # the service API's policy (a callable: it is built after the HTTP listener)
        self.act = act
        self.record = record
        self.clock = clock or RealClock()  # the ledger's time (virtual in the demo)
        self.wall = wall  # sessions and the limiter run on real time, whatever the ledger's clock
        self.signer = Signer(secret or secrets.token_bytes(32))  # no default secret: a new one per start
        self.sessions = Sessions() if sessions is None else sessions  # (an empty one is falsy: it has a length)
        self.limiter = LoginLimiter() if limiter is None else limiter

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/signin", self.signin_form, methods=["GET"]),
            Route("/signin", self.signin, methods=["POST"]),
            self.post("/signout", self.signout),
            Route("/", self.home, methods=["GET"]),
            Route("/me", self.me, methods=["GET"]),
            Route("/users", self.user_list, methods=["GET"]),
            self.post("/api/action", self.action),
        ]

    # who is asking

    async def visitor(self, request: Request) -> Visitor | None:
        """The signed-in user, or None: no or forged cookie, expired or signed-out session, or a user disabled
        or given a new password since the session began (read from the store at every request)."""
        sid = self.signer.session_id(request.cookies.get(SESSION_COOKIE))
        session = self.sessions.get(sid, self.wall()) if sid else None
        if session is None:
            return None
        found = await self.users.get(session.user)
        if found is None or found[0].disabled or found[0].changed_at > session.issued:
            self.sessions.close(session.sid)
            return None
        return Visitor(found[0], session, actor_of(found[0]))

    async def signed_in(self, request: Request) -> Visitor | Response:
        """The visitor, or what to answer instead: pages redirect to the sign-in form, the API says 401."""
        v = await self.visitor(request)
        if v is not None:
            return v
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": False, "reason": "not signed in"}, status_code=401)
        return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)

    async def still_in(self, request: Request) -> bool:
        """Whether ``request``'s session is still good: asked again while a page's stream stays open."""
        return await self.visitor(request) is not None

    async def who(self, request: Request) -> Actor | Response:
        """The signed-in actor (engine/web/actor.py's ``Who``), or the redirect / 401 to answer instead."""
        v = await self.signed_in(request)
        return v if isinstance(v, Response) else v.actor

    async def may_view(self, v: Visitor, view: str, subject: str = "") -> Response | None:
        """None when the policy lets ``v`` see ``view`` of ``subject``; else the 403 to answer (fact written)."""
        why = self.policy().view_refusal(v.actor, view, subject)
        if why is None:
            return None
        return await self.refuse(v.actor, "view", subject, view, why)

    async def gate(self, request: Request, view: str, subject: str = "") -> Actor | Response:
        """A page's gate (engine/web/actor.py): the signed-in actor if the policy lets it see ``view`` of
        ``subject``; else the redirect, 401 or 403 to answer (a browser's 403 is a page saying why)."""
        v = await self.signed_in(request)
        if isinstance(v, Response):
            return v
        refused = await self.may_view(v, view, subject)
        if refused is None:
            return v.actor
        if "text/html" in request.headers.get("accept", ""):
            why = self.policy().view_refusal(v.actor, view, subject) or "refused"
            lang = pick_language(request.headers.get("accept-language", ""))
            return HTMLResponse(refusal_page(why, v.user.name, lang), status_code=403)
        return refused

    def visible(self, actor: Actor | None, change: Change) -> bool:
        """Whether a stream may send ``change`` to ``actor``: an agent's state only to those the policy lets
        see that agent's page (a team lead: its teams' agents), so no other team leaks through a stream."""
        if actor is None:
            return False
        if change.topic == "case":  # an overdue case is for whoever answers for the team: its lead, a manager
            return actor.role in (Role.TEAM_LEAD, Role.MANAGER)
        if actor.role is Role.TRAINING:  # the knowledge base's keepers watch no live floor
            return False
        if change.topic not in AGENT_TOPICS:
            return True
        return self.policy().view_refusal(actor, "agent", change.key) is None

    async def refuse(self, actor: Actor, action: str, agent: str, arg: str, why: str) -> Response:
        now = self.clock.now()
        data = {"actor": actor.id, "role": actor.role.value, "via": actor.via, "action": action, "agent": agent,
                "arg": arg, "ok": False, "result": why, "refused_by": "policy"}  # as the service API writes it
        key = fact_key("action", actor.id, action, agent, arg, f"{now:.6f}")
        await self.record([Fact("action", now, "", "", key, data)])
        log.info("%s %s %s (%s via web) refused: %s", action, arg, agent or "-", actor.id, why)
        return JSONResponse({"ok": False, "reason": why}, status_code=403)

    def post(self, path: str, handler: Handler) -> Route:
        """A POST route of the console: signed in, and the session's CSRF token in the form's ``csrf`` field or
        the X-CSRF-Token header, else 401 / 403 before ``handler`` runs."""

        async def endpoint(request: Request) -> Response:
            v = await self.signed_in(request)
            if isinstance(v, Response):
                return v
            try:
                body = await fields(request)
            except BadBody as exc:
                return JSONResponse({"ok": False, "reason": str(exc)}, status_code=400)
            token = request.headers.get("x-csrf-token") or body.pop("csrf", None)
            if not same_token(v.session.csrf, token):
                return await self.refuse(v.actor, "post", "", path, "the request has no valid CSRF token")
            return await handler(request, v, body)

        return Route(path, endpoint, methods=["POST"])

    # the routes

    async def signin_form(self, request: Request) -> Response:
        return self._form(request, request.query_params.get("next"), "", "", 200)

    def _form(self, request: Request, next_path: str | None, message: str, name: str, status: int,
              **values: object) -> Response:  # fmt: skip
        """The sign-in form in the browser's language; ``message`` a key of forms.TEXTS ("" none)."""
        lang = pick_language(request.headers.get("accept-language", ""))
        text = TEXTS[lang][message].format(**values) if message else ""
        nonce = secrets.token_urlsafe(24)
        page = HTMLResponse(signin_page(nonce, local_path(next_path), text, name, lang), status_code=status)
        page.set_cookie(SIGNIN_COOKIE, self.signer.signin(nonce), max_age=3600, httponly=True, samesite="strict",
                        path="/signin")  # fmt: skip
        return page

    async def signin(self, request: Request) -> Response:
        try:
            form = await fields(request)
        except BadBody as exc:
            return JSONResponse({"ok": False, "reason": str(exc)}, status_code=400)
        name, password, next_path = form.get("name", "").strip(), form.get("password", ""), form.get("next")
        nonce = self.signer.signin_nonce(request.cookies.get(SIGNIN_COOKIE))
        if nonce is None or not same_token(nonce, form.get("csrf")):
            return self._form(request, next_path, "expired", name, 403)
        address = request.client.host if request.client else ""
        now = self.wall()
        wait = self.limiter.retry_after(name, address, now)
        if wait > 0:
            page = self._form(request, next_path, "too_many", name, 429, seconds=int(wait) + 1)
            page.headers["Retry-After"] = str(int(wait) + 1)
            return page
        found = await self.users.get(name)
        # Argon2 takes tens of milliseconds of CPU: off the event loop, which drives the calls
        ok = await asyncio.to_thread(self.passwords.verify, found[1] if found else None, password)
        if not ok or found is None:
            self.limiter.failed(name, address, now)
            await self._signin_fact(name, address, False, "wrong name or password")
            return self._form(request, next_path, "wrong", name, 401)
        user = found[0]
        if user.disabled:
            await self._signin_fact(name, address, False, "user disabled")
            return self._form(request, next_path, "disabled", name, 403)
        self.limiter.succeeded(name)
        session = self.sessions.open(user.name, now)
        await self._signin_fact(name, address, True, "signed in")
        reply = RedirectResponse(local_path(next_path), status_code=303)
        reply.set_cookie(SESSION_COOKIE, self.signer.session(session.sid), max_age=int(self.sessions.lifetime),
                         httponly=True, samesite="lax", secure=request.url.scheme == "https")  # fmt: skip
        reply.delete_cookie(SIGNIN_COOKIE, path="/signin")
        return reply

    async def _signin_fact(self, name: str, address: str, ok: bool, result: str) -> None:
        now = self.clock.now()
        key = fact_key("user.signin", name, address, f"{now:.6f}")
        await self.record([Fact("user.signin", now, "", "", key,
                                {"user": name, "address": address, "ok": ok, "result": result})])  # fmt: skip

    async def signout(self, request: Request, v: Visitor, body: dict[str, str]) -> Response:
        self.sessions.close(v.session.sid)
        reply = RedirectResponse("/signin", status_code=303)
        reply.delete_cookie(SESSION_COOKIE)
        return reply

    async def home(self, request: Request) -> Response:
        """Each role's own page: where sign-in leads when no page was asked for."""
        v = await self.signed_in(request)
        if isinstance(v, Response):
            return v
        return RedirectResponse(HOME[v.user.role], status_code=303)

    async def me(self, request: Request) -> Response:
        v = await self.signed_in(request)
        if isinstance(v, Response):
            return v
        # the CSRF token is given to the signed-in user's own pages for their fetch() calls
        return JSONResponse({**v.user.public(), "actor": v.actor.id, "policy_role": v.actor.role.value,
                             "teams": sorted(v.actor.teams), "csrf": v.session.csrf,
                             "expires_in": round(v.session.expires - self.wall())})  # fmt: skip

    async def user_list(self, request: Request) -> Response:
        v = await self.signed_in(request)
        if isinstance(v, Response):
            return v
        refused = await self.may_view(v, "users")
        if refused is not None:
            return refused
        return JSONResponse([u.public() for u in await self.users.list()])

    async def action(self, request: Request, v: Visitor, body: dict[str, str]) -> Response:
        """One action through the service API; an agent's own actions default to its own line."""
        agent = body.get("agent") or (v.actor.id if v.user.role == "agent" else "")
        out = await self.act(v.actor, ApiRequest(body.get("action", ""), agent, body.get("arg", "")))
        status = 200 if out.ok else 403 if out.refused_by == "policy" else 409
        return JSONResponse({"ok": out.ok, "result" if out.ok else "reason": out.text}, status_code=status)
