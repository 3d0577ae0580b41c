"""Where cases come from and what later calls do to them (pure): each engine fact read as an ``Opening`` (a new
case), a ``Contact`` (a call with a customer: linked to the customer's live cases, and a follow-up call that
connects closes its follow-up), or nothing.

The facts read: ``ivr.message`` (the menu's complaint node), ``acd.callback`` (a promised call back, from the
wait or the menu) and ``acd.callback_connected`` (it was made), ``outbound.callback`` (an outbound agent's
promise) and ``outbound.disposition`` with an after-sale code (the return call a sale promises), then
``outbound.placed`` / ``outbound.connect`` (a campaign call to the lead), ``ivr.survey`` (a score below the
site's mark), ``channel.new`` (an inbound call from the number) and ``fax.done`` (a fax received is a case to
answer, or joins the sender's live case; a fax sent for a case joins it). A complaint from the agent's page or a
feature code comes in as the service API's action, not as a fact (``cases.services``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cases.settings import CasesSettings

WATCHED = ("ivr.message", "acd.callback", "acd.callback_connected", "outbound.callback", "outbound.disposition",
           "outbound.placed", "outbound.connect", "ivr.survey", "channel.new", "fax.done")  # fmt: skip


@dataclass(frozen=True)
class Opening:
    key: str  # the source fact's key: a case is opened once per source, however often it is read
    kind: str
    source: str
    call_id: str
    at: float
    number: str = ""  # "" : the services look it up (the call's caller, the lead's phone)
    lead: str = ""
    owner: str = ""
    due_at: float | None = None  # None: the kind's working days on the site's calendar
    note: str = ""

    @property
    def case_id(self) -> str:
        return case_id_of(self.key)


@dataclass(frozen=True)
class Contact:
    """A call with a customer, known by number or by lead. ``connects_follow_up``: it is the follow-up call
    itself and it connected, so it closes the customer's follow-up cases."""

    call_id: str
    at: float
    number: str = ""
    lead: str = ""
    connects_follow_up: bool = False
    callback_of: str = ""  # the call whose promised call back this is (closes exactly that case)


@dataclass(frozen=True)
class Join:
    """A contact that belongs to a named case (a fax sent for it)."""

    case_id: str
    call_id: str
    at: float
    what: str


def case_id_of(key: str) -> str:
    """A short, stable id from the source's key (the same source always gives the same case)."""
    return "c" + hashlib.sha1(key.encode()).hexdigest()[:10]


def read(fact: Any, rules: CasesSettings, leads_of_dials: dict[str, str],
         fax_numbers: frozenset[str] = frozenset()) -> Opening | Contact | Join | None:  # fmt: skip
    """What one fact means for cases. ``leads_of_dials``: a campaign dial's id -> its lead, filled from the
    ``outbound.placed`` facts as they pass (the connect names no lead); ``fax_numbers``: the site's (without a
    leading +): a fax machine calling one is no contact with the customer (its fax says what it brought)."""
    k, d = fact.kind, fact.data
    if k == "ivr.message":
        if d.get("kind") == "complaint" and d.get("ok"):
            return Opening(fact.key, "complaint", "menu", fact.call_id, fact.at,
                           note=f"message {d.get('file', '')} ({d.get('seconds') or 0:g} s)")  # fmt: skip
        return None
    if k == "acd.callback":
        return Opening(fact.key, "follow_up", "callback", fact.call_id, fact.at, number=str(d.get("number", "")))
    if k == "acd.callback_connected":
        return Contact(fact.call_id, fact.at, connects_follow_up=True, callback_of=fact.call_id)
    if k == "outbound.callback":
        agent = str(d.get("agent", ""))
        return Opening(fact.key, "follow_up", "promised_callback", fact.call_id, fact.at, lead=str(d.get("lead", "")),
                       owner=agent if d.get("own") else "", due_at=float(d["at"]) if d.get("at") else None)  # fmt: skip
    if k == "outbound.disposition":
        if str(d.get("code", "")) in rules.after_sale_codes:
            return Opening(fact.key, "follow_up", "after_sale", fact.call_id, fact.at, lead=str(d.get("lead", "")),
                           owner=str(d.get("agent", "")), note=f"after {d.get('label') or d.get('code')}")  # fmt: skip
        return None
    if k == "outbound.placed":
        if d.get("lead") not in (None, ""):
            leads_of_dials[fact.call_id] = str(d["lead"])
        return None
    if k == "outbound.connect":
        lead = leads_of_dials.pop(fact.call_id, "")
        return Contact(fact.call_id, fact.at, lead=lead, connects_follow_up=True) if lead else None
    if k == "ivr.survey":
        score = d.get("score")
        if score is not None and int(score) < rules.survey_below:
            return Opening(fact.key, "low_survey", "survey", fact.call_id, fact.at, owner=str(d.get("agent", "")),
                           note=f"survey score {score}")  # fmt: skip
        return None
    if k == "fax.done":
        # the fax service names the case a fax joins: the one it was sent for, or the sender's live case
        if d.get("case") and d.get("result") in ("sent", "received", "uncertain"):
            return Join(str(d["case"]), fact.call_id, fact.at, "fax")
        if d.get("way") == "in" and d.get("result") in ("received", "uncertain"):
            station = f" from station {d['station']}" if d.get("station") else ""
            return Opening(fact.key, "follow_up", "fax", fact.call_id, fact.at, number=str(d.get("number", "")),
                           note=f"fax of {d.get('pages', 0)} page(s){station}")  # fmt: skip
        return None
    if k == "channel.new" and d.get("role") == "caller" and d.get("caller"):
        if str(d.get("exten", "")).lstrip("+") in fax_numbers:
            return None
        return Contact(fact.call_id, fact.at, number=str(d["caller"]))
    return None


def caller_of(facts: list[Any]) -> str:
    """The customer's number on a call: its caller's."""
    for f in facts:
        if f.kind == "channel.new" and f.data.get("role") == "caller":
            return str(f.data.get("caller", ""))
    return ""


def agent_complaint(agent: str, facts_since: list[Any]) -> tuple[str, float] | None:
    """The call an agent's complaint is about: its latest call answered (an offer it took, a campaign connect),
    as (call id, when); None when it has had none."""
    mine = [f for f in facts_since if f.kind in ("agent.offer", "outbound.connect") and f.data.get("agent") == agent]
    if not mine:
        return None
    last = max(mine, key=lambda f: f.at)
    return last.call_id, last.at
