"""The demo's people at their pages: the agent and the team lead act through the web console's own routes (the
sign-in form with its CSRF nonce, the session's CSRF token, ``POST /api/action``), as a person in a browser
does, at set moments of the simulated day. What they did, and what the console answered, goes in the report.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.clock import Clock


@dataclass(frozen=True)
class Step:
    after: float  # simulated seconds from the demo's start
    role: str  # whose user acts (a key of demo-credentials.json)
    action: str
    agent: str
    arg: str = ""


# the hotline's agent takes a short break from its page, and is back five minutes later; later it files a
# complaint about its latest call from its page, which opens a case its team lead owes an answer to
SCRIPT = (
    Step(15 * 60, "agent", "pause", "1001", "break"),
    Step(20 * 60, "agent", "resume", "1001"),
    Step(40 * 60, "agent", "complaint", "1001", "the caller's order arrived damaged"),
)
TIMEOUT = 10.0  # real seconds for one request on loopback


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 303 after sign-in is the answer itself, not somewhere to go


class WebUser:
    """One person's browser, reduced to its cookies (blocking: run it in a thread)."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base.rstrip("/")
        self.user = user
        self.password = password
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        self.signed_in = False

    def _send(self, req: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with self.opener.open(req, timeout=TIMEOUT) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:  # 303, 403, 409: answers, with a body
            return exc.code, exc.read()

    def sign_in(self) -> None:
        status, page = self._send(urllib.request.Request(f"{self.base}/signin"))
        found = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or found is None:
            raise RuntimeError(f"sign-in form: HTTP {status}")
        form = urllib.parse.urlencode({"name": self.user, "password": self.password, "csrf": found.group(1).decode(),
                                       "next": "/me"}).encode()  # fmt: skip
        status, _ = self._send(urllib.request.Request(f"{self.base}/signin", data=form, method="POST"))
        if status != 303:
            raise RuntimeError(f"{self.user} could not sign in: HTTP {status}")
        self.signed_in = True

    def act(self, action: str, agent: str, arg: str) -> tuple[int, dict[str, Any]]:
        if not self.signed_in:
            self.sign_in()
        _, me = self._send(urllib.request.Request(f"{self.base}/me", headers={"Accept": "application/json"}))
        token = json.loads(me)["csrf"]
        body = json.dumps({"action": action, "agent": agent, "arg": arg}).encode()
        req = urllib.request.Request(f"{self.base}/api/action", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-CSRF-Token": token})  # fmt: skip
        status, reply = self._send(req)
        return status, json.loads(reply)


async def act_out(base: str, creds: Mapping[str, Mapping[str, str]], clock: Clock, started: float,
                  done: list[dict[str, Any]], script: tuple[Step, ...] = SCRIPT) -> None:  # fmt: skip
    """Each step at its moment of the engine's clock (``started``: the demo's start on its monotonic clock);
    each outcome appended to ``done`` as it comes (the demo may end before the last step)."""
    people: dict[str, WebUser] = {}
    for step in script:
        wait = step.after - (clock.monotonic() - started)
        if wait > 0:
            await clock.sleep(wait)
        who = people.get(step.role)
        if who is None:
            who = people[step.role] = WebUser(base, creds[step.role]["user"], creds[step.role]["password"])
        try:
            status, reply = await asyncio.to_thread(who.act, step.action, step.agent, step.arg)
        except (OSError, RuntimeError, ValueError) as exc:
            status, reply = 0, {"ok": False, "reason": str(exc)}
        done.append({"at": round(clock.now(), 3), "user": who.user, "action": step.action, "agent": step.agent,
                     "arg": step.arg, "status": status, **reply})  # fmt: skip
