"""Sign-in's parts without HTTP: the limiter, password hashing, sessions and their CSRF tokens, signed cookies,
the users' checks, and a user's mapping to the policy's actor and its page rules."""

import pytest
from argon2 import PasswordHasher

from engine.passwords import Passwords, generate
from engine.policy import Actor, Policy, Role
from engine.users import ROLES, User, actor_of, new_user_problem, password_problem
from engine.web.forms import local_path
from engine.web.limiter import LoginLimiter
from engine.web.sessions import Sessions, Signer, same_token

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
SITE = {"1001": ("north",), "1002": ("south", "night"), "1003": ()}
GROUPS = {k: frozenset(v) for k, v in SITE.items()}
POLICY = Policy(lambda a: GROUPS.get(a, frozenset()))


# the limiter


def test_limiter_refuses_a_user_past_its_failures_until_the_oldest_ages_out():
    lim = LoginLimiter(per_user=3, per_address=100, window=60)
    for t in (0, 10, 20):
        assert lim.retry_after("ann", "10.0.0.1", t) == 0
        lim.failed("ann", "10.0.0.1", t)
    assert lim.retry_after("ann", "10.0.0.9", 30) == 30  # another address does not help: oldest (0) + 60 - 30
    assert lim.retry_after("bob", "10.0.0.1", 30) == 0  # another user from that address may still try
    assert lim.retry_after("ann", "10.0.0.1", 59.5) == pytest.approx(0.5)
    assert lim.retry_after("ann", "10.0.0.1", 60) == 0  # the failure at 0 aged out: two left, under three
    lim.failed("ann", "10.0.0.1", 61)
    assert lim.retry_after("ann", "10.0.0.1", 62) == pytest.approx(8)  # 10, 20, 61: until 10 ages out at 70


def test_limiter_per_address_across_user_names():
    lim = LoginLimiter(per_user=100, per_address=4, window=60)
    for i in range(4):
        lim.failed(f"user{i}", "192.0.2.7", i)
    assert lim.retry_after("someone-new", "192.0.2.7", 5) == pytest.approx(55)
    assert lim.retry_after("someone-new", "192.0.2.8", 5) == 0


def test_limiter_success_clears_the_user_not_the_address():
    lim = LoginLimiter(per_user=2, per_address=3, window=60)
    lim.failed("ann", "a", 0)
    lim.failed("ann", "a", 1)
    assert lim.retry_after("ann", "b", 2) > 0
    lim.succeeded("ann")
    assert lim.retry_after("ann", "b", 2) == 0
    lim.failed("bob", "a", 2)  # the address's third failure in the window
    assert lim.retry_after("ann", "a", 3) == pytest.approx(57)


def test_limiter_memory_is_bounded():
    lim = LoginLimiter(per_user=5, per_address=5, window=60, max_keys=50)
    for i in range(1000):
        lim.failed(f"u{i}", f"addr{i}", i * 0.01)
    assert len(lim._failures) <= 50
    assert lim.retry_after("u999", "addr999", 10) == 0  # one failure each: far under the limit


# hashing


def test_argon2_hash_verifies_only_its_password_and_is_salted():
    pw = Passwords(FAST)
    h1, h2 = pw.hash("correct horse battery"), pw.hash("correct horse battery")
    assert h1.startswith("$argon2id$") and h1 != h2  # a salt of its own each time
    assert pw.verify(h1, "correct horse battery") and pw.verify(h2, "correct horse battery")
    assert not pw.verify(h1, "correct horse batterY")
    assert not pw.verify(None, "correct horse battery")  # unknown user: refused after the same work
    assert not pw.verify("not a hash", "x")


def test_default_hasher_is_argon2id_with_rfc9106_cost():
    pw = Passwords()
    h = pw.hash("correct horse battery")
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert pw.needs_rehash(Passwords(FAST).hash("x" * 10))


def test_generated_passwords_are_long_and_differ():
    made = {generate() for _ in range(20)}
    assert len(made) == 20 and all(len(p) == 20 and password_problem(p) is None for p in made)


def test_password_rules():
    assert password_problem("short") == "password: at least 10 characters"
    assert password_problem(" ten chars ok") == "password: no spaces at its start or end"


# sessions, expiry, CSRF, cookies


def test_session_expires_at_its_lifetime_and_closes():
    s = Sessions(lifetime=100)
    a = s.open("ann", 1000)
    assert s.get(a.sid, 1099.9) == a
    assert s.get(a.sid, 1100) is None and len(s) == 0
    b, c = s.open("bob", 2000), s.open("bob", 2001)
    d = s.open("ann", 2002)
    s.close(b.sid)
    assert s.get(b.sid, 2003) is None and s.get(c.sid, 2003) == c
    s.close_user("bob")
    assert s.get(c.sid, 2003) is None and s.get(d.sid, 2003) == d


def test_sessions_bounded_and_tokens_unique():
    s = Sessions(lifetime=100, max_sessions=10)
    opened = [s.open(f"u{i}", i) for i in range(30)]
    assert len(s) <= 10
    assert s.get(opened[-1].sid, 30) is not None and s.get(opened[0].sid, 30) is None  # oldest went first
    assert len({o.sid for o in opened} | {o.csrf for o in opened}) == 60


def test_csrf_token_compare():
    s = Sessions().open("ann", 0)
    assert same_token(s.csrf, s.csrf)
    assert not same_token(s.csrf, None) and not same_token(s.csrf, "") and not same_token(s.csrf, s.csrf[:-1])
    assert not same_token(s.csrf, Sessions().open("ann", 0).csrf)


def test_signed_cookies_reject_forgery_and_other_keys_and_purposes():
    signer, other = Signer(b"k" * 32), Signer(b"j" * 32)
    cookie = signer.session("sid-1")
    assert signer.session_id(cookie) == "sid-1"
    assert signer.session_id(other.session("sid-1")) is None  # signed with another key
    assert signer.session_id(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    assert signer.session_id(signer.signin("sid-1")) is None  # a sign-in nonce is not a session
    assert signer.signin_nonce(signer.signin("n")) == "n"
    assert signer.session_id(None) is None and signer.session_id("garbage") is None


def test_next_path_stays_on_this_site():
    assert local_path("/agent?x=1") == "/agent?x=1"
    for bad in ("//evil.example/", "https://evil.example/", "evil", "/\\evil", None, ""):
        assert local_path(bad) == "/"


# users and roles


@pytest.mark.parametrize("args, why", [
    (("Ann", "agent", "1001", ""), "name 'Ann': use 1 to 64 of a-z, 0-9, '.', '_' and '-'"),
    (("ann", "boss", "", ""), "--role 'boss': not a role; use one of agent, teamlead, qa, manager, admin, training"),
    (("ann", "agent", "", ""), "--agent: a user of role agent needs the site's agent id it signs in as"),
    (("ann", "agent", "9999", ""), "--agent '9999': no agent of that id in the site file"),
    (("ann", "qa", "1001", ""), "--agent: only a user of role agent is an agent (this one is qa)"),
    (("ann", "teamlead", "", ""), "--team: a team lead needs the team (an agent group of the site) it leads"),
    (("ann", "teamlead", "", "east"), "--team 'east': not a group of the site's agents (groups: night, north, south)"),
    (("ann", "manager", "", "north"), "--team: only a team lead leads a team (this one is manager)"),
    (("root", "admin", "", ""), "name 'root': a user of that name exists (users passwd or users disable change it)"),
])  # fmt: skip
def test_new_user_problems_name_the_field(args, why):
    assert new_user_problem(*args, SITE, ["root"]) == why


def test_good_new_users():
    for args in (("ann", "agent", "1001", ""), ("lena", "teamlead", "", "night"), ("q.a-1", "qa", "", ""),
                 ("boss", "manager", "", ""), ("root2", "admin", "", "")):  # fmt: skip
        assert new_user_problem(*args, SITE, ["root"]) is None


def test_users_map_to_the_policy_actor():
    agent = actor_of(User("ann", "agent", agent="1001"))
    assert agent == Actor("1001", Role.AGENT, via="web")
    lead = actor_of(User("lena", "teamlead", team="north", phone="lead1"))
    assert lead == Actor("lena", Role.TEAM_LEAD, via="web", teams=frozenset({"north"}), phone="lead1")
    assert {r: actor_of(User("x", r, agent="1001" if r == "agent" else "")).role for r in ROLES} == {
        "agent": Role.AGENT, "teamlead": Role.TEAM_LEAD, "qa": Role.QA, "manager": Role.MANAGER, "admin": Role.ADMIN,
        "training": Role.TRAINING}
    # the policy, not the web, decides: the mapped actors get its answers
    assert POLICY.refusal(agent, "pause", "1001") is None
    assert POLICY.refusal(agent, "pause", "1002") == "pause is the agent's own action: 1001 may not take it for 1002"
    assert POLICY.refusal(lead, "force_pause", "1001") is None
    assert POLICY.refusal(lead, "force_pause", "1002") == "1002 is not in a team lena leads"


def test_page_rules_per_role():
    agent, lead = actor_of(User("ann", "agent", agent="1001")), actor_of(User("lena", "teamlead", team="north"))
    qa, manager, admin = (actor_of(User(n, n)) for n in ("qa", "manager", "admin"))
    v = POLICY.view_refusal
    assert v(agent, "agent", "1001") is None
    assert v(agent, "agent", "1002") == "1001 may see its own page only, not 1002's"
    assert v(agent, "wallboard") == "the wallboard is for team leads and managers"
    assert v(lead, "agent", "1001") is None and v(lead, "agent", "1002") == "1002 is not in a team lena leads"
    assert v(lead, "team", "north") is None and v(lead, "team", "south") == "lena does not lead team south"
    assert v(lead, "wallboard") is None and v(qa, "agent", "1002") is None
    assert v(qa, "team", "north") == "qa does not lead team north"
    assert all(v(manager, page, "1002") is None for page in ("agent", "team", "wallboard"))
    for who in (agent, lead, qa, manager):
        assert v(who, "users") == "only an admin may manage users"
    assert v(admin, "users") is None


def test_streams_show_a_team_lead_only_its_teams_agents():
    from types import SimpleNamespace

    from engine.live.bus import Change
    from engine.web.auth import Console

    console = Console(SimpleNamespace(), Passwords(FAST), lambda: POLICY, None, None)  # type: ignore[arg-type]
    lead = actor_of(User("lena", "teamlead", team="north"))
    boss = actor_of(User("mia", "manager"))

    def sees(actor: Actor | None, topic: str, key: str) -> bool:
        return console.visible(actor, Change(topic, key, 0.0, {}))

    assert sees(lead, "agent", "1001") and not sees(lead, "agent", "1002") and not sees(lead, "agent", "1003")
    assert sees(lead, "service", "hotline") and sees(lead, "campaign", "c1")
    assert all(sees(boss, "agent", a) for a in SITE)
    assert not sees(None, "service", "hotline"), "nobody signed in: nothing at all"
