"""Who may read which report, narrowed how: the same policy the pages and the feature codes use."""

from __future__ import annotations

import pytest

from engine.policy import Actor, Policy, Role

POLICY = Policy(lambda agent: frozenset({"front"}) if agent in ("1001", "1002") else frozenset({"back"}))
LEAD = Actor("lead", Role.TEAM_LEAD, teams=frozenset({"front"}))


@pytest.mark.parametrize(("actor", "report", "team", "agent", "why"), [
    (Actor("boss", Role.MANAGER), "services", "", "", None),
    (Actor("root", Role.ADMIN), "agents", "back", "", None),
    (LEAD, "services", "", "", None),
    (LEAD, "agents", "front", "", None),
    (LEAD, "agents", "", "1002", None),
    (LEAD, "agents", "back", "", "lead does not lead team back"),
    (LEAD, "cases", "", "1003", "1003 is not in a team lead leads"),
    (LEAD, "agents", "", "", "lead reads its own teams' figures: choose one of front"),
    (Actor("qa1", Role.QA), "hotline", "", "", None),
    (Actor("qa1", Role.QA), "agents", "back", "", None),
    (Actor("qa1", Role.QA), "campaigns", "", "", "the campaigns report is for managers, team leads and admins"),
    (Actor("1001", Role.AGENT), "agents", "", "1001", None),
    (Actor("1001", Role.AGENT), "agents", "", "1002", "1001 may read its own figures only"),
    (Actor("1001", Role.AGENT), "agents", "front", "1001", "1001 may read its own figures only"),
    (Actor("1001", Role.AGENT), "services", "", "", "the services report is for managers, team leads and admins"),
    (Actor("boss", Role.MANAGER), "payroll", "", "", "unknown report 'payroll' (reports: agents, services, "
                                                    "hotline, campaigns, cases, sales)"),
])  # fmt: skip
def test_who_may_read_a_report(actor, report, team, agent, why):
    assert POLICY.report_refusal(actor, report, team=team, agent=agent) == why


def test_the_report_page_gate_asks_the_same_question():
    assert POLICY.view_refusal(Actor("1001", Role.AGENT), "report", "services") is not None
    assert POLICY.view_refusal(Actor("qa1", Role.QA), "report", "hotline") is None
