"""A case and its life (pure): the state machine, and the case as the fold of its facts.

A case is open until someone works it (in_progress), resolved with a resolution, then closed. A resolved
case is reopened (back to in_progress) when the customer says the answer did not settle it; a closed one is
reopened (back to open) while its personal data is still kept. Every change is a ledger fact (``case.*``,
written under the case's id as their call id), and the ``cases`` table is ``fold`` of those facts: rebuilt
from the ledger it is the same row.

Kinds: a complaint (from the menu's complaint node, the agent's page or a feature code), a follow-up (a
promised call back, the return call after a sale), a low survey score. The customer's number is personal data:
shown in full only to the roles that call customers back (``shown_number``), purged from closed cases after the
site's ``keep_days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.policy import Role
from engine.privacy import mask_number

KINDS = ("complaint", "follow_up", "low_survey")
SOURCES = ("menu", "agent_page", "feature_code", "callback", "promised_callback", "after_sale", "survey", "cli")
OPEN, IN_PROGRESS, RESOLVED, CLOSED = "open", "in_progress", "resolved", "closed"
STATES = (OPEN, IN_PROGRESS, RESOLVED, CLOSED)
LIVE = (OPEN, IN_PROGRESS)  # a case still owed to the customer: it can be overdue
# (from, to): the moves a case may make; anything else is refused with both states named
MOVES = frozenset({(OPEN, IN_PROGRESS), (OPEN, RESOLVED), (IN_PROGRESS, RESOLVED), (IN_PROGRESS, OPEN),
                   (RESOLVED, CLOSED), (RESOLVED, IN_PROGRESS), (CLOSED, OPEN)})  # fmt: skip
KIND_OF_FACT = ("case.opened", "case.assigned", "case.status", "case.linked", "case.resolved", "case.overdue",
                "case.purged")  # fmt: skip
NUMBER_ROLES = frozenset({Role.MANAGER, Role.TEAM_LEAD})  # they call customers back; the rest see it masked


class BadMove(ValueError):
    """A move the state machine does not allow (or one on a case whose personal data is gone)."""


@dataclass
class Case:
    id: str
    kind: str
    source: str
    opened_at: float
    due_at: float
    number: str = ""
    call_id: str = ""  # the call it came from ("" for one opened by hand)
    lead: str = ""  # an outbound campaign's lead (follow-ups of the dialer)
    owner: str = ""  # an agent id ("" nobody yet)
    team: str = ""
    status: str = OPEN
    note: str = ""
    resolution: str = ""
    resolved_at: float | None = None
    closed_at: float | None = None
    overdue_at: float | None = None
    purged_at: float | None = None
    links: list[dict[str, Any]] = field(default_factory=list)  # {"call", "what", "at"}
    updated_at: float = 0.0

    def as_row(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def live(self) -> bool:
        return self.status in LIVE


def can_move(case: Case, to: str) -> str | None:
    """None when ``case`` may move to ``to``; else why not."""
    if to not in STATES:
        return f"unknown status {to!r} (one of {', '.join(STATES)})"
    if (case.status, to) not in MOVES:
        return f"case {case.id} is {case.status}: it cannot become {to}"
    if to == OPEN and case.purged_at is not None:
        return f"case {case.id}: its personal data was purged, it cannot be reopened"
    return None


def is_overdue(case: Case | Mapping[str, Any], now: float) -> bool:
    c = case if isinstance(case, Mapping) else asdict(case)
    return c["status"] in LIVE and now > float(c["due_at"])


def shown_number(number: str, role: Role) -> str:
    return number if role in NUMBER_ROLES else mask_number(number)


def apply(case: Case | None, kind: str, at: float, d: Mapping[str, Any]) -> Case | None:
    """One fact applied to the case it concerns (``case.opened`` makes it). Facts that make no sense on the case
    as it stands (a second opening, a move the machine refuses) change nothing: the ledger may hold a fact a
    crash wrote twice, never one the services would have refused."""
    if kind == "case.opened":
        if case is not None:
            return case
        return Case(str(d["case"]), str(d["kind"]), str(d["source"]), float(d.get("opened_at", at)),
                    float(d["due_at"]), str(d.get("number", "")), str(d.get("call", "")), str(d.get("lead", "")),
                    str(d.get("owner", "")), str(d.get("team", "")), note=str(d.get("note", "")),
                    updated_at=at)  # fmt: skip
    if case is None:
        return None
    if kind == "case.assigned":
        case.owner, case.team = str(d.get("owner", "")), str(d.get("team", case.team))
    elif kind == "case.status":
        to = str(d["status"])
        if can_move(case, to) is not None:
            return case
        if to == CLOSED:
            case.closed_at = at
        elif to in (OPEN, IN_PROGRESS) and case.status in (RESOLVED, CLOSED):  # reopened: owed again
            case.resolved_at = case.closed_at = None
        case.status = to
    elif kind == "case.resolved":
        if can_move(case, RESOLVED) is not None:
            return case
        case.status, case.resolved_at, case.resolution = RESOLVED, at, str(d.get("resolution", ""))
    elif kind == "case.linked":
        link = {"call": str(d.get("call", "")), "what": str(d.get("what", "call")), "at": at}
        if all(x["call"] != link["call"] or x["what"] != link["what"] for x in case.links):
            case.links.append(link)
    elif kind == "case.overdue":
        case.overdue_at = case.overdue_at if case.overdue_at is not None else at
    elif kind == "case.purged":
        case.purged_at, case.number, case.note = at, "", ""
    case.updated_at = at
    return case


def fold(facts: Iterable[Any]) -> dict[str, Case]:
    """Every case of these facts (in ledger order), by id."""
    cases: dict[str, Case] = {}
    for f in facts:
        if f.kind not in KIND_OF_FACT:
            continue
        cid = str(f.data.get("case", f.call_id))
        got = apply(cases.get(cid), f.kind, f.at, f.data)
        if got is not None:
            cases[cid] = got
    return cases
