"""The ACD's reading of the site file: services, rule steps and agents' skills as the router takes them."""

from __future__ import annotations

from collections.abc import Sequence

from acd.router import AgentProfile, RuleStep, Service
from acd.settings import HotlineSettings
from engine.config import Agent, ServiceConfig

HOTLINE_SKILL = "_hotline"  # with no [[services]], the hotline agent alone carries this skill


def build_routing(configured: Sequence[ServiceConfig], agents: Sequence[Agent],
                  hot: HotlineSettings) -> tuple[list[Service], list[AgentProfile], dict[str, float]]:  # fmt: skip
    """Router data from the site file (and the single-agent default when no services are defined)."""
    if not configured:
        services = [Service(hot.service, {HOTLINE_SKILL: 1})]
        profiles = [AgentProfile(a.id, {**a.skills, **({HOTLINE_SKILL: 100} if a.id == hot.agent else {})},
                                 frozenset(a.groups)) for a in agents]  # fmt: skip
        return services, profiles, {hot.service: 10.0}
    services = []
    for sv in configured:
        steps = tuple(RuleStep(float(r["after"]), dict(r.get("lower", {})), frozenset(r.get("add_groups", [])),
                               int(r.get("raise_priority", 0))) for r in sv.rules)  # fmt: skip
        services.append(Service(sv.name, sv.skills, sv.priority, sv.strategy, steps, frozenset(sv.groups)))
    profiles = [AgentProfile(a.id, dict(a.skills), frozenset(a.groups)) for a in agents]
    return services, profiles, {sv.name: sv.wrap_up for sv in configured}
