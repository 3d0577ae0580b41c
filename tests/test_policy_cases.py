"""Who may read and work which case: the same policy the pages, the feature codes and the reports use, over a table
of cases made by hand (a front complaint nobody owns, a front follow-up agent 1001 owns, a back survey case)."""

from __future__ import annotations

import pytest

from engine.policy import Actor, Policy, Role

POLICY = Policy(lambda agent: frozenset({"front"}) if agent in ("1001", "1002") else frozenset({"back"}))
LEAD = Actor("lead", Role.TEAM_LEAD, teams=frozenset({"front"}))
QA = Actor("qa1", Role.QA)
BOSS = Actor("boss", Role.MANAGER)
ROOT = Actor("root", Role.ADMIN)
A1001, A2001 = Actor("1001", Role.AGENT), Actor("2001", Role.AGENT)
COMPLAINT = {"id": "c1", "kind": "complaint", "team": "front", "owner": ""}
FOLLOW_UP = {"id": "c2", "kind": "follow_up", "team": "front", "owner": "1001"}
SURVEY = {"id": "c3", "kind": "low_survey", "team": "back", "owner": "2001"}


@pytest.mark.parametrize(("actor", "action", "case", "to", "why"), [
    (LEAD, "read", COMPLAINT, "", None),
    (LEAD, "read", SURVEY, "", "case c3 is team back's: lead does not lead it"),
    (LEAD, "assign", COMPLAINT, "1002", None),
    (LEAD, "assign", COMPLAINT, "2001", "2001 is not in a team lead leads"),
    (LEAD, "resolve", FOLLOW_UP, "", None),
    (LEAD, "close", SURVEY, "", "case c3 is team back's: lead does not lead it"),
    (LEAD, "reopen", COMPLAINT, "", None),
    (BOSS, "assign", SURVEY, "1001", None),
    (ROOT, "close", COMPLAINT, "", None),
    (QA, "read", SURVEY, "", None),
    (QA, "resolve", COMPLAINT, "", "QA staff may read cases, not resolve them: the team lead or a manager does"),
    (QA, "assign", FOLLOW_UP, "1001", "QA staff may read cases, not assign them: the team lead or a manager does"),
    (A1001, "read", FOLLOW_UP, "", None),
    (A1001, "resolve", FOLLOW_UP, "", None),
    (A1001, "close", FOLLOW_UP, "", "an agent resolves the follow-ups it owns; to close case c2 (follow_up) is its "
                                    "lead's"),
    (A1001, "read", COMPLAINT, "", "case c1 is not 1001's: an agent sees the cases it owns"),
    (A2001, "read", SURVEY, "", None),
    (A2001, "resolve", SURVEY, "", "an agent resolves the follow-ups it owns; to resolve case c3 (low_survey) is its "
                                   "lead's"),
    (A2001, "resolve", FOLLOW_UP, "", "case c2 is not 2001's: an agent sees the cases it owns"),
    (BOSS, "delete", COMPLAINT, "", "unknown case action 'delete'"),
])  # fmt: skip
def test_who_may_read_and_work_a_case(actor, action, case, to, why):
    assert POLICY.case_refusal(actor, action, case, to=to) == why


@pytest.mark.parametrize(("actor", "team", "why"), [
    (LEAD, "", None),
    (LEAD, "front", None),
    (LEAD, "back", "lead does not lead team back"),
    (QA, "back", None),
    (BOSS, "", None),
    (A1001, "", None),
    (A1001, "front", "1001 sees its own cases only, not team front's"),
])  # fmt: skip
def test_the_cases_page_gate_narrowed_to_a_team(actor, team, why):
    assert POLICY.view_refusal(actor, "cases", team) == why
