"""The admin's users page: the console's users (/admin/users), and adding one, a new password, disabling one.

Each change goes through the checks and store calls of `hotline users` (engine/users.py, engine/store/users.py):
a mistake names the field and writes nothing, and each change is one ledger fact naming the admin (via web).
A password is generated here, hashed off the event loop, and shown once, on the answer to the form that made
it: never stored in clear, logged or put in a URL; every answer of the page is ``no-store``. The forms are plain
POSTs through ``Console.post`` (session and CSRF token checked first), then the policy's ``users`` view.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine.passwords import generate
from engine.store.users import NoSuchUser, UserExists
from engine.users import ROLES, User, new_user_problem
from engine.web.admin.texts import TEXTS
from engine.web.auth import Console, Visitor
from engine.web.i18n import pick_language
from engine.web.wallboard.routes import templates

log = logging.getLogger("hotline.web")

PAGE = "/admin/users"
FIELDS = ("name", "role", "agent", "team", "phone")
MAX_PHONE = 80  # the users table's column


def field_of(problem: str) -> str:
    """The form field a problem of engine/users.py names: "--agent '9': ..." -> agent ("" if none)."""
    head = problem.split(" ", 1)[0].rstrip(":").removeprefix("--")
    return head if head in FIELDS else ""


def as_words(problem: str) -> str:
    """The command line's sentence beside a form: its field by name, not by option ("--role" -> "role")."""
    return problem.removeprefix("--")


def admin_routes(console: Console, agent_groups: Mapping[str, Iterable[str]], timezone: str) -> list[BaseRoute]:
    """``agent_groups``: the site's agent ids and their groups (the teams), as `hotline users add` checks them;
    ``timezone``: the site's, for the dates shown."""
    groups = {a: tuple(g) for a, g in agent_groups.items()}
    teams = sorted({g for gs in groups.values() for g in gs})
    zone = ZoneInfo(timezone)

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M") if ts else ""

    async def render(request: Request, v: Visitor, status: int = 200, *, done: str = "", password: str = "",
                     problem: str = "", form: Mapping[str, str] | None = None,
                     confirm: str = "") -> Response:  # fmt: skip
        lang = pick_language(request.headers.get("accept-language", ""))
        t = TEXTS[lang]
        rows = [{**u.public(), "role_name": t.get(f"role_{u.role}", u.role), "created": when(u.created_at),
                 "changed": when(u.changed_at)} for u in await console.users.list()]  # fmt: skip
        if confirm not in {r["name"] for r in rows if not r["disabled"]} or confirm == v.user.name:
            confirm = ""  # only a user the admin may disable here is asked about
        page = templates.TemplateResponse(request, "admin_users.html", {
            "t": t, "lang": "zh-CN" if lang == "zh" else "en", "users": rows, "csrf": v.session.csrf,
            "me": v.user.name, "roles": list(ROLES), "agents": sorted(groups), "teams": teams,
            "form": form or {}, "problem": as_words(problem), "field": field_of(problem), "done": done,
            "password": password, "confirm": confirm}, status_code=status)  # fmt: skip
        page.headers["Cache-Control"] = "no-store"  # a password shown once must not stay in a cache
        return page

    async def admin(request: Request, v: Visitor | None = None) -> Visitor | Response:
        """The signed-in admin, or the answer instead (sign-in, 401, or 403 with the policy's reason, a page
        for a browser); ``v``: the visitor a POST route already has."""
        allowed = await console.gate(request, "users", "")
        if isinstance(allowed, Response):
            return allowed
        v = v or await console.visitor(request)  # for its session's CSRF token, which the page's forms carry
        return v if v is not None else await console.signed_in(request)

    async def page(request: Request) -> Response:
        v = await admin(request)
        if isinstance(v, Response):
            return v
        return await render(request, v, confirm=request.query_params.get("disable", ""))

    def t_of(request: Request) -> dict[str, str]:
        return TEXTS[pick_language(request.headers.get("accept-language", ""))]

    async def new_password() -> tuple[str, str]:
        password = generate()  # 20 URL-safe characters: password_problem's rules hold
        # Argon2 takes tens of milliseconds of CPU and 64 MiB: off the event loop, which drives the calls
        return password, await asyncio.to_thread(console.passwords.hash, password)

    async def add(request: Request, signed: Visitor, body: dict[str, str]) -> Response:
        v = await admin(request, signed)
        if isinstance(v, Response):
            return v
        form = {k: body.get(k, "").strip() for k in FIELDS}
        taken = [u.name for u in await console.users.list()]
        why = new_user_problem(form["name"], form["role"], form["agent"], form["team"], groups, taken)
        if why is None and len(form["phone"]) > MAX_PHONE:
            why = f"phone: at most {MAX_PHONE} characters"
        if why is not None:
            return await render(request, v, 400, problem=why, form=form)
        password, digest = await new_password()
        user = User(form["name"], form["role"], form["agent"], form["team"], form["phone"])
        try:
            # the users' times are real time, as the sessions they end are (whatever the ledger's clock)
            await console.users.add(user, digest, v.actor, console.wall())
        except UserExists:  # added by someone else since the check
            return await render(request, v, 400, problem=f"name {user.name!r}: a user of that name exists", form=form)
        log.info("user %s added (%s) by %s via web", user.name, user.role, v.actor.id)
        t = t_of(request)
        done = t["added"].format(name=user.name, role=t.get(f"role_{user.role}", user.role))
        return await render(request, v, done=done, password=password)

    async def passwd(request: Request, signed: Visitor, body: dict[str, str]) -> Response:
        v = await admin(request, signed)
        if isinstance(v, Response):
            return v
        name = body.get("name", "").strip()
        if await console.users.get(name) is None:
            return await render(request, v, 400, problem=f"name {name!r}: no such user")
        password, digest = await new_password()
        try:
            await console.users.set_password(name, digest, v.actor, console.wall())  # its sessions end
        except NoSuchUser:
            return await render(request, v, 400, problem=f"name {name!r}: no such user")
        log.info("user %s: new password set by %s via web", name, v.actor.id)
        t = t_of(request)
        done = t["passwd_done"].format(name=name) + (" " + t["passwd_self"] if name == v.user.name else "")
        return await render(request, v, done=done, password=password)

    async def disable(request: Request, signed: Visitor, body: dict[str, str]) -> Response:
        v = await admin(request, signed)
        if isinstance(v, Response):
            return v
        name = body.get("name", "").strip()
        found = await console.users.get(name)
        if found is None:
            return await render(request, v, 400, problem=f"name {name!r}: no such user")
        if name == v.user.name:  # no admin locks itself out from here; the command line still can
            return await render(request, v, 400, problem=f"name {name!r}: you are signed in as it; another admin "
                                                         "or `hotline users disable` may disable it")  # fmt: skip
        if found[0].disabled:
            return await render(request, v, 400, problem=f"name {name!r}: already disabled")
        try:
            await console.users.disable(name, v.actor, console.wall())
        except NoSuchUser:
            return await render(request, v, 400, problem=f"name {name!r}: no such user")
        log.info("user %s disabled by %s via web", name, v.actor.id)
        return await render(request, v, done=t_of(request)["disabled_done"].format(name=name))

    return [Route(PAGE, page, methods=["GET"]), console.post(f"{PAGE}/add", add),
            console.post(f"{PAGE}/passwd", passwd), console.post(f"{PAGE}/disable", disable)]  # fmt: skip
