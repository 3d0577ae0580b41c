"""The cases pages: the cases a person may see (/cases?status=&kind=&team=), one case with its facts and the forms
that work it (/cases/{id}), and the forms' POSTs (/cases/{id}/assign|resolve|close|reopen).

Who sees and works which case is the policy's (engine/policy.py ``case_refusal``): a team lead its teams' cases,
QA staff, managers and admins all (QA reads, never acts), an agent the cases it owns. Every change goes through
the cases service (cases/services.py), which writes the ``case.*`` facts; a POST is signed in and carries the
session's CSRF token (``Console.post``); a refusal of the policy is an ``action`` fact (``refuse``), and the
service's own refusal ("case c1 is closed: reopen it first") is shown on the case page as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cases.model import CLOSED, KINDS, STATES, BadMove
from cases.services import Cases
from engine.policy import Actor, Policy, Role
from engine.web.actor import Gate, Who
from engine.web.cases.texts import TEXTS
from engine.web.cases.view import LIMIT, calls_of, fact_lines, fitting, row_view, seen
from engine.web.i18n import pick_language
from engine.web.qa.routes import Post, Refuse, message_page, templates

Facts = Callable[[str], Awaitable[list[Any]]]  # a case's facts (the ledger's, under the case's id)
Replay = Callable[[str], Awaitable[str | None]]  # a call's recording id, when one is kept
Token = Callable[[Request], Awaitable[str]]  # the session's CSRF token, for the page's forms
Roster = Mapping[str, Mapping[str, str]]  # team -> agent id -> name


def cases_routes(cases: Cases, facts_of: Facts, replay_of: Replay, now: Callable[[], float], timezone: str,
                 roster: Roster, *, policy: Callable[[], Policy], who: Who, gate: Gate, post: Post, refuse: Refuse,
                 token: Token) -> list[BaseRoute]:  # fmt: skip
    """``now``: the engine's clock (overdue, and the time of each change); ``roster``: the teams' agents, offered
    by the assign form."""
    tz = ZoneInfo(timezone)

    def lang_of(request: Request) -> str:
        return pick_language(request.headers.get("accept-language", ""))

    async def replays(calls: list[str]) -> dict[str, str]:
        out = {}
        for call in calls:
            rec = await replay_of(call)
            if rec:
                out[call] = rec
        return out

    async def listing(request: Request) -> Response:
        actor = await who(request)
        if isinstance(actor, Response):
            return actor
        q = request.query_params
        status, kind, team = q.get("status", ""), q.get("kind", ""), q.get("team", "")
        if actor.role is Role.TEAM_LEAD and not team and actor.teams:
            team = min(actor.teams)  # a lead's own team first; its other teams by the filter
        allowed = await gate(request, "cases", team)
        if isinstance(allowed, Response):
            return allowed
        if status not in ("", *STATES) or kind not in ("", *KINDS):
            return message_page(400, "no such filter", f"status is one of {', '.join(STATES)}; kind one of "
                                                       f"{', '.join(KINDS)}")  # fmt: skip
        owner = actor.id if actor.role is Role.AGENT else ""
        rows = seen(await cases.store.rows(status=status, kind=kind, owner=owner), actor, policy(), team)
        shown = rows[:LIMIT]
        at = now()
        views = [row_view(r, at, tz, await replays(calls_of(r))) for r in shown]
        lang = lang_of(request)
        t = TEXTS[lang]
        title = t["title_team"].format(team=team) if team else t["title"]
        title = t["title_own"] if actor.role is Role.AGENT else title
        teams = {Role.TEAM_LEAD: sorted(actor.teams), Role.AGENT: []}.get(actor.role, sorted(roster))
        return templates.TemplateResponse(request, "cases.html", {
            "t": t, "lang": "zh-CN" if lang == "zh" else "en", "viewer": actor.id, "csrf": await token(request),
            "title": title, "rows": views, "total": len(rows), "limit": LIMIT, "status": status, "kind": kind,
            "team": team, "statuses": STATES, "kinds": KINDS, "teams": teams,
            "any_team": actor.role not in (Role.TEAM_LEAD, Role.AGENT)})  # fmt: skip

    async def render(request: Request, actor: Actor, row: dict[str, Any], csrf: str, status: int = 200,
                     message: str = "", ok: bool = True) -> Response:  # fmt: skip
        lang = lang_of(request)
        t = TEXTS[lang]
        facts = await facts_of(row["id"])
        linked = {str(f.data.get("call", "")) for f in facts if f.kind == "case.linked"} - {""}
        recs = await replays(sorted({*calls_of(row), *linked}))
        p = policy()
        fits = fitting(row["status"])
        forms = [a for a in fits if p.case_refusal(actor, a, row) is None]  # the agent assigned to: on POST
        why = p.case_refusal(actor, fits[0], row) if fits and not forms else None
        members = roster.get(row["team"], {}) if row["team"] in roster else {a: n for m in roster.values()
                                                                             for a, n in m.items()}  # fmt: skip
        if actor.role is Role.TEAM_LEAD:
            members = {a: n for a, n in members.items() if any(a in roster.get(tm, {}) for tm in actor.teams)}
        return templates.TemplateResponse(request, "case.html", {
            "t": t, "lang": "zh-CN" if lang == "zh" else "en", "viewer": actor.id, "csrf": csrf,
            "case": row_view(row, now(), tz, recs), "facts": fact_lines(facts, tz, t, recs), "forms": forms,
            "read_only": why, "agents": dict(sorted(members.items())), "message": message, "ok": ok,
            "may_close": p.case_refusal(actor, "close", row) is None},
            status_code=status)  # fmt: skip

    async def one(request: Request) -> Response:
        actor = await gate(request, "cases", "")
        if isinstance(actor, Response):
            return actor
        case_id = request.path_params["case_id"]
        row = await cases.store.get(case_id)
        if row is None:
            return message_page(404, "no such case", f"no case {case_id!r}")
        why = policy().case_refusal(actor, "read", row)
        if why is not None:
            await refuse(actor, "view", row["owner"], f"case {case_id}", why)
            return message_page(403, "refused", why)
        return await render(request, actor, row, await token(request))

    def action(name: str) -> Callable[[Request, Any, dict[str, str]], Awaitable[Response]]:
        async def handler(request: Request, v: Any, body: dict[str, str]) -> Response:
            actor, case_id = v.actor, request.path_params["case_id"]
            row = await cases.store.get(case_id)
            if row is None:
                return message_page(404, "no such case", f"no case {case_id!r}")
            to = body.get("agent", "").strip()
            why = policy().case_refusal(actor, name, row, to=to)
            if why is None and name == "resolve" and body.get("close"):  # resolving and closing at once: both
                why = policy().case_refusal(actor, "close", row)
            if why is not None:
                answer = await refuse(actor, f"case_{name}", row["owner"], case_id, why)
                if "text/html" not in request.headers.get("accept", ""):
                    return answer
                if policy().case_refusal(actor, "read", row) is not None:
                    return message_page(403, "refused", why)
                return await render(request, actor, row, v.session.csrf, 403, why, ok=False)
            at, by = now(), actor.id
            try:
                if name == "assign":
                    await cases.assign(case_id, to, by, at)
                elif name == "resolve":
                    await cases.resolve(case_id, body.get("resolution", ""), by, at, close=bool(body.get("close")))
                elif name == "close":
                    await cases.move(case_id, CLOSED, by, at, body.get("why", "").strip())
                else:
                    reason = body.get("why", "").strip()
                    if not reason:
                        raise ValueError("a reopened case says why: give the reason")
                    await cases.move(case_id, "open" if row["status"] == CLOSED else "in_progress", by, at, reason)
            except KeyError:
                return message_page(404, "no such case", f"no case {case_id!r}")
            except (BadMove, ValueError) as exc:
                status = 409 if isinstance(exc, BadMove) else 400
                again = await cases.store.get(case_id) or row
                return await render(request, actor, again, v.session.csrf, status, str(exc), ok=False)
            return RedirectResponse(f"/cases/{case_id}", status_code=303)

        return handler

    return [Route("/cases", listing, methods=["GET"]), Route("/cases/{case_id}", one, methods=["GET"]),
            *(post(f"/cases/{{case_id}}/{name}", action(name)) for name in ("assign", "resolve", "close", "reopen"))]
