"""The team page served by Starlette without a browser: a lead's /team is its own team, another team is refused
by the policy, a manager sees the list of teams and any of them, an unknown team is 404, each language, and the
stream sends the team's agents only. The sign-in seams are small fakes over the real policy (the browser test
goes through the real sign-in)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from types import MappingProxyType

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine.config_agents import Agent
from engine.live.bus import Bus, Change
from engine.policy import Actor, Policy, Role
from engine.web.app import create_app
from engine.web.server import HttpServer
from engine.web.team.routes import rosters, team_routes
from engine.web.wallboard.routes import static_route
from engine.web.wallboard.settings import WallboardSettings

AGENTS = [Agent("1001", "Hotline Agent", "agent1001", "", groups=("front",)),
          Agent("1002", "Overflow Agent 1", "agent1002", "", groups=("front",)),
          Agent("2001", "Outbound Agent 2001", "agent2001", "", groups=("outbound",))]  # fmt: skip
ROSTER = rosters(AGENTS)
GROUPS = {a.id: frozenset(a.groups) for a in AGENTS}
POLICY = Policy(lambda a: GROUPS.get(a, frozenset()))
PEOPLE = {"lead": Actor("lena", Role.TEAM_LEAD, via="web", teams=frozenset({"front"}), phone="lead1"),
          "manager": Actor("mia", Role.MANAGER, via="web"), "agent": Actor("1001", Role.AGENT, via="web")}  # fmt: skip


async def who(request: Request) -> Actor | Response:
    person = PEOPLE.get(request.headers.get("x-test-user", ""))
    return person if person else JSONResponse({"ok": False, "reason": "not signed in"}, status_code=401)


async def gate(request: Request, view: str, subject: str = "") -> Actor | Response:
    actor = await who(request)
    if isinstance(actor, Response):
        return actor
    why = POLICY.view_refusal(actor, view, subject)
    return actor if why is None else JSONResponse({"ok": False, "reason": why}, status_code=403)


def visible(actor: Actor | None, change: Change) -> bool:
    return actor is not None and (change.topic != "agent" or POLICY.view_refusal(actor, "agent", change.key) is None)


def _get(url: str, user: str, lang: str = "") -> tuple[int, str]:
    headers = {"X-Test-User": user, **({"Accept-Language": lang} if lang else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _snapshot(url: str, user: str) -> dict:  # type: ignore[type-arg]
    """The stream's first message (its snapshot), then the connection is closed."""
    req = urllib.request.Request(url, headers={"X-Test-User": user})
    with urllib.request.urlopen(req, timeout=5) as r:
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data: "):
                return json.loads(line.removeprefix("data: "))
    raise AssertionError("no snapshot")


def _boot(page: str) -> dict:  # type: ignore[type-arg]
    return json.loads(page.split('<script id="boot" type="application/json">')[1].split("</script>")[0])


async def test_team_pages_by_role_language_and_the_streams_team_filter():
    bus = Bus()
    for a in AGENTS:
        bus.publish(Change("agent", a.id, 1.0, {"status": "available", "state": "idle", "since": 1.0}))
    bus.publish(Change("service", "hotline", 1.0, {"waiting": 0, "longest_wait": 0, "service_level": 0.5}))
    th = WallboardSettings(pause_limits=MappingProxyType({"break": 300}))
    routes = team_routes(bus, lambda: 1000.0, th, "Asia/Shanghai", ROSTER, who=who, gate=gate, visible=visible,
                         reasons=["break", "lunch"])  # fmt: skip
    server = HttpServer(create_app(routes=[*routes, static_route()]), "127.0.0.1", 0)
    server.bind()
    task = asyncio.create_task(server.serve())
    url = server.url
    try:
        status, page = await asyncio.to_thread(_get, f"{url}/team", "lead")
        assert status == 200 and "<h1>Team front</h1>" in page
        boot = _boot(page)
        assert boot["team"] == "front" and boot["agents"] == {"1001": "Hotline Agent", "1002": "Overflow Agent 1"}
        assert boot["thresholds"]["pause_limits"] == {"break": 300} and boot["reasons"] == ["break", "lunch"]
        assert page.count('data-action="') == 5 and page.count("data-monitor disabled") == 3
        assert '<option value="break">' in page and 'role="status"' in page and 'aria-live="assertive"' in page

        status, body = await asyncio.to_thread(_get, f"{url}/team/outbound", "lead")
        assert status == 403 and json.loads(body)["reason"] == "lena does not lead team outbound"
        status, body = await asyncio.to_thread(_get, f"{url}/team/events?team=outbound", "lead")
        assert status == 403, "the stream is refused as the page is"
        assert (await asyncio.to_thread(_get, f"{url}/team", "agent"))[0] == 403
        assert (await asyncio.to_thread(_get, f"{url}/team", ""))[0] == 401

        status, index = await asyncio.to_thread(_get, f"{url}/team", "manager")
        assert status == 200 and '<a href="/team/front">' in index and '<a href="/team/outbound">' in index
        assert 'id="boot"' not in index, "the list of teams has no stream"
        status, page = await asyncio.to_thread(_get, f"{url}/team/outbound", "manager", "zh-CN,zh;q=0.9")
        assert status == 200 and '<html lang="zh-CN">' in page and "<h1>outbound 团队</h1>" in page
        assert _boot(page)["texts"]["force_pause"] == "强制暂停"
        status, page = await asyncio.to_thread(_get, f"{url}/team/nowhere", "manager")
        assert status == 404 and "no team &#x27;nowhere&#x27;" in page
        assert (await asyncio.to_thread(_get, f"{url}/team/events?team=nowhere", "manager"))[0] == 404

        snap = await asyncio.to_thread(_snapshot, f"{url}/team/events?team=front", "lead")
        assert [(s["topic"], s["key"]) for s in snap["states"]] == [("agent", "1001"), ("agent", "1002"),
                                                                     ("service", "hotline")]  # fmt: skip
        assert [a["id"] for a in snap["alerts"]] == ["service_level/hotline"], "50 % is under the 80 % goal"
        status, js = await asyncio.to_thread(_get, f"{url}/static/team.js", "")
        assert status == 200 and "/api/action" in js and "X-CSRF-Token" in js
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
