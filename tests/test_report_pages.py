"""The report pages served by Starlette's test client on the console's real sign-in, policy and ledger, over a
SQLite store holding a hand-made morning of the demo's site: each role's reports (allowed, defaulted to its own
part, refused with the policy's reason and an ``action`` fact), a wrong field named in a 400, the downloads'
bytes (openpyxl reads the workbook, the plot is a PNG), both languages. Expected figures are counted by hand from
the morning below."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from starlette.testclient import TestClient

from cases.store import CaseStore
from engine.clock import RealClock
from engine.config import load_site
from engine.model.facts import Fact
from engine.passwords import Passwords
from engine.policy import Actor, Policy, Role
from engine.service_api import Backends, ServiceApi
from engine.store.store import Store, migrate
from engine.store.tables import cases
from engine.store.users import UserStore
from engine.users import User
from engine.web.app import create_app
from engine.web.auth import Console
from engine.web.reports.routes import Choices, report_routes
from engine.web.wallboard.routes import static_route
from reports.services import Reports
from reports.store import ReportStore
from sim.world import site_text
from tests.test_reports import queued_call

TZ = ZoneInfo("Asia/Shanghai")  # the demo site's
DAY = dt.date(2027, 3, 5)
T0 = dt.datetime(2027, 3, 5, 10, 0, tzinfo=TZ).timestamp()  # 10:00 site time
PASSWORD = "correct horse battery"
PEOPLE = [User("ann", "agent", agent="1001"), User("lena", "teamlead", team="front", phone="lead1"),
          User("quinn", "qa"), User("mia", "manager"), User("root", "admin")]  # fmt: skip
HTML = {"Accept": "text/html"}
CALLER = "13812345678"


def _login(agent: str, at: float) -> Fact:
    return Fact("agent.status", at, "", "", f"agent.status:{agent}:login", {"agent": agent, "action": "login",
                "status": "available", "reason": "", "state": "idle"})  # fmt: skip


def _call(c: str, at: float, agent: str | None) -> list[Fact]:
    return queued_call(c, at, agent, CALLER)


# the morning: 1001 and 1002 (team front) and 2001 (team outbound) log in at 10:00; 1001 answers two calls, 2001
# one, and one caller hangs up unanswered
MORNING = [_login("1001", T0), _login("1002", T0), _login("2001", T0), *_call("k1", T0 + 100, "1001"),
           *_call("k2", T0 + 400, "1001"), *_call("k3", T0 + 700, "2001"), *_call("k4", T0 + 1000, None)]  # fmt: skip




def _case(case_id: str, kind: str, team: str, owner: str, opened: float, due: float,
          resolved: float | None = None) -> dict:  # fmt: skip
    return {"id": case_id, "kind": kind, "source": "menu", "status": "resolved" if resolved else "open",
            "number": "+86" + CALLER, "owner": owner, "team": team, "opened_at": opened, "due_at": due,
            "resolved_at": resolved, "links": [], "updated_at": resolved or opened}  # fmt: skip


# the cases: a complaint of each team, open; front's follow-up of 1001 due at 10:30 and done at 10:20
CASES = [_case("cs1", "complaint", "front", "1001", T0 + 200, T0 + 5 * 86400),
         _case("cs2", "complaint", "outbound", "2001", T0 + 300, T0 + 5 * 86400),
         _case("cs3", "follow_up", "front", "1001", T0 + 400, T0 + 1800, T0 + 1200)]  # fmt: skip


async def _insert(store: Store, rows: list[dict]) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(cases.insert(), rows)


@dataclass
class Site:
    client: TestClient
    store: Store

    def sign_in(self, name: str) -> None:
        self.client.cookies.clear()
        form = self.client.get("/signin")
        nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        r = self.client.post("/signin", data={"name": name, "password": PASSWORD, "csrf": nonce, "next": "/me"},
                             follow_redirects=False)  # fmt: skip
        assert r.status_code == 303

    def get(self, path: str, lang: str = "en"):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers={**HTML, "Accept-Language": lang}, follow_redirects=False)

    def refusals(self) -> list[dict]:
        facts = self.client.portal.call(self.store.facts, None, ("action",))
        return [f.data for f in facts if not f.data["ok"]]


@pytest.fixture
def site(tmp_path):
    (tmp_path / "secret").write_text("x")
    url = f"sqlite+aiosqlite:///{tmp_path / 'reports.db'}"
    (tmp_path / "site.toml").write_text(site_text(ami_port=1, agi_port=2, secret_file=tmp_path / "secret",
                                                  recordings=tmp_path, store_url=url, queue_log=tmp_path / "q",
                                                  outbound_agents=2))  # fmt: skip
    demo = load_site(tmp_path / "site.toml")
    migrate(url)
    store = Store(url)
    groups = {a.id: frozenset(a.groups) for a in demo.agents}
    policy = Policy(lambda a: groups.get(a, frozenset()))

    async def record(facts):  # type: ignore[no-untyped-def]
        await store.append(facts, T0 + 3000)

    async def nothing(agent: str, action: str, arg: str) -> str:
        return ""

    api = ServiceApi(policy, Backends(nothing), record, RealClock(), frozenset(groups))
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    console = Console(UserStore(store), passwords, lambda: policy, api.do, record, RealClock())
    case_rows = CaseStore(store.engine)
    reports = Reports(demo, ReportStore(store.engine), cases=lambda a, b: case_rows.rows(since=a, until=b))
    pages = report_routes(reports.report, Choices.of(demo), lambda: DAY,
                          who=console.who, policy=console.policy, refuse=console.refuse)  # fmt: skip
    app = create_app(routes=[*console.routes(), *pages, static_route()])
    with TestClient(app) as client:
        s = Site(client, store)
        for u in PEOPLE:
            s.client.portal.call(console.users.add, u, passwords.hash(PASSWORD), Actor("t", Role.ADMIN), 1.0)
        s.client.portal.call(store.append, MORNING, T0 + 2000)
        s.client.portal.call(store.rebuild_records)
        s.client.portal.call(_insert, store, CASES)
        yield s
        s.client.portal.call(store.close)


def _cells(page: str, table: str) -> list[list[str]]:
    """A table's body rows as text cells (row headers included)."""
    body = re.search(rf'<table id="{table}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r,
                                                                                   re.S)]
            for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]  # fmt: skip


def _column(page: str, table: str, key: str) -> list[str]:
    head = re.search(rf'<table id="{table}".*?<thead>(.*?)</thead>', page, re.S).group(1)
    i = re.findall(r'data-key="([^"]+)"', head).index(key)
    return [r[i] for r in _cells(page, table)]


def test_the_index_lists_what_each_role_may_read(site):
    every = ["agents", "services", "hotline", "campaigns", "cases", "sales"]
    expect = {"ann": ["agents", "sales"], "lena": every, "quinn": ["agents", "hotline", "cases"], "mia": every,
              "root": every}  # fmt: skip
    for name, reports in expect.items():
        site.sign_in(name)
        page = site.get("/reports")
        assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
        assert re.findall(r'<a href="/reports/(\w+)">', page.text) == reports, name
    zh = site.get("/reports", "zh-CN,zh;q=0.9")
    assert '<html lang="zh-CN">' in zh.text and "坐席工作统计" in zh.text
    site.client.cookies.clear()
    r = site.get("/reports/agents")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/reports/agents"


def test_a_team_lead_gets_its_own_team_and_is_refused_another_with_a_fact(site):
    site.sign_in("lena")
    page = site.get("/reports/agents")
    assert page.status_code == 200
    assert sorted(_column(page.text, "figures", "agent")) == ["1001", "1002"], "front's agents, not 2001"
    assert _column(page.text, "figures", "inbound_calls") == ["2", "0"]
    assert '<option value="front" selected>' in page.text and '<option value="outbound"' not in page.text
    report = site.client.get(f"/reports/agents.json?{_query(page.text)}").json()
    assert report["filters"] == {"team": "front"}
    shown = {k: html.unescape(v) for k, v in re.findall(r'<dd id="f-(\w+)">(.*?)</dd>', page.text, re.S)}
    assert shown == report["formulas"], "every formula under the table, the report's own text"
    assert 'data-key="aht" aria-describedby="f-aht"' in page.text
    assert site.refusals() == []

    r = site.get("/reports/agents?team=outbound")
    assert r.status_code == 403 and '<p role="alert">lena does not lead team outbound</p>' in r.text
    r = site.get("/reports/agents.csv?agent=2001")
    assert r.status_code == 403 and "2001 is not in a team lena leads" in r.text
    assert [(f["actor"], f["action"], f["agent"], f["arg"], f["result"]) for f in site.refusals()] == [
        ("lena", "view", "", "report agents team=outbound", "lena does not lead team outbound"),
        ("lena", "view", "2001", "report agents agent=2001", "2001 is not in a team lena leads")]  # fmt: skip
    services = site.get("/reports/services")
    assert services.status_code == 200 and _column(services.text, "figures", "offered") == ["4"]


def _query(page: str) -> str:
    return html.unescape(re.search(r'<a href="/reports/\w+\.json\?([^"]*)"', page).group(1))


def test_an_agent_reads_its_own_row_only(site):
    site.sign_in("ann")
    page = site.get("/reports/agents")
    assert page.status_code == 200 and _column(page.text, "figures", "agent") == ["1001"]
    assert re.findall(r'<select id="f-agent".*?</select>', page.text, re.S)[0].count("<option") == 2, "all, 1001"
    for path, why in [("/reports/agents?agent=1002", "1001 may read its own figures only"),
                      ("/reports/agents?team=front", "1001 may read its own figures only"),
                      ("/reports/services", "the services report is for managers, team leads and admins"),
                      ("/reports/services.png", "the services report is for managers, team leads and admins")]:
        r = site.get(path)
        assert r.status_code == 403 and f'<p role="alert">{why}</p>' in r.text, path
    json_refusal = site.client.get("/reports/hotline.json", headers={"Accept": "application/json"})
    assert json_refusal.status_code == 403 and json_refusal.json()["reason"].startswith("the hotline report is for")
    assert len(site.refusals()) == 5 and all(f["actor"] == "1001" for f in site.refusals())


def test_qa_reads_the_quality_reports_and_every_agent(site):
    site.sign_in("quinn")
    page = site.get("/reports/agents")
    assert page.status_code == 200 and sorted(_column(page.text, "figures", "agent")) == ["1001", "1002", "2001"]
    hotline = site.get("/reports/hotline")
    assert hotline.status_code == 200 and 'id="target">Satisfaction target: 95.0 %' in hotline.text
    assert site.get("/reports/campaigns").status_code == 403


def test_the_manager_sees_services_with_the_masked_abandoned_call_and_the_plot(site):
    site.sign_in("mia")
    page = site.get("/reports/services?interval=1d")
    assert page.status_code == 200
    total = dict(zip(re.findall(r'data-key="([^"]+)"', page.text), _tfoot(page.text), strict=True))
    assert (total["offered"], total["answered"], total["abandoned"]) == ("4", "3", "1")
    assert total["asa"] == "4.0", "each answered caller waited 4 s: queued at +5, up at +9"
    (row,) = _cells(page.text, "abandoned")
    assert row[0] == dt.datetime.fromtimestamp(T0 + 1005, TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert CALLER not in page.text and row[2].endswith(CALLER[-4:]) and row[3] == "20.0"
    src = re.search(r'<img id="plot" src="([^"]+)"', page.text).group(1)
    assert html.unescape(src) == "/reports/services.png?from=2027-03-05&to=2027-03-05&interval=1d"
    png = site.client.get(html.unescape(src))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["content-type"] == "image/png"
    assert site.get("/reports/campaigns").status_code == 200 and 'id="plot"' not in site.get(
        "/reports/campaigns").text, "campaigns have no plot"
    empty = site.client.get("/reports/agents.png?from=2027-03-04&to=2027-03-04")
    assert empty.status_code == 200 and empty.content.startswith(b"\x89PNG"), "a day without rows plots too"
    zh = site.get("/reports/services?interval=1d", "zh-CN,zh;q=0.9")
    assert '<html lang="zh-CN">' in zh.text and "<title>业务统计 · hotline</title>" in zh.text
    assert '<dt><code>offered</code> 呼入量</dt>' in zh.text and _tfoot(zh.text)[:3] == ["total", "", "4"]


def _tfoot(page: str) -> list[str]:
    foot = re.search(r'<table id="figures".*?<tfoot>(.*?)</tfoot>', page, re.S).group(1)
    return [html.unescape(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", foot, re.S)]


def test_downloads_carry_the_same_report(site):
    site.sign_in("mia")
    q = "from=2027-03-05&to=2027-03-05&team=front"
    x = site.client.get(f"/reports/agents.xlsx?{q}")
    assert x.status_code == 200 and 'attachment; filename="agents-2027-03-05-2027-03-05.xlsx"' == x.headers[
        "content-disposition"]  # fmt: skip
    book = load_workbook(io.BytesIO(x.content))
    assert book.sheetnames == ["agents", "formulas"]
    rows = list(book["agents"].values)
    agent_at, calls_at = rows[0].index("agent"), rows[0].index("inbound_calls")
    assert sorted((r[agent_at], r[calls_at]) for r in rows[1:-1]) == [("1001", 2), ("1002", 0)]
    assert rows[-1][0] == "total" and rows[-1][calls_at] == 2
    c = site.client.get(f"/reports/agents.csv?{q}")
    assert c.headers["content-disposition"].startswith("attachment") and c.headers["content-type"].startswith(
        "text/csv")  # fmt: skip
    assert [r["agent"] for r in csv.DictReader(io.StringIO(c.text))] == [r[agent_at] or "" for r in rows[1:]]
    j = json.loads(site.client.get(f"/reports/agents.json?{q}").content)
    assert j["report"] == "agents" and j["filters"] == {"team": "front"} and len(j["rows"]) == len(rows) - 2
    assert site.client.get(f"/reports/campaigns.png?{q}").status_code == 404
    assert site.client.get("/reports/agents.txt").status_code == 404


@pytest.mark.parametrize(("query", "field", "says"), [
    ("from=2027-13-01", "from", "from '2027-13-01': not a date"),
    ("to=yesterday", "to", "to 'yesterday': not a date"),
    ("team=nowhere", "team", "team nowhere: no such team in the site"),
    ("agent=9999", "agent", "agent 9999: no such agent in the site"),
    ("service=sales", "service", "service sales: no such service in the site"),
    ("interval=2h", "interval", "interval 2h: not one of 15m, 1h, 1d"),
    ("from=2027-01-01&to=2027-03-05", "to", "to 2027-03-05: at most 31 days from 2027-01-01 on a page"),
])  # fmt: skip
def test_a_wrong_field_is_a_400_naming_it(site, query, field, says):
    site.sign_in("mia")
    r = site.get(f"/reports/agents?{query}")
    assert r.status_code == 400
    problem = html.unescape(re.search(r'<p id="problem"[^>]*>(.*?)</p>', r.text, re.S).group(1))
    assert problem.startswith("Check the form: ") and says in problem
    assert re.findall(r'id="f-(\w+)"[^>]*aria-invalid="true"', r.text) == [field]
    assert 'id="figures"' not in r.text


def test_an_unknown_report_and_a_filter_the_report_does_not_take(site):
    site.sign_in("mia")
    assert site.get("/reports/payroll").status_code == 404
    r = site.get("/reports/hotline?team=front")
    assert r.status_code == 400 and "team does not apply to the hotline report" in html.unescape(r.text)


def test_the_cases_report_by_role(site):
    site.sign_in("mia")
    page = site.get("/reports/cases")
    assert page.status_code == 200
    total = dict(zip(re.findall(r'data-key="([^"]+)"', page.text.split('id="outside"')[0]), _tfoot(page.text),
                     strict=True))  # fmt: skip
    assert (total["opened"], total["open"], total["follow_ups_due"], total["follow_ups_done"]) == ("2", "2", "1", "1")
    assert total["by_source"] == "menu:2" and total["follow_up_rate"] == "1.0"
    outside = dict(re.findall(r'<dd data-key="(\w+)">([^<]*)</dd>', page.text))
    assert outside["goal_met"] == "yes" and outside["cases_resolved"] == "1", "cs3 resolved, nobody called again"
    shown = {k for k, _ in re.findall(r'<dd id="f-(\w+)">(.*?)</dd>', page.text, re.S)}
    assert set(outside) <= shown, "a figure outside the table has its formula too"
    assert 'id="plot"' not in page.text and 'id="goal">Follow-up rate goal: 0.6<' in page.text

    site.sign_in("lena")  # its team's cases only, front's selected
    page = site.get("/reports/cases")
    assert page.status_code == 200 and '<option value="front" selected>' in page.text
    assert _tfoot(page.text)[1] == "1", "front's complaint only"
    assert site.get("/reports/cases?team=outbound").status_code == 403
    site.sign_in("quinn")
    assert _tfoot(site.get("/reports/cases").text)[1] == "2", "QA reads every team's"
    site.sign_in("ann")
    r = site.get("/reports/cases")
    assert r.status_code == 403 and "the cases report is for managers, team leads, qas and admins" in r.text
    assert [f["arg"] for f in site.refusals()] == ["report cases team=outbound", "report cases agent=1001"]


def test_the_agents_report_counts_the_follow_ups_an_agent_owns(site):
    site.sign_in("ann")
    page = site.get("/reports/agents")
    assert _column(page.text, "figures", "follow_ups_due") == ["1"]
    assert _column(page.text, "figures", "follow_ups_on_time") == ["1"]
