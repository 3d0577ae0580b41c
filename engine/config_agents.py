"""[[agents]]: their schema, the typed ``Agent`` record and building the list from the site file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config_fields import Field, Report, checked_tables, endpoint_name, group_names, levels

AGENT_FIELDS: dict[str, Field] = {
    "id": Field(str, required=True, check=endpoint_name),
    "name": Field(str, ""),
    "endpoint": Field(str, "", check=lambda v: None if not v else endpoint_name(v), doc="PJSIP endpoint"),
    "contact": Field(str, "", doc="static SIP contact (lab agents without registration)"),
    "skills": Field(dict, None, check=levels, doc="skill -> level 0-100"),
    "groups": Field(list, None, check=group_names),
    "teams": Field(list, None, check=group_names, doc="teams the agent belongs to (routing treats them as groups)"),
    "auto_login": Field(bool, True, doc="logged in when the engine starts (else *21 on the phone)"),
    "always_on": Field(bool, False, doc="callers join an open call to the phone (no ringing); campaign agents "
                       "always work so"),
    "hired": Field(str, "", check=lambda v: None if not v or _is_date(v) else "must be a date YYYY-MM-DD",
                   doc="the day the agent started: QA samples a new hire's calls more"),
}


def _is_date(v: str) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    endpoint: str
    contact: str
    skills: dict[str, int] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    auto_login: bool = True
    always_on: bool = False
    hired: str = ""  # YYYY-MM-DD, or unknown


def merged(*lists: list[str] | None) -> tuple[str, ...]:
    """Teams and groups are one routing concept (a set of agents); both spellings are accepted."""
    out: list[str] = []
    for names in lists:
        out += [n for n in names or () if n not in out]
    return tuple(out)


def build_agents(raw_agents: Any, report: Report) -> tuple[list[Agent], set[str]]:
    """The checked agents and every id seen (duplicates included, so later checks do not repeat them)."""
    agents: list[Agent] = []
    seen: set[str] = set()
    for _, a in checked_tables(raw_agents, "agents", AGENT_FIELDS, "id", "agent id", seen, report):
        agents.append(Agent(a["id"], a["name"] or a["id"], a["endpoint"] or f"agent{a['id']}", a["contact"],
                            dict(a["skills"] or {}), merged(a["groups"], a["teams"]), a["auto_login"],
                            a["always_on"], a["hired"]))  # fmt: skip
    return agents, seen
