"""[[services]]: their schema (with the rule steps as the wait grows), the typed ``ServiceConfig`` and
building the list from a site or rules file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config_agents import Agent, merged
from engine.config_fields import Field, Report, checked_tables, endpoint_name, group_names, levels, positive

STRATEGIES = ("longest_idle", "least_skilled", "round_robin", "fewest_calls")


def _strategy(v: Any) -> str | None:
    return None if v in STRATEGIES else f"must be one of {', '.join(STRATEGIES)}"


def _rules(v: Any) -> str | None:
    last = -1.0
    for i, r in enumerate(v):
        if not isinstance(r, dict):
            return f"rule {i + 1}: must be a table like {{after = 30, lower = {{sales = 20}}}}"
        unknown = set(r) - {"after", "lower", "add_groups", "raise_priority", "announce", "offer_callback",
                            "voicemail"}
        if unknown:
            return f"rule {i + 1}: unknown key(s) {', '.join(sorted(unknown))}"
        after = r.get("after")
        if not isinstance(after, int | float) or isinstance(after, bool) or after < 0:
            return f"rule {i + 1}: 'after' must be seconds >= 0"
        if after <= last:
            return f"rule {i + 1}: 'after' must grow from one rule to the next"
        last = float(after)
        if "lower" in r and (not isinstance(r["lower"], dict) or levels(r["lower"])):
            return f"rule {i + 1}: 'lower' must map skills to levels 0-100"
        if "add_groups" in r and not (
            isinstance(r["add_groups"], list) and all(isinstance(g, str) for g in r["add_groups"])
        ):
            return f"rule {i + 1}: 'add_groups' must be a list of group names"
        if "raise_priority" in r and (
            not isinstance(r["raise_priority"], int) or isinstance(r["raise_priority"], bool)
        ):
            return f"rule {i + 1}: 'raise_priority' must be an integer"
        if "announce" in r and (not isinstance(r["announce"], str) or not r["announce"].strip()):
            return f"rule {i + 1}: 'announce' must name a prompt (a menu prompt or an Asterisk sound)"
        for flag in ("offer_callback", "voicemail"):
            if flag in r and not isinstance(r[flag], bool):
                return f"rule {i + 1}: {flag!r} must be true or false"
    return None


SERVICE_FIELDS: dict[str, Field] = {
    "name": Field(str, required=True, check=endpoint_name),
    "skills": Field(dict, None, check=levels, doc="skill -> minimum level 0-100"),
    "priority": Field(int, 0),
    "strategy": Field(str, "longest_idle", check=_strategy),
    "wrap_up": Field((int, float), 10, check=lambda v: None if v >= 0 else "must be >= 0", doc="seconds"),
    "sl_target": Field((int, float), 15, check=positive, doc="service-level threshold, seconds"),
    "max_wait": Field(
        (int, float),
        0,
        check=lambda v: None if v >= 0 else "must be >= 0",
        doc="seconds in queue before the caller is sent to the apology (0 = no limit)",
    ),
    "groups": Field(list, None, check=group_names, doc="agent groups that serve it whatever their skills"),
    "teams": Field(list, None, check=group_names, doc="teams that serve it whatever their skills (same as groups)"),
    "rules": Field(list, None, check=_rules, doc="steps as the wait grows: after, lower, add_groups, raise_priority, "
                   "announce, offer_callback, voicemail"),
    "announce_every": Field((int, float), 0, check=lambda v: None if v == 0 or v >= 15 else "must be 0 (off) or >= 15",
                            doc="seconds between position / expected-wait announcements (0 = none)"),
    "announce_position": Field(bool, True),
    "announce_wait": Field(bool, True),
    "callback_attempts": Field(int, 3, check=lambda v: None if 1 <= v <= 10 else "must be 1-10"),
    "callback_retry": Field((int, float), 120, check=lambda v: None if v >= 30 else "must be >= 30 seconds"),
}


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    skills: dict[str, int]
    priority: int
    strategy: str
    wrap_up: float
    sl_target: float
    groups: tuple[str, ...]
    rules: tuple[dict[str, Any], ...]
    max_wait: float = 0.0
    announce_every: float = 0.0
    announce_position: bool = True
    announce_wait: bool = True
    callback_attempts: int = 3
    callback_retry: float = 120.0


def build_services(raw_services: Any, agents: list[Agent], report: Report) -> tuple[list[ServiceConfig], set[str]]:
    """The checked services and their names; a service skill no agent has is reported."""
    services: list[ServiceConfig] = []
    names: set[str] = set()
    places: list[int] = []  # each kept service's index in the file, for problems found after the loop
    for i, sv in checked_tables(raw_services, "services", SERVICE_FIELDS, "name", "service", names, report):
        places.append(i)
        services.append(ServiceConfig(sv["name"], dict(sv["skills"] or {}), sv["priority"], sv["strategy"],
                                      float(sv["wrap_up"]), float(sv["sl_target"]), merged(sv["groups"], sv["teams"]),
                                      tuple(sv["rules"] or ()), float(sv["max_wait"]), float(sv["announce_every"]),
                                      sv["announce_position"], sv["announce_wait"], sv["callback_attempts"],
                                      float(sv["callback_retry"])))  # fmt: skip
    known_skills = {k for a in agents for k in a.skills}
    for i, sv in zip(places, services, strict=True):
        for skill in sv.skills:
            if skill not in known_skills:
                report(f"services[{i}].skills", f"no agent has skill {skill!r}")
    return services, names
