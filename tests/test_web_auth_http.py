"""Sign-in over HTTP: Starlette's test client against create_app, with a real SQLite store (users and ledger),
the real service API and policy, and the features behind the API as a fake that remembers what it was asked."""

import re
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher
from prometheus_client import CollectorRegistry, Counter
from starlette.testclient import TestClient

from acd.agent_state import InvalidTransition
from engine.clock import RealClock
from engine.passwords import Passwords
from engine.policy import Actor, Policy, Role
from engine.service_api import Backends, ServiceApi
from engine.store.store import Store, migrate
from engine.store.users import UserStore
from engine.users import User
from engine.web.app import create_app
from engine.web.auth import SESSION_COOKIE, Console
from engine.web.limiter import LoginLimiter
from engine.web.sessions import Sessions

GROUPS = {"1001": frozenset({"north"}), "1002": frozenset({"south"})}
PASSWORD = "correct horse battery"
ROOT = Actor("root", Role.ADMIN, via="cli")
PEOPLE = [User("ann", "agent", agent="1001"), User("bob", "agent", agent="1002"),
          User("lena", "teamlead", team="north", phone="lead1"), User("quinn", "qa", phone="qa1"),
          User("mia", "manager"), User("root", "admin")]  # fmt: skip


@dataclass
class Site:
    client: TestClient
    store: Store
    users: UserStore
    console: Console
    wall: list[float]
    done: list[tuple] = field(default_factory=list)  # what the features behind the API were asked

    def run(self, fn, *args):  # type: ignore[no-untyped-def]
        return self.client.portal.call(fn, *args)  # in the app's own event loop, where the store's pool lives

    def facts(self, kind: str) -> list[dict]:
        return [f.data for f in self.run(self.store.facts, None, (kind,))]

    def sign_in(self, name: str, password: str = PASSWORD, address: str | None = None):  # type: ignore[no-untyped-def]
        form = self.client.get("/signin?next=/me")
        nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        return self.client.post("/signin", data={"name": name, "password": password, "csrf": nonce, "next": "/me"},
                                follow_redirects=False)  # fmt: skip

    def csrf(self) -> str:
        return self.client.get("/me").json()["csrf"]


@pytest.fixture
def site(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"
    migrate(url)
    store = Store(url)
    users = UserStore(store)
    wall = [1_000_000.0]
    done: list[tuple] = []

    async def agent_control(agent: str, action: str, arg: str) -> str:
        if action == "logout" and agent == "1002":
            raise InvalidTransition(f"{agent}: cannot log out while on_call")
        done.append((agent, action, arg))
        return f"{agent} {action}"

    async def record(facts):  # type: ignore[no-untyped-def]
        await store.append(facts, wall[0])

    policy = Policy(lambda a: GROUPS.get(a, frozenset()))
    api = ServiceApi(policy, Backends(agent_control), record, RealClock(), frozenset(GROUPS),
                     refusals=(ValueError, InvalidTransition))  # fmt: skip
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    console = Console(users, passwords, lambda: policy, api.do, record, RealClock(), wall=lambda: wall[0],
                      sessions=Sessions(lifetime=3600), limiter=LoginLimiter(per_user=3, per_address=6, window=300))
    registry = CollectorRegistry()
    Counter("hotline_test_total", "a tally", registry=registry).inc()
    with TestClient(create_app(metrics=registry, routes=console.routes())) as client:
        s = Site(client, store, users, console, wall, done)
        for u in PEOPLE:
            s.run(users.add, u, passwords.hash(PASSWORD), ROOT, 1.0)
        yield s
        s.run(store.close)


def test_sign_in_per_role_maps_to_the_policy_actor(site):
    expect = {"ann": ("1001", "agent", []), "bob": ("1002", "agent", []), "lena": ("lena", "team_lead", ["north"]),
              "quinn": ("quinn", "qa", []), "mia": ("mia", "manager", []), "root": ("root", "admin", [])}  # fmt: skip
    for name, (actor, role, teams) in expect.items():
        site.client.cookies.clear()
        r = site.sign_in(name)
        assert r.status_code == 303 and r.headers["location"] == "/me"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=3600" in cookie
        me = site.client.get("/me").json()
        assert (me["name"], me["actor"], me["policy_role"], me["teams"]) == (name, actor, role, teams)
        assert "password_hash" not in me and me["expires_in"] == 3600
        home = site.client.get("/", follow_redirects=False).headers["location"]
        assert home == {"agent": "/agent", "team_lead": "/team", "qa": "/qa"}.get(role, "/wallboard"), name
    signins = site.facts("user.signin")
    assert [f["user"] for f in signins] == list(expect) and all(f["ok"] for f in signins)


def test_not_signed_in_pages_redirect_api_says_401_and_metrics_stays_open(site):
    r = site.client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/me"
    r = site.client.post("/api/action", json={"action": "pause"})
    assert r.status_code == 401 and r.json()["reason"] == "not signed in"
    r = site.client.get("/metrics")
    assert r.status_code == 200 and "hotline_test_total 1.0" in r.text


def test_wrong_password_and_unknown_name_are_refused_alike(site):
    for name, pw in (("ann", "wrong password!"), ("nobody", PASSWORD)):
        r = site.sign_in(name, pw)
        assert r.status_code == 401 and "Wrong name or password." in r.text
        assert SESSION_COOKIE not in site.client.cookies
    assert site.client.get("/me", follow_redirects=False).status_code == 303
    assert [(f["user"], f["ok"], f["result"]) for f in site.facts("user.signin")] == [
        ("ann", False, "wrong name or password"), ("nobody", False, "wrong name or password")]


def test_the_sign_in_form_and_its_answers_in_chinese(site):
    zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    form = site.client.get("/signin", headers=zh)
    assert '<html lang="zh-CN">' in form.text and '<label for="name">用户名</label>' in form.text
    nonce = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = site.client.post("/signin", data={"name": "ann", "password": "wrong password!", "csrf": nonce}, headers=zh)
    assert r.status_code == 401 and "用户名或密码错误。" in r.text
    assert "Wrong name or password." in site.sign_in("ann", "wrong password!").text, "English otherwise"


def test_sign_in_without_its_form_token_is_refused(site):
    r = site.client.post("/signin", data={"name": "ann", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "The form had expired" in r.text
    site.client.get("/signin")  # a nonce cookie, but the form's field is another
    r = site.client.post("/signin", data={"name": "ann", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and SESSION_COOKIE not in site.client.cookies


def test_rate_limit_per_user_refuses_even_the_right_password_until_the_window_passes(site):
    for _ in range(3):
        assert site.sign_in("ann", "wrong password!").status_code == 401
    r = site.sign_in("ann")
    assert r.status_code == 429 and r.headers["retry-after"] == "301"
    assert "Too many failed sign-ins: try again in 301 s." in r.text
    assert site.sign_in("bob").status_code == 303  # another user, same address: under its limit (6)
    site.wall[0] += 301
    assert site.sign_in("ann").status_code == 303


def test_rate_limit_per_address_across_names(site):
    for i in range(6):
        assert site.sign_in(f"guess{i}", "wrong password!").status_code == 401
    r = site.sign_in("ann")
    assert r.status_code == 429  # the right password, from an address that guessed too often


def test_session_expires(site):
    assert site.sign_in("ann").status_code == 303
    site.wall[0] += 3599
    assert site.client.get("/me").status_code == 200
    site.wall[0] += 1
    assert site.client.get("/me", follow_redirects=False).status_code == 303


def test_disabled_users_open_session_stops_at_its_next_request_and_it_cannot_sign_in(site):
    assert site.sign_in("ann").status_code == 303
    token = site.csrf()
    site.wall[0] += 1
    site.run(site.users.disable, "ann", ROOT, site.wall[0])  # as `hotline users disable` does, from outside
    r = site.client.post("/api/action", json={"action": "pause", "arg": "lunch"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 401 and site.done == []
    assert len(site.console.sessions) == 0  # forgotten on the server too
    r = site.sign_in("ann")
    assert r.status_code == 403 and "This user is disabled." in r.text
    assert site.facts("user.disabled") == [{"actor": "root", "role": "admin", "via": "cli", "user": "ann"}]


def test_new_password_ends_sessions_opened_before_it(site):
    assert site.sign_in("bob").status_code == 303
    site.wall[0] += 1
    site.run(site.users.set_password, "bob", site.console.passwords.hash("another password"), ROOT, site.wall[0])
    assert site.client.get("/me", follow_redirects=False).status_code == 303
    assert site.sign_in("bob", "another password").status_code == 303


def test_post_without_or_with_a_wrong_csrf_token_is_refused_with_a_fact(site):
    assert site.sign_in("ann").status_code == 303
    for headers, body in (({}, {"action": "pause"}), ({"X-CSRF-Token": "forged"}, {"action": "pause"})):
        r = site.client.post("/api/action", json=body, headers=headers)
        assert r.status_code == 403 and r.json() == {"ok": False, "reason": "the request has no valid CSRF token"}
    r = site.client.post("/signout", data={})
    assert r.status_code == 403 and site.client.get("/me").status_code == 200  # still signed in
    assert site.done == []
    refused = site.facts("action")
    assert len(refused) == 3 and {(f["actor"], f["action"], f["arg"], f["ok"]) for f in refused} == {
        ("1001", "post", "/api/action", False), ("1001", "post", "/signout", False)}


def test_actions_go_through_the_service_api_form_or_json(site):
    assert site.sign_in("ann").status_code == 303
    token = site.csrf()
    r = site.client.post("/api/action", json={"action": "pause", "arg": "lunch"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json() == {"ok": True, "result": "1001 pause"}
    r = site.client.post("/api/action", data={"action": "resume", "csrf": token})
    assert r.status_code == 200
    assert site.done == [("1001", "pause", "lunch"), ("1001", "resume", "")]
    assert [(f["actor"], f["via"], f["action"], f["ok"]) for f in site.facts("action")] == [
        ("1001", "web", "pause", True), ("1001", "web", "resume", True)]


def test_agent_acting_on_another_agent_is_refused_with_reason_and_fact(site):
    assert site.sign_in("ann").status_code == 303
    token = site.csrf()
    r = site.client.post("/api/action", json={"action": "pause", "agent": "1002"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403
    assert r.json() == {"ok": False, "reason": "pause is the agent's own action: 1001 may not take it for 1002"}
    r = site.client.post("/api/action", json={"action": "force_pause", "agent": "1002"},
                         headers={"X-CSRF-Token": site.csrf()})  # fmt: skip
    assert r.status_code == 403 and r.json()["reason"] == "an agent may not force pause another agent"
    assert site.done == []
    facts = site.facts("action")
    assert [(f["actor"], f["role"], f["via"], f["action"], f["agent"], f["ok"], f["refused_by"]) for f in facts] == [
        ("1001", "agent", "web", "pause", "1002", False, "policy"),
        ("1001", "agent", "web", "force_pause", "1002", False, "policy")]


def test_team_lead_on_its_team_only_and_a_state_refusal_is_409(site):
    assert site.sign_in("lena").status_code == 303
    token = site.csrf()
    r = site.client.post("/api/action", json={"action": "force_pause", "agent": "1001", "arg": "coaching"},
                         headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 200 and site.done == [("1001", "pause", "coaching")]
    r = site.client.post("/api/action", json={"action": "force_pause", "agent": "1002"},
                         headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 403 and r.json()["reason"] == "1002 is not in a team lena leads"
    site.client.cookies.clear()
    assert site.sign_in("mia").status_code == 303
    r = site.client.post("/api/action", json={"action": "force_logout", "agent": "1002"},
                         headers={"X-CSRF-Token": site.csrf()})  # fmt: skip
    assert r.status_code == 409 and r.json()["reason"] == "1002: cannot log out while on_call"


def test_users_page_is_the_admins_and_a_refusal_is_a_fact(site):
    assert site.sign_in("mia").status_code == 303
    r = site.client.get("/users")
    assert r.status_code == 403 and r.json()["reason"] == "only an admin may manage users"
    assert site.facts("action") == [{"actor": "mia", "role": "manager", "via": "web", "action": "view", "agent": "",
                                     "arg": "users", "ok": False, "result": "only an admin may manage users",
                                     "refused_by": "policy"}]  # fmt: skip
    site.client.cookies.clear()
    assert site.sign_in("root").status_code == 303
    listed = site.client.get("/users").json()
    assert [u["name"] for u in listed] == sorted(u.name for u in PEOPLE)
    assert all("password_hash" not in u for u in listed)


def test_sign_out_ends_the_session_on_the_server(site):
    assert site.sign_in("quinn").status_code == 303
    cookie = site.client.cookies[SESSION_COOKIE]
    r = site.client.post("/signout", data={"csrf": site.csrf()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    site.client.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, replayed
    assert site.client.get("/me", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_not_a_session(site):
    site.client.cookies.set(SESSION_COOKIE, "eyJzaWQiOiJ4In0.forged")
    assert site.client.get("/me", follow_redirects=False).status_code == 303
