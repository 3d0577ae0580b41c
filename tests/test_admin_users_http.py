"""The admin's users page over HTTP: Starlette's test client against the console's real sign-in, a real SQLite store
(users and ledger) and the real policy. An admin adds a user and its password, shown once, signs it in; a mistake
names its field and writes nothing; a new password and a disabled user end that user's open session; every other
role is refused with the policy's reason and a fact; a POST without the CSRF token is refused before anything."""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from engine.clock import RealClock
from engine.passwords import Passwords
from engine.policy import Actor, Policy, Role
from engine.service_api import Backends, ServiceApi
from engine.store.store import Store, migrate
from engine.store.users import UserStore
from engine.users import User
from engine.web.admin.routes import admin_routes, field_of
from engine.web.app import create_app
from engine.web.auth import SESSION_COOKIE, Console

GROUPS = {"1001": ("north",), "1002": ("south",)}
PASSWORD = "correct horse battery"
ROOT = Actor("root", Role.ADMIN, via="cli")
PEOPLE = [User("ann", "agent", agent="1001"), User("lena", "teamlead", team="north", phone="lead1"),
          User("quinn", "qa"), User("mia", "manager"), User("root", "admin")]  # fmt: skip
HTML = {"Accept": "text/html"}


@dataclass
class Site:
    client: TestClient
    store: Store
    console: Console
    wall: list[float]

    def run(self, fn, *args):  # type: ignore[no-untyped-def]
        return self.client.portal.call(fn, *args)  # in the app's own event loop, where the store's pool lives

    def facts(self, kind: str) -> list[dict]:
        return [f.data for f in self.run(self.store.facts, None, (kind,))]

    def names(self) -> list[str]:
        return [u.name for u in self.run(self.console.users.list)]

    def sign_in(self, name: str, password: str = PASSWORD) -> int:
        self.client.cookies.clear()
        form = self.client.get("/signin")
        nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        r = self.client.post("/signin", data={"name": name, "password": password, "csrf": nonce, "next": "/me"},
                             follow_redirects=False)  # fmt: skip
        return r.status_code

    def replay(self, cookie: str) -> int:
        """GET /me with only ``cookie``, a session cookie kept from before: 200 while that session holds."""
        self.client.cookies.clear()
        self.client.cookies.set(SESSION_COOKIE, cookie)
        return self.client.get("/me", follow_redirects=False).status_code

    def csrf(self) -> str:
        return self.client.get("/me").json()["csrf"]

    def post(self, path: str, **fields: str):  # type: ignore[no-untyped-def]
        return self.client.post(f"/admin/users/{path}", data={"csrf": self.csrf(), **fields}, headers=HTML)


def shown_password(page: str) -> str:
    return re.search(r'<code id="password"[^>]*>([^<]+)</code>', page).group(1)


@pytest.fixture
def site(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}"
    migrate(url)
    store = Store(url)
    users = UserStore(store)
    wall = [1_000_000.0]

    async def record(facts):  # type: ignore[no-untyped-def]
        await store.append(facts, wall[0])

    async def nothing(agent: str, action: str, arg: str) -> str:
        return ""

    policy = Policy(lambda a: frozenset(GROUPS.get(a, ())))
    api = ServiceApi(policy, Backends(nothing), record, RealClock(), frozenset(GROUPS))
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    console = Console(users, passwords, lambda: policy, api.do, record, RealClock(), wall=lambda: wall[0])
    app = create_app(routes=[*console.routes(), *admin_routes(console, GROUPS, "Asia/Shanghai")])
    with TestClient(app) as client:
        s = Site(client, store, console, wall)
        for u in PEOPLE:
            s.run(users.add, u, passwords.hash(PASSWORD), ROOT, 1.0)
        yield s
        s.run(store.close)


def test_admin_adds_a_user_whose_password_shown_once_signs_it_in(site):
    assert site.sign_in("root") == 303
    page = site.client.get("/admin/users", headers=HTML)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert '<label for="add-role">Role</label>' in page.text and 'id="password"' not in page.text
    assert [m for m in re.findall(r'<th scope="row">([^<]+)</th>', page.text)] == sorted(u.name for u in PEOPLE)
    assert "$argon2" not in page.text

    r = site.post("add", name="tl2", role="teamlead", team="south", phone="lead2", agent="")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "User tl2 added (team lead)." in r.text
    password = shown_password(r.text)
    assert len(password) == 20 and password not in site.client.get("/admin/users", headers=HTML).text, "once"
    row = re.search(r'<tr data-user="tl2">.*?</tr>', r.text, re.S).group(0)
    assert ">team lead<" in row and ">south<" in row and ">lead2<" in row and ">active<" in row
    shown = datetime.fromtimestamp(site.wall[0], ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert row.count(f"<time>{shown}</time>") == 2, "created and changed on the wall clock, in the site's zone"
    added = site.facts("user.added")[-1]
    assert added == {"actor": "root", "role": "admin", "via": "web", "user": "tl2", "user_role": "teamlead",
                     "agent": "", "team": "south", "phone": "lead2"}  # fmt: skip
    assert password not in str(site.facts("user.added")) and password not in str(site.run(site.console.users.get,
                                                                                         "tl2"))  # fmt: skip
    assert site.sign_in("tl2", password) == 303
    me = site.client.get("/me").json()
    assert (me["name"], me["policy_role"], me["teams"], me["phone"]) == ("tl2", "team_lead", ["south"], "lead2")


@pytest.mark.parametrize(("fields", "field", "says"), [
    ({"name": "x1", "role": "boss"}, "role", "role 'boss': not a role"),
    ({"name": "x1", "role": "agent", "agent": "9"}, "agent", "agent '9': no agent of that id in the site file"),
    ({"name": "x1", "role": "agent"}, "agent", "agent: a user of role agent needs"),
    ({"name": "x1", "role": "teamlead", "team": "east"}, "team", "team 'east': not a group of the site's agents"),
    ({"name": "x1", "role": "qa", "team": "north"}, "team", "team: only a team lead leads a team (this one is qa)"),
    ({"name": "Bad Name", "role": "qa"}, "name", "name 'Bad Name': use 1 to 64 of a-z"),
    ({"name": "ann", "role": "qa"}, "name", "name 'ann': a user of that name exists"),
    ({"name": "x1", "role": "qa", "phone": "p" * 81}, "phone", "phone: at most 80 characters"),
])  # fmt: skip
def test_a_mistake_names_its_field_and_writes_nothing(site, fields, field, says):
    assert site.sign_in("root") == 303
    before = site.names()
    r = site.post("add", **fields)
    assert r.status_code == 400 and 'id="password"' not in r.text
    problem = re.search(r'<p id="problem"[^>]*role="alert">([^<]+)</p>', r.text).group(1)
    assert problem.startswith("Nothing was changed: ") and says.replace("'", "&#39;") in problem
    (invalid,) = re.findall(r'id="add-(\w+)"[^>]*aria-invalid="true"', r.text, re.S)
    assert invalid == field
    assert f'value="{fields["name"]}"' in r.text, "what was typed stays in the form"
    assert site.names() == before and len(site.facts("user.added")) == len(PEOPLE)


def test_field_of_reads_the_command_lines_problems():
    assert [field_of(p) for p in ("--agent: x", "--team 'e': x", "name 'a': x", "password: x", "odd")] == [
        "agent", "team", "name", "", ""]


def test_disabling_a_user_ends_its_open_session(site):
    assert site.sign_in("ann") == 303
    ann = site.client.cookies[SESSION_COOKIE]
    assert site.replay(ann) == 200
    assert site.sign_in("root") == 303
    ask = site.client.get("/admin/users?disable=ann", headers=HTML)
    assert "<h2 id=\"h-confirm\">Disable ann?</h2>" in ask.text and site.facts("user.disabled") == []
    assert 'id="h-confirm"' not in site.client.get("/admin/users?disable=root", headers=HTML).text, "not oneself"
    r = site.post("disable", name="ann")
    assert r.status_code == 200 and "User ann disabled" in r.text
    assert ">disabled<" in re.search(r'<tr data-user="ann".*?</tr>', r.text, re.S).group(0)
    assert site.facts("user.disabled") == [{"actor": "root", "role": "admin", "via": "web", "user": "ann"}]
    assert site.post("disable", name="ann").status_code == 400, "already disabled: nothing more written"
    r = site.post("disable", name="root")
    assert r.status_code == 400 and "you are signed in as it" in r.text
    assert len(site.facts("user.disabled")) == 1
    assert site.replay(ann) == 303, "ann's session ended"
    assert site.sign_in("ann") == 403


def test_a_new_password_ends_that_users_sessions_and_the_shown_one_works(site):
    assert site.sign_in("quinn") == 303
    quinn = site.client.cookies[SESSION_COOKIE]
    assert site.replay(quinn) == 200
    assert site.sign_in("root") == 303
    site.wall[0] += 1
    r = site.post("passwd", name="quinn")
    assert r.status_code == 200 and "New password for quinn: its open sessions end." in r.text
    password = shown_password(r.text)
    assert site.facts("user.password") == [{"actor": "root", "role": "admin", "via": "web", "user": "quinn"}]
    assert site.client.get("/me").json()["name"] == "root", "the admin's own session goes on"
    assert site.post("passwd", name="nobody").status_code == 400 and len(site.facts("user.password")) == 1
    assert site.replay(quinn) == 303, "quinn's session ended"
    assert site.sign_in("quinn", PASSWORD) == 401
    assert site.sign_in("quinn", password) == 303


@pytest.mark.parametrize("name", ["ann", "lena", "quinn", "mia"])
def test_every_other_role_is_refused_with_the_reason_and_a_fact(site, name):
    assert site.sign_in(name) == 303
    actor = site.client.get("/me").json()["actor"]
    r = site.client.get("/admin/users", headers=HTML)
    assert r.status_code == 403 and '<p role="alert">only an admin may manage users</p>' in r.text
    r = site.post("add", name="x1", role="admin")
    assert r.status_code == 403 and "only an admin may manage users" in r.text
    assert site.names() == sorted(u.name for u in PEOPLE)
    assert [(f["actor"], f["action"], f["arg"], f["ok"], f["result"]) for f in site.facts("action")] == [
        (actor, "view", "users", False, "only an admin may manage users")] * 2


def test_a_post_without_the_csrf_token_is_refused_before_anything(site):
    assert site.sign_in("root") == 303
    for token in ({}, {"csrf": "forged"}):
        r = site.client.post("/admin/users/add", data={"name": "x1", "role": "admin", **token})
        assert r.status_code == 403 and r.json() == {"ok": False, "reason": "the request has no valid CSRF token"}
    r = site.client.post("/admin/users/disable", data={"name": "ann"})
    assert r.status_code == 403
    assert site.names() == sorted(u.name for u in PEOPLE) and site.facts("user.disabled") == []
    assert [(f["actor"], f["action"], f["arg"]) for f in site.facts("action")] == [
        ("root", "post", "/admin/users/add")] * 2 + [("root", "post", "/admin/users/disable")]


def test_the_page_in_chinese(site):
    assert site.sign_in("root") == 303
    r = site.client.get("/admin/users", headers={**HTML, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in r.text and '<label for="add-role">角色</label>' in r.text
    assert '<h2 id="h-add">添加用户</h2>' in r.text and ">管理员<" in r.text
