"""The demo's console users: one per role, each with a new random password, printed and written to
``demo-credentials.json`` in the demo's work folder (readable by its owner only).

There is no default password anywhere: these users exist only in the demo's own store, made at each start.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from engine.passwords import Passwords, generate
from engine.policy import Actor, Role
from engine.store.store import Store
from engine.store.users import UserStore
from engine.users import User

CREDENTIALS = "demo-credentials.json"
TEAM = "front"  # the virtual site's inbound agents (sim/world.py)
SALES_TEAM = "outbound"  # the virtual site's campaign agents (sim/world.py)
LEAD_PHONE = "lead1"  # the team lead's phone on the virtual PBX (listen, whisper, barge ring it)

# role -> the user the demo makes for it
DEMO_USERS: dict[str, User] = {
    "admin": User("admin", "admin"),
    "teamlead": User("lead", "teamlead", team=TEAM, phone=LEAD_PHONE),
    "agent": User("agent1001", "agent", agent="1001"),
    "qa": User("qa", "qa"),
    "manager": User("manager", "manager"),
    # the outbound side: an agent of the demo's campaign (its sales on its page) and its team's lead (corrections)
    "seller": User("agent2001", "agent", agent="2001"),
    "saleslead": User("saleslead", "teamlead", team=SALES_TEAM),
    "training": User("trainer", "training"),  # keeps the knowledge base
}


OUTBOUND_ROLES = ("seller", "saleslead")  # made only when the demo has campaign agents


async def make_demo_users(store: Store, workdir: Path, now: float | None = None,
                          outbound: bool = True) -> dict[str, dict[str, str]]:  # fmt: skip
    """Add the demo's users to ``store`` and write their credentials file; returns what it wrote. ``outbound``:
    the demo has campaign agents (the seller and the sales team's lead are made too)."""
    users = UserStore(store)
    by = Actor("demo", Role.ADMIN, via="cli")
    hasher = Passwords()
    creds: dict[str, dict[str, str]] = {}
    for role, user in DEMO_USERS.items():
        if role in OUTBOUND_ROLES and not outbound:
            continue
        password = generate()
        # Argon2 is tens of milliseconds of CPU: off the loop that is running the calls
        digest = await asyncio.to_thread(hasher.hash, password)
        await users.add(user, digest, by, time.time() if now is None else now)
        creds[role] = {"user": user.name, "password": password}
    path = workdir / CREDENTIALS
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=1)
    return creds


def credentials_text(url: str, creds: dict[str, dict[str, str]], path: Path) -> str:
    lines = [f"console at {url}/signin: sign in as one of these (also in {path})"]
    lines += [f"  {role:<9} {c['user']:<10} {c['password']}" for role, c in creds.items()]
    return "\n".join(lines)
