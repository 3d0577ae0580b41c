"""`hotline users`: add, list, passwd, disable, as a person runs them (the password on stdin or generated, never
an argument), their one-line errors, the migration, and a running engine whose users sign in over HTTP."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from engine.store.store import migrate
from tests.test_cli import one_line_error
from tests.test_run_stop import _finish, _free_port, _site, _start, _wait_for_line

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
MORE_AGENTS = """
[[agents]]
id = "1002"
name = "B"
contact = "sip:b@127.0.0.1:5072"
teams = ["night"]
"""


def users(site: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "HOTLINE_SITE"}, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "engine.cli", "users", *args, "--site", str(site)], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.fixture
def site(tmp_path):
    f = _site(tmp_path, _free_port())
    f.write_text(f.read_text() + MORE_AGENTS)
    return f


def ledger(tmp_path: Path, prefix: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(tmp_path / "h.db") as db:
        rows = db.execute("SELECT kind, data FROM ledger WHERE kind LIKE ? ORDER BY id", (prefix + "%",)).fetchall()
    return [(k, json.loads(d)) for k, d in rows]


def test_add_list_passwd_disable(site, tmp_path):
    r = users(site, "add", "ann", "--role", "agent", "--agent", "1001", stdin=PASSWORD + "\n")
    assert r.returncode == 0 and r.stdout == "" and "user ann added (agent)" in r.stderr  # nothing to print
    r = users(site, "add", "root", "--role", "admin", "--generate")
    assert r.returncode == 0
    made = r.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{20}", made), r.stdout  # printed once, alone on stdout
    r = users(site, "add", "nina", "--role", "teamlead", "--team", "night", "--phone", "lead9", stdin=PASSWORD)
    assert r.returncode == 0, r.stderr
    listed = json.loads(users(site, "list", "--json").stdout)
    assert [(u["name"], u["role"], u["agent"], u["team"], u["phone"], u["disabled"]) for u in listed] == [
        ("ann", "agent", "1001", "", "", False), ("nina", "teamlead", "", "night", "lead9", False),
        ("root", "admin", "", "", "", False)]  # fmt: skip
    assert not any(PASSWORD in v or made in v or "argon2" in v for u in listed for v in map(str, u.values()))
    assert users(site, "passwd", "ann", stdin="another password\n").returncode == 0
    assert users(site, "disable", "ann").returncode == 0
    table = users(site, "list").stdout.splitlines()
    assert [line.split() for line in table] == [["ann", "agent", "1001", "disabled"],
                                                ["nina", "teamlead", "night", "active"],
                                                ["root", "admin", "-", "active"]]  # fmt: skip
    with sqlite3.connect(tmp_path / "h.db") as db:
        hashes = [h for (h,) in db.execute("SELECT password_hash FROM users")]
    assert all(h.startswith("$argon2id$") for h in hashes) and PASSWORD not in "".join(hashes)
    facts = ledger(tmp_path, "user.")
    assert [(k, d["user"]) for k, d in facts] == [("user.added", "ann"), ("user.added", "root"),
                                                  ("user.added", "nina"), ("user.password", "ann"),
                                                  ("user.disabled", "ann")]  # fmt: skip
    assert facts[2][1]["user_role"] == "teamlead" and facts[2][1]["team"] == "night"
    assert all(d["via"] == "cli" and d["actor"] and d["role"] == "admin" for _, d in facts)
    assert not any("hash" in json.dumps(d) or PASSWORD in json.dumps(d) for _, d in facts)


@pytest.mark.parametrize("args, stdin, names", [
    (("add", "x1", "--role", "boss"), PASSWORD, ("users add", "--role", "boss", "teamlead")),
    (("add", "x1", "--role", "agent", "--agent", "9"), PASSWORD, ("users add", "--agent", "'9'", "site file")),
    (("add", "x1", "--role", "teamlead", "--team", "east"), PASSWORD, ("users add", "--team", "east", "night")),
    (("add", "x1", "--role", "qa"), "short\n", ("users add", "password", "10 characters")),
    (("add", "x1", "--role", "qa"), "", ("users add", "password")),
    (("passwd", "ghost"), PASSWORD, ("users passwd", "ghost", "no such user")),
    (("disable", "ghost"), "", ("users disable", "ghost", "no such user")),
])  # fmt: skip
def test_one_line_errors_name_the_field(site, args, stdin, names):
    one_line_error(users(site, *args, stdin=stdin), *names)
    assert json.loads(users(site, "list", "--json").stdout) == []  # nothing added by a refused command


def test_duplicate_name_is_refused(site):
    assert users(site, "add", "ann", "--role", "qa", stdin=PASSWORD).returncode == 0
    one_line_error(users(site, "add", "ann", "--role", "manager", stdin=PASSWORD), "users add", "'ann'", "exists")
    assert [u["role"] for u in json.loads(users(site, "list", "--json").stdout)] == ["qa"]


def test_migration_adds_and_drops_the_users_table(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert "users" in {n for (n,) in db.execute(tables)}
        cols = [c[1] for c in db.execute("PRAGMA table_info(users)")]
    assert cols == ["name", "role", "agent", "team", "phone", "password_hash", "disabled", "created_at", "changed_at"]
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "engine" / "store" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.downgrade(cfg, "0011")
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert "users" not in {n for (n,) in db.execute(tables)} and "ledger" in {n for (n,) in db.execute(tables)}


class Browser:
    """A cookie-keeping client over urllib that does not follow redirects (so the 303s can be read)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def go(self, path: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, body, headers or {})
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def sign_in(self, name: str, password: str) -> int:
        _, form = self.go("/signin")
        nonce = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        return self.go("/signin", {"name": name, "password": password, "csrf": nonce, "next": "/me"})[0]


def test_a_running_engine_signs_users_in_and_its_api_refuses_with_reason(site, tmp_path):
    migrate(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    assert users(site, "add", "ann", "--role", "agent", "--agent", "1001", stdin=PASSWORD).returncode == 0
    port = _free_port()
    text = site.read_text().replace('listen = ""', f'listen = "127.0.0.1:{port}"')
    site.write_text(text)
    p, lines = _start(["run", str(site)])
    seen: list[str] = []
    try:
        _wait_for_line(p, lines, "HTTP listening on", seen)
        web = Browser(f"http://127.0.0.1:{port}")
        assert web.go("/metrics")[0] == 200  # as before: no sign-in for Prometheus
        assert web.go("/me")[0] == 303
        assert web.sign_in("ann", "wrong password!") == 401
        assert web.sign_in("ann", PASSWORD) == 303
        status, body = web.go("/me")
        me = json.loads(body)
        assert status == 200 and (me["actor"], me["policy_role"]) == ("1001", "agent")
        status, body = web.go("/api/action", {"action": "pause", "agent": "1002", "csrf": me["csrf"]})
        assert status == 403
        assert json.loads(body)["reason"] == "pause is the agent's own action: 1001 may not take it for 1002"
        assert web.go("/api/action", {"action": "pause", "agent": "1001"})[0] == 403  # no CSRF token
    finally:
        p.send_signal(signal.SIGTERM)
        rc = _finish(p, lines, seen)
    assert rc == 0, "".join(seen)
    acts = [d for _, d in ledger(tmp_path, "action")]
    assert [(d["actor"], d["via"], d["action"], d["agent"], d["ok"]) for d in acts] == [
        ("1001", "web", "pause", "1002", False), ("1001", "web", "post", "", False)]
    assert [(d["user"], d["ok"]) for _, d in ledger(tmp_path, "user.signin")] == [("ann", False), ("ann", True)]
