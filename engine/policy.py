"""Who may do what: the one permission policy for feature codes, the web console and the command line (pure).

An agent acts on its own line only. A team lead also forces a pause or a log-out and listens, whispers or
barges on the agents of the teams it leads (the site's agent groups); a manager on every agent; QA staff may
listen (silent monitoring is part of scoring calls); an admin may do everything, including reloading. Cases
(``case_refusal``) are worked by the lead of their team, a manager or an admin, read by QA staff too, and by the
agent who owns one, which resolves its own follow-ups. A refusal says why, in words the page shows as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Role(Enum):
    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    QA = "qa"
    MANAGER = "manager"
    ADMIN = "admin"
    TRAINING = "training"  # keeps the knowledge base; sees no calls, people or customers


@dataclass(frozen=True)
class Actor:
    id: str  # the agent's id for agents; the user's name otherwise
    role: Role
    via: str = "phone"  # phone (a feature code), web, cli
    teams: frozenset[str] = field(default_factory=frozenset)  # the agent groups a team lead leads
    phone: str = ""  # the PJSIP endpoint a supervisor listens on


# the agent's own actions (on its own line), and who else may take each
OWN = frozenset({"login", "logout", "pause", "resume", "wrapup_end", "disposition", "callback", "callback_any",
                 "preview_next", "preview_dial", "preview_skip", "preview_call", "complaint", "sale"})  # fmt: skip
SUPERVISE = frozenset({"force_pause", "force_logout", "listen", "whisper", "barge"})
MONITOR = frozenset({"listen", "whisper", "barge"})
ADMIN_ONLY = frozenset({"reload"})
ACTIONS = OWN | SUPERVISE | ADMIN_ONLY
VIEWS = frozenset({"agent", "team", "wallboard", "users", "recording", "report", "cases"})  # pages that show people
# the reports (`hotline report NAME`, /reports/NAME) and who reads them besides managers and admins
REPORTS = ("agents", "services", "hotline", "campaigns", "cases", "sales")
_REPORT_READERS = {
    Role.TEAM_LEAD: frozenset(REPORTS),  # narrowed to its own teams where a report is about people
    Role.QA: frozenset({"agents", "hotline", "cases"}),  # quality: scores, the quality sheet, complaints
    Role.AGENT: frozenset({"agents", "sales"}),  # its own rows only
}
_ABOUT_PEOPLE = frozenset({"agents", "cases", "sales"})
# what people do to a case (the cases page's forms; `hotline cases` is the site's own command line)
CASE_ACTIONS = ("assign", "resolve", "close", "reopen")


class Policy:
    def __init__(self, groups_of: Callable[[str], frozenset[str]]) -> None:
        self.groups_of = groups_of  # an agent's groups (its teams), from the site

    def refusal(self, actor: Actor, action: str, agent: str) -> str | None:
        """None when ``actor`` may take ``action`` on ``agent``; else why not."""
        if action not in ACTIONS:
            return f"unknown action {action!r}"
        if action in ADMIN_ONLY:
            return None if actor.role is Role.ADMIN else f"only an admin may {action}"
        if action in OWN:
            if agent == actor.id:
                return None
            return f"{action} is the agent's own action: {actor.id} may not take it for {agent or 'nobody'}"
        if not agent:
            return f"{action} needs the agent it is for"
        if action in MONITOR and not actor.phone:
            return f"{action} needs the phone to listen on: {actor.id} has none"
        role = actor.role
        if role in (Role.ADMIN, Role.MANAGER):
            return None
        if role is Role.QA:
            return None if action == "listen" else f"QA staff may listen, not {action.replace('_', ' ')}"
        if role is Role.TEAM_LEAD:
            if self.groups_of(agent) & actor.teams:
                return None
            return f"{agent} is not in a team {actor.id} leads"
        return f"an agent may not {action.replace('_', ' ')} another agent"

    def view_refusal(self, actor: Actor, view: str, subject: str = "") -> str | None:
        """None when ``actor`` may see ``view`` (of ``subject``: an agent id, a team); else why not. The pages
        read what the actions above act on, so the same roles see the same agents."""
        role = actor.role
        if view == "users":
            return None if role is Role.ADMIN else "only an admin may manage users"
        if view not in VIEWS:
            return f"unknown page {view!r}"
        if view == "recording":
            return self._recording_refusal(actor, subject)
        if view == "report":
            return self.report_refusal(actor, subject)
        if view == "cases":
            return self._cases_refusal(actor, subject)
        if role in (Role.ADMIN, Role.MANAGER):
            return None
        if view == "agent":
            if role is Role.QA or subject == actor.id:  # QA listens to any agent, so it sees them
                return None
            if role is Role.TEAM_LEAD:
                return None if self.groups_of(subject) & actor.teams else f"{subject} is not in a team {actor.id} leads"
            return f"{actor.id} may see its own page only, not {subject or 'nobody'}'s"
        if view == "team":
            if role is Role.TEAM_LEAD and subject in actor.teams:
                return None
            return f"{actor.id} does not lead team {subject or 'none'}"
        return None if role is Role.TEAM_LEAD else "the wallboard is for team leads and managers"

    def report_refusal(self, actor: Actor, report: str, *, team: str = "", agent: str = "") -> str | None:
        """None when ``actor`` may read ``report`` narrowed to ``team`` and/or ``agent`` (empty: all); else why not.
        A team lead reads the site's queues but only its own teams' people; an agent only its own figures."""
        if report not in REPORTS:
            return f"unknown report {report!r} (reports: {', '.join(REPORTS)})"
        role = actor.role
        if role in (Role.ADMIN, Role.MANAGER):
            return None
        if report not in _REPORT_READERS.get(role, frozenset()):
            readers = ", ".join(r.value.replace("_", " ") + "s" for r, names in _REPORT_READERS.items()
                                if report in names)  # fmt: skip
            return f"the {report} report is for managers{', ' + readers if readers else ''} and admins"
        if role is Role.AGENT:
            return None if agent == actor.id and not team else f"{actor.id} may read its own figures only"
        if role is Role.TEAM_LEAD and report in _ABOUT_PEOPLE:
            if team and team not in actor.teams:
                return f"{actor.id} does not lead team {team}"
            if agent and not self.groups_of(agent) & actor.teams:
                return f"{agent} is not in a team {actor.id} leads"
            if not team and not agent:
                return f"{actor.id} reads its own teams' figures: choose one of {', '.join(sorted(actor.teams))}"
        return None

    @staticmethod
    def kb_refusal(actor: Actor, action: str) -> str | None:
        """The knowledge base: every signed-in role reads it (``read``); the training staff keep it (``write``),
        and an admin may too."""
        if action == "read":
            return None
        if action != "write":
            return f"unknown knowledge base action {action!r}"
        if actor.role in (Role.TRAINING, Role.ADMIN):
            return None
        return "the knowledge base is kept by the training staff"

    @staticmethod
    def _cases_refusal(actor: Actor, team: str) -> str | None:
        """The cases page narrowed to ``team`` (empty: the reader's own): a team lead its own teams only, an agent
        its own cases (no team's), the training staff none, the others any team."""
        if actor.role is Role.TRAINING:
            return "cases hold customers' data: they are for the agents, team leads, QA staff and managers"
        if actor.role is Role.TEAM_LEAD and team and team not in actor.teams:
            return f"{actor.id} does not lead team {team}"
        if actor.role is Role.AGENT and team:
            return f"{actor.id} sees its own cases only, not team {team}'s"
        return None

    def case_refusal(self, actor: Actor, action: str, case: Mapping[str, Any], to: str = "") -> str | None:
        """None when ``actor`` may ``action`` (``read`` or one of CASE_ACTIONS) the ``case`` (a row: its ``id``,
        ``team``, ``owner``, ``kind``; ``to``: the agent an ``assign`` gives it to, "" not chosen yet); else why
        not. Team leads work their teams' cases, managers and admins all; QA staff read every case and work none;
        an agent reads the cases it owns and resolves a follow-up it owns (it made the call back)."""
        if action != "read" and action not in CASE_ACTIONS:
            return f"unknown case action {action!r}"
        role, team, owner = actor.role, str(case.get("team", "")), str(case.get("owner", ""))
        cid = case.get("id", "")
        if role is Role.TRAINING:
            return "cases hold customers' data: they are for the agents, team leads, QA staff and managers"
        if role is Role.TEAM_LEAD and team not in actor.teams:
            return f"case {cid} is team {team or 'none'}'s: {actor.id} does not lead it"
        if role is Role.AGENT:
            if owner != actor.id:
                return f"case {cid} is not {actor.id}'s: an agent sees the cases it owns"
            if action == "read" or (action == "resolve" and case.get("kind") == "follow_up"):
                return None
            kind = case.get("kind", "")
            return f"an agent resolves the follow-ups it owns; to {action} case {cid} ({kind}) is its lead's"
        if action == "read":
            return None
        if role is Role.QA:
            return f"QA staff may read cases, not {action} them: the team lead or a manager does"
        if action == "assign" and role is Role.TEAM_LEAD and to and not self.groups_of(to) & actor.teams:
            return f"{to} is not in a team {actor.id} leads"
        return None

    @staticmethod
    def customer_refusal(actor: Actor, action: str) -> str | None:
        """Customers' records (``read``, ``note``, ``merge``): the people who talk to customers and their leads read
        and note them; a team lead, a manager or an admin merges two (an audited change of who is who). QA staff
        score calls and the training staff keep the FAQ: neither reads customers' personal data."""
        if action not in ("read", "note", "merge"):
            return f"unknown customer action {action!r}"
        role = actor.role
        if role in (Role.QA, Role.TRAINING):
            return "customers' records are for the agents, team leads, managers and admins"
        if action == "merge" and role is Role.AGENT:
            return "two customers' records are merged by a team lead or a manager (it is audited)"
        return None

    def order_refusal(self, actor: Actor, action: str, team: str, agent: str) -> str | None:
        """None when ``actor`` may ``action`` (``read`` or ``correct``) an order of ``team`` sold by ``agent``; else
        why not. Agents see their own teams' orders; a team lead reads and corrects its teams'; managers and
        admins all. QA staff score calls, not sales: none."""
        if action not in ("read", "correct"):
            return f"unknown order action {action!r}"
        role = actor.role
        if role in (Role.ADMIN, Role.MANAGER):
            return None
        if role is Role.TEAM_LEAD:
            return None if team in actor.teams else f"the order is team {team or 'none'}'s: {actor.id} does not lead it"
        if role is Role.AGENT:
            if action == "correct":
                return "an order is corrected by its team's lead, as a new version with a reason"
            if agent == actor.id or team in self.groups_of(actor.id):
                return None
            return f"the order is team {team or 'none'}'s: {actor.id} sees its own team's"
        return "orders are for the team's agents, its lead, managers and admins"

    def _recording_refusal(self, actor: Actor, agent: str) -> str | None:
        """Who may hear a recording (``agent``: the agent on it, empty for none): QA staff and managers all, a team
        lead its teams' agents', an agent its own calls. An admin runs the console, not QA: it hears none."""
        role = actor.role
        if role in (Role.QA, Role.MANAGER):
            return None
        if role is Role.ADMIN:
            return "an admin manages the console; recordings are for QA staff, managers and team leads"
        if not agent:
            return "no agent is on this recording: only QA staff and managers may hear it"
        if role is Role.TEAM_LEAD:
            return None if self.groups_of(agent) & actor.teams else f"{agent} is not in a team {actor.id} leads"
        return None if agent == actor.id else f"{actor.id} may hear its own calls only, not {agent}'s"
