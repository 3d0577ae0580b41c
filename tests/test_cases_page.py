"""The cases pages over HTTP: Starlette's test client against the console's real sign-in, a real SQLite store (users,
ledger, the cases table), the real policy and the real cases service, with cases made from the facts that open
them. A team lead sees its team's cases only and works them (assign, resolve, a refused move shown as the
service says it, reopen); QA staff read every case and are refused any change, with the reason and a fact; a POST
without the CSRF token changes nothing; an agent sees the cases it owns and resolves its own follow-up; the
customer's number is masked on every page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from cases.plugin import cases_of
from engine.cli.recordings import StoreLedger
from engine.clock import RealClock
from engine.config import load_site
from engine.model.facts import Fact
from engine.passwords import Passwords
from engine.policy import Actor, Policy, Role
from engine.service_api import Backends, ServiceApi
from engine.store.store import Store, migrate
from engine.store.users import UserStore
from engine.users import User
from engine.web.app import create_app
from engine.web.auth import Console
from engine.web.cases.routes import cases_routes
from engine.web.team.routes import rosters

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 10, tzinfo=SH).timestamp()  # a Monday
NUMBER, OTHER, THIRD = "13800138000", "13900139000", "13700137000"
PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html"}
PEOPLE = [User("lena", "teamlead", team="front"), User("sam", "teamlead", team="sales"), User("quinn", "qa"),
          User("mia", "manager"), User("ann", "agent", agent="1001"), User("bob", "agent", agent="2001")]  # fmt: skip
REPLAYS = {"A": "rec-A"}  # the recordings index's answer: call A was recorded, the others were not


def site_text(url: str) -> str:
    return (f'[site]\nname = "t"\n\n[asterisk]\nlab = true\n\n[store]\nurl = "{url}"\n\n'
            '[hotline]\nnumber = "4000"\nagent = "1001"\n\n'
            '[[agents]]\nid = "1001"\ngroups = ["front"]\n\n[[agents]]\nid = "1002"\ngroups = ["front"]\n\n'
            '[[agents]]\nid = "2001"\ngroups = ["sales"]\n')  # fmt: skip


def fact(what: str, t: float, call: str, /, **data: Any) -> Fact:
    return Fact(what, t, call, call, f"{what}:{call}:{t}", data)


@dataclass
class Page:
    client: TestClient
    store: Store
    cases: Any
    ids: dict[str, str]  # complaint, follow_up, low_survey -> case id
    clock: list[float]

    def run(self, fn, *args, **kw):  # type: ignore[no-untyped-def]
        return self.client.portal.call(lambda: fn(*args, **kw))  # in the app's loop, where the store's pool lives

    def row(self, kind: str) -> dict[str, Any]:
        return self.run(self.cases.store.get, self.ids[kind])

    def facts(self, kind: str) -> list[dict[str, Any]]:
        return [f.data for f in self.run(self.store.facts, None, (kind,))]

    def sign_in(self, name: str) -> None:
        self.client.cookies.clear()
        nonce = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/signin").text).group(1)
        r = self.client.post("/signin", data={"name": name, "password": PASSWORD, "csrf": nonce, "next": "/me"},
                             follow_redirects=False)  # fmt: skip
        assert r.status_code == 303

    def post(self, kind: str, what: str, csrf: bool = True, **fields: str):  # type: ignore[no-untyped-def]
        token = {"csrf": self.client.get("/me").json()["csrf"]} if csrf else {}
        return self.client.post(f"/cases/{self.ids[kind]}/{what}", data={**token, **fields}, headers=HTML,
                                follow_redirects=False)  # fmt: skip


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', html)


@pytest.fixture
def page(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cases.db'}"
    (tmp_path / "site.toml").write_text(site_text(url))
    site = load_site(tmp_path / "site.toml")
    migrate(url)
    store = Store(url)
    users = UserStore(store)
    groups = {a.id: frozenset(a.groups) for a in site.agents}
    policy = Policy(lambda a: groups.get(a, frozenset()))

    async def record(facts: list[Fact]) -> None:
        await store.append(facts, T0)

    async def nothing(agent: str, action: str, arg: str) -> str:
        return ""

    api = ServiceApi(policy, Backends(nothing), record, RealClock(), frozenset(groups))
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    console = Console(users, passwords, lambda: policy, api.do, record, RealClock())
    cases = cases_of(site, StoreLedger(store), store.engine)
    clock = [T0 + 3600]  # the engine's clock the pages read: an hour after the cases were opened

    async def replay_of(call: str) -> str | None:
        return REPLAYS.get(call)

    async def case_facts(case_id: str) -> list[Fact]:
        return await store.facts(case_id)

    async def token(request: Any) -> str:
        v = await console.visitor(request)
        return v.session.csrf if v is not None else ""

    routes = cases_routes(cases, case_facts, replay_of, lambda: clock[0], "Asia/Shanghai", rosters(site.agents),
                          policy=console.policy, who=console.who, gate=console.gate, post=console.post,
                          refuse=console.refuse, token=token)  # fmt: skip
    app = create_app(routes=[*console.routes(), *routes])
    with TestClient(app) as client:
        p = Page(client, store, cases, {}, clock)
        for u in PEOPLE:
            p.run(users.add, u, passwords.hash(PASSWORD), Actor("root", Role.ADMIN, via="cli"), 1.0)
        # a complaint left in the menu and a call back asked for (nobody owns them: team front, the first team),
        # and a poor survey score of agent 2001's call (team sales)
        made = [fact("channel.new", T0, "A", role="caller", caller=NUMBER),
                fact("ivr.message", T0 + 30, "A", kind="complaint", ok=True, file="/m/A.wav", seconds=9.0),
                fact("channel.new", T0 + 60, "B", role="caller", caller=OTHER),
                fact("acd.callback", T0 + 90, "B", number=OTHER, service="hotline"),
                fact("channel.new", T0 + 120, "C", role="caller", caller=THIRD),
                fact("ivr.survey", T0 + 400, "C", score=1, agent="2001")]  # fmt: skip
        p.run(store.append, made, T0)
        p.run(cases.take, made)
        p.ids.update({r["kind"]: r["id"] for r in p.run(cases.store.rows)})
        assert set(p.ids) == {"complaint", "follow_up", "low_survey"}
        yield p
        p.run(store.close)


def test_a_lead_sees_its_teams_cases_only(page):
    page.sign_in("lena")
    r = page.client.get("/cases", headers=HTML)
    assert r.status_code == 200
    assert sorted(listed(r.text)) == sorted([page.ids["complaint"], page.ids["follow_up"]])
    assert "Cases of team front" in r.text
    refused = page.client.get("/cases?team=sales", headers=HTML)
    assert refused.status_code == 403 and "lena does not lead team sales" in refused.text
    other = page.client.get(f"/cases/{page.ids['low_survey']}", headers=HTML)
    assert other.status_code == 403 and "does not lead it" in other.text
    refusals = [f for f in page.facts("action") if f["actor"] == "lena"]
    assert [f["ok"] for f in refusals] == [False, False], "each refusal is on record"
    page.sign_in("sam")  # the other lead: the survey case only
    assert listed(page.client.get("/cases", headers=HTML).text) == [page.ids["low_survey"]]


def test_the_number_is_masked_and_a_recorded_call_links_to_its_replay(page):
    page.sign_in("mia")  # a manager: every case
    r = page.client.get("/cases", headers=HTML)
    assert sorted(listed(r.text)) == sorted(page.ids.values())
    one = page.client.get(f"/cases/{page.ids['complaint']}", headers=HTML)
    for html in (r.text, one.text):
        for full in (NUMBER, OTHER, THIRD):
            assert full not in html, "a customer's number is never on the page in full"
        assert "**********8000" in html  # +8613800138000, the last four digits kept
    assert '<a href="/qa/calls/rec-A">rec-A</a>' in r.text and "/qa/calls/rec-A" in one.text
    row = re.search(rf'<tr data-case="{page.ids["follow_up"]}".*?</tr>', r.text, re.S).group(0)
    assert "/qa/calls/" not in row, "call B has no recording"


def test_a_lead_assigns_resolves_and_a_refused_move_says_why(page):
    page.sign_in("lena")
    r = page.post("complaint", "assign", agent="1002")
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{page.ids['complaint']}"
    assert (page.row("complaint")["owner"], page.row("complaint")["status"]) == ("1002", "in_progress")
    r = page.post("complaint", "assign", agent="2001")
    assert r.status_code == 403 and "2001 is not in a team lena leads" in r.text
    assert page.row("complaint")["owner"] == "1002"
    r = page.post("complaint", "resolve", resolution="refunded the order", close="1")
    assert r.status_code == 303
    row = page.row("complaint")
    assert (row["status"], row["resolution"]) == ("closed", "refunded the order")
    resolved = [f for f in page.facts("case.resolved") if f["case"] == page.ids["complaint"]]
    assert [(f["by"], f["resolution"]) for f in resolved] == [("lena", "refunded the order")]
    shown = page.client.get(f"/cases/{page.ids['complaint']}", headers=HTML).text
    kinds = re.findall(r'<li data-fact="([^"]+)"', shown)
    assert kinds == ["case.opened", "case.linked", "case.assigned", "case.status", "case.resolved", "case.status"]
    assert 'id="reopen"' in shown and 'id="resolve"' not in shown, "a closed case offers reopen only"
    r = page.post("complaint", "assign", agent="1001")
    assert r.status_code == 409 and "closed: reopen it first" in r.text
    assert page.post("complaint", "reopen", why="").status_code == 400
    assert page.row("complaint")["status"] == "closed"
    assert page.post("complaint", "reopen", why="the refund never came").status_code == 303
    assert page.row("complaint")["status"] == "open"


def test_qa_reads_every_case_and_is_refused_any_change_with_the_reason(page):
    page.sign_in("quinn")
    assert sorted(listed(page.client.get("/cases", headers=HTML).text)) == sorted(page.ids.values())
    shown = page.client.get(f"/cases/{page.ids['follow_up']}", headers=HTML).text
    assert 'id="read-only"' in shown and "<form method=\"post\" action=\"/cases/" not in shown
    before = page.row("follow_up")
    r = page.post("follow_up", "resolve", resolution="called back")
    assert r.status_code == 403 and "QA staff may read cases, not resolve them" in r.text
    assert page.row("follow_up") == before
    (refused,) = [f for f in page.facts("action") if f["actor"] == "quinn"]
    assert (refused["action"], refused["arg"], refused["ok"]) == ("case_resolve", page.ids["follow_up"], False)


def test_a_post_without_the_csrf_token_changes_nothing(page):
    page.sign_in("lena")
    before = page.row("follow_up")
    r = page.post("follow_up", "resolve", csrf=False, resolution="called back")
    assert r.status_code == 403 and "no valid CSRF token" in r.json()["reason"]
    assert page.row("follow_up") == before
    assert [f["result"] for f in page.facts("action")] == ["the request has no valid CSRF token"]


def test_an_agent_sees_its_own_cases_and_resolves_its_own_follow_up(page):
    page.sign_in("mia")
    assert page.post("follow_up", "assign", agent="1001").status_code == 303
    page.sign_in("ann")
    r = page.client.get("/cases", headers=HTML)
    assert listed(r.text) == [page.ids["follow_up"]] and "My cases" in r.text
    assert page.client.get(f"/cases/{page.ids['complaint']}", headers=HTML).status_code == 403
    assert page.post("follow_up", "close").status_code == 403
    assert 'name="close"' not in page.client.get(f"/cases/{page.ids['follow_up']}", headers=HTML).text
    r = page.post("follow_up", "resolve", resolution="called back, sorted", close="1")
    assert r.status_code == 403 and "to close case" in r.text, "resolving and closing at once needs both"
    assert page.post("follow_up", "resolve", resolution="called back, sorted").status_code == 303
    assert page.row("follow_up")["status"] == "resolved"
    page.sign_in("bob")  # owns the survey case of its call, not a follow-up: reads it, may not resolve it
    assert listed(page.client.get("/cases", headers=HTML).text) == [page.ids["low_survey"]]
    shown = page.client.get(f"/cases/{page.ids['low_survey']}", headers=HTML)
    assert shown.status_code == 200 and 'id="resolve"' not in shown.text
    r = page.post("low_survey", "resolve", resolution="apologised")
    assert r.status_code == 403 and "an agent resolves the follow-ups it owns" in r.text
    assert page.row("low_survey")["status"] == "open"


def test_the_pages_speak_chinese_when_the_browser_asks_and_every_word_is_in_both(page):
    from engine.web.cases.texts import TEXTS

    assert set(TEXTS["zh"]) == set(TEXTS["en"])
    page.sign_in("lena")
    r = page.client.get("/cases", headers={**HTML, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert "front 团队的工单" in r.text and '<html lang="zh-CN">' in r.text


def test_a_live_case_past_its_due_time_is_marked_overdue(page):
    page.sign_in("mia")
    # Thursday 5 March: the call back was due by the end of Tuesday 3 March, the complaint by the end of Monday 9
    page.clock[0] = dt.datetime(2026, 3, 5, 9, tzinfo=SH).timestamp()
    html = page.client.get("/cases", headers=HTML).text
    late = set(re.findall(r'<tr data-case="([^"]+)" data-status="[^"]+" data-overdue="yes"', html))
    assert late == {page.ids["follow_up"], page.ids["low_survey"]}  # the survey's 2 working days ended Wed 4
    # due by the end of Tuesday 3 March: shown as its 24:00, not as Wednesday 00:00
    row = re.search(rf'<tr data-case="{page.ids["follow_up"]}".*?</tr>', html, re.S).group(0)
    assert '<td class="alert">2026-03-03 24:00<span class="sr"> overdue</span></td>' in row
    page.sign_in("lena")
    assert page.post("follow_up", "resolve", resolution="called back").status_code == 303
    page.sign_in("mia")
    html = page.client.get("/cases", headers=HTML).text
    late = set(re.findall(r'<tr data-case="([^"]+)" data-status="[^"]+" data-overdue="yes"', html))
    assert late == {page.ids["low_survey"]}, "a resolved case is owed nothing: not overdue"
