"""People who sign in to the web console: their roles, the checks on a new user, and the policy ``Actor`` a
signed-in user acts as (pure; the store keeps them, engine/store/users.py).

The role names are the command line's (``teamlead``); the permissions are engine/policy.py's alone: a user is
mapped to an ``Actor`` and the policy decides, as it does for feature codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.policy import Actor, Role

# the command line's role names -> the policy's roles
ROLES: dict[str, Role] = {"agent": Role.AGENT, "teamlead": Role.TEAM_LEAD, "qa": Role.QA, "manager": Role.MANAGER,
                          "admin": Role.ADMIN, "training": Role.TRAINING}  # fmt: skip
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class User:
    name: str
    role: str  # a key of ROLES
    agent: str = ""  # the site's agent id this user is (role agent)
    team: str = ""  # the agent group a team lead leads
    phone: str = ""  # the PJSIP endpoint a supervisor listens on
    disabled: bool = False
    created_at: float = 0.0
    changed_at: float = 0.0  # a session signed in before this no longer works

    def public(self) -> dict[str, object]:
        """What `users list --json` and the admin page show: never the password hash."""
        return {"name": self.name, "role": self.role, "agent": self.agent, "team": self.team, "phone": self.phone,
                "disabled": self.disabled, "created_at": self.created_at, "changed_at": self.changed_at}  # fmt: skip


def new_user_problem(name: str, role: str, agent: str, team: str, agent_groups: Mapping[str, Iterable[str]],
                     taken: Iterable[str]) -> str | None:  # fmt: skip
    """Why this user cannot be added (one line naming the field), or None. ``agent_groups``: the site's agents
    and their groups (teams); ``taken``: the names already in the store."""
    if not name or not set(name) <= NAME_CHARS or len(name) > 64:
        return f"name {name!r}: use 1 to 64 of a-z, 0-9, '.', '_' and '-'"
    if name in set(taken):
        return f"name {name!r}: a user of that name exists (users passwd or users disable change it)"
    if role not in ROLES:
        return f"--role {role!r}: not a role; use one of {', '.join(ROLES)}"
    if role == "agent" and not agent:
        return "--agent: a user of role agent needs the site's agent id it signs in as"
    if agent and role != "agent":
        return f"--agent: only a user of role agent is an agent (this one is {role})"
    if agent and agent not in agent_groups:
        return f"--agent {agent!r}: no agent of that id in the site file"
    teams = {g for groups in agent_groups.values() for g in groups}
    if role == "teamlead" and not team:
        return "--team: a team lead needs the team (an agent group of the site) it leads"
    if team and role != "teamlead":
        return f"--team: only a team lead leads a team (this one is {role})"
    if team and team not in teams:
        known = ", ".join(sorted(teams)) or "none"
        return f"--team {team!r}: not a group of the site's agents (groups: {known})"
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters"
    if password != password.strip():
        return "password: no spaces at its start or end"
    return None


def actor_of(user: User, via: str = "web") -> Actor:
    """The actor a signed-in user is to the policy: an agent is its agent id, anyone else its name."""
    role = ROLES[user.role]
    return Actor(id=user.agent if role is Role.AGENT else user.name, role=role, via=via,
                 teams=frozenset({user.team}) if user.team else frozenset(), phone=user.phone)  # fmt: skip
