"""One agent's desk as its page shows it (pure): the agent's state, its figures of the day, the call it is on, its
last outbound conversation (what a disposition is for) and, in a preview campaign, the lead it holds.

The page's stream hands every bus item to ``Desk.take``; anything about another agent, or about a call this one
is not on, is dropped here, so it never leaves the engine on this page's connection. When the agent turns out to
be on a call the desk has not seen from its start, it asks the shell to read that call's facts back from the
ledger (``loads``), and at a snapshot a campaign agent's recent outbound facts (``RECALL_KINDS``: a lead held,
a conversation in wrap-up, from before the page opened). Folding is idempotent, so a fact read back and then
seen again on the bus changes nothing.

The screen pop: once a call's customer number is known in full (only the ledger's facts have it: the bus's are
masked), the desk asks the shell for that customer's card once (``pops``), and shows what comes back
(``popped``) for as long as the agent is on that call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from engine.live.bus import Change, Snapshot
from engine.model.facts import Fact
from engine.privacy import mask_number
from engine.web.agent.call_view import CallFact, CallView

DAY_TOPIC = "agent_day"  # today's handled calls and AHT per agent, when the engine publishes them
# the facts naming an agent that make or end its outbound call or its preview lead
OUTBOUND_MINE = frozenset({"outbound.preview", "outbound.skip", "outbound.placed", "outbound.connect",
                           "outbound.talk_end"})  # fmt: skip
RECALL_KINDS = (*sorted(OUTBOUND_MINE), "outbound.result", "action")
RECALL_SECONDS = 3600.0  # how far back a snapshot looks for a held lead or a conversation to give a disposition
# the service API's answer to preview_next / preview_dial (dialer/preview.py): the lead and its masked number
_LEAD_TEXT = re.compile(r"\blead (\d+) (\**\d*)$")
BUSY_PHASES = ("talking", "wrap")
NUMBER_READS = 3  # a call's facts read again while its number is not in the ledger yet (written in batches)


def _busy(agent: dict[str, Any] | None) -> bool:
    """On a call or wrapping one up: the ACD's states, or the dialer's conversation in the agent's session."""
    return agent is not None and (agent.get("state", "idle") != "idle" or agent.get("phase") in BUSY_PHASES)


class Desk:
    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.agent: dict[str, Any] | None = None  # its retained ``agent`` state
        self.day: dict[str, Any] | None = None  # its ``agent_day`` figures
        self.call: CallView | None = None  # the call it is on (or wraps up)
        self.last: CallView | None = None  # its last outbound conversation, once over
        self.lead: dict[str, Any] | None = None  # the preview lead it holds or dials: call, lead, number, status
        self._loads: list[str] = []
        self.customer: dict[str, Any] | None = None  # the current call's screen pop: call, card, url
        self._pops: list[dict[str, Any]] = []
        self._reads: dict[str, int] = {}  # call -> times its facts were read for a number

    # ---- what the shell does ------------------------------------------------------------------------------------
    def take(self, item: Change | Snapshot) -> bool:
        """One bus item; whether the page's view changed."""
        if isinstance(item, Snapshot):
            before = self.view()
            self.agent = self.day = None
            for c in item.states:
                if c.key == self.agent_id and c.topic in ("agent", DAY_TOPIC):
                    self._state(c)
            return self.view() != before
        if item.topic in ("agent", DAY_TOPIC):
            return item.key == self.agent_id and self._state(item)
        if item.topic == "call":
            return self.fact(CallFact.of_change(item))
        return False

    def recall(self, facts: Iterable[Fact]) -> bool:
        """A campaign agent's recent facts of ``RECALL_KINDS``, oldest first, read at a snapshot."""
        before = self.view()
        for f in facts:
            self.fact(CallFact.of_fact(f))
        if not _busy(self.agent):
            self._end()  # a conversation over before the page opened: the last one, not the current
        if self.lead is not None and self.lead["status"] == "dialing" and (self.agent or {}).get("phase") != "preview":
            self.lead = None  # its dial was answered or not since: the call or the list has it
        self._loads = [v.id for v in (self.call, self.last) if v is not None]  # the calls shown, read once
        return self.view() != before

    def loads(self) -> list[str]:
        """The calls whose facts the shell should read back now (each then goes to ``history``)."""
        out, self._loads = self._loads, []
        return out

    def history(self, call_id: str, facts: Iterable[Fact]) -> bool:
        changed = False
        for f in facts:
            if f.call_id == call_id:
                changed |= self.fact(CallFact.of_fact(f))
        call = self.call
        if call is not None and call.id == call_id and not call.number:
            self._reads[call_id] = self._reads.get(call_id, 0) + 1
            if self._reads[call_id] < NUMBER_READS:
                self._loads.append(call_id)  # its start not in the ledger yet: read again at the next turn
        return changed

    def pops(self) -> list[dict[str, Any]]:
        """The screen pops the shell should look up now: the call's fields (``crm.screen_pop.FIELDS``), once per
        call, as soon as its customer's number is known."""
        call = self.call
        if call is not None and call.number and (self.customer is None or self.customer["call"] != call.id):
            self.customer = {"call": call.id, "card": None, "url": ""}
            self._pops.append({"number": call.number, "call": call.id, "agent": self.agent_id,
                               "direction": call.direction, "service": call.service,
                               "lead": "" if call.lead is None else str(call.lead)})  # fmt: skip
        out, self._pops = self._pops, []
        return out

    def popped(self, call_id: str, card: dict[str, Any] | None, url: str) -> bool:
        """What the shell found for a call's pop; kept only while the agent is still on that call."""
        if self.customer is None or self.customer["call"] != call_id:
            return False
        self.customer = {"call": call_id, "card": card, "url": url}
        return True

    def view(self) -> dict[str, Any]:
        shown = self.customer if self.customer is not None and self.call is not None and \
            self.customer["call"] == self.call.id else None
        return {"agent": self.agent, "day": self.day, "call": self.call.as_dict() if self.call else None,
                "last": self.last.as_dict() if self.last else None,
                "lead": dict(self.lead) if self.lead else None, "customer": shown}  # fmt: skip

    # ---- folding ----------------------------------------------------------------------------------------------
    def _state(self, c: Change) -> bool:
        data = dict(c.data)
        if c.topic == DAY_TOPIC:
            changed, self.day = data != self.day, data
            return changed
        was_busy, before = _busy(self.agent), self.view()
        self.agent = data
        call = data.get("call")
        if call and data.get("state", "idle") != "idle" and (self.call is None or self.call.id != call):
            self._begin(str(call), "in")  # the ACD's offer: the agent's state names the call
        elif was_busy and not _busy(data):
            self._end()  # idle again, the wrap-up over: the call leaves the page
        return self.view() != before

    def fact(self, f: CallFact) -> bool:
        """A call fact off the bus or out of the ledger: kept if it is this agent's or its call's."""
        d, mine = f.data, str(f.data.get("agent", "")) == self.agent_id
        if f.kind == "action":
            return mine and self._action(d)
        changed = False
        if mine and f.kind == "agent.offer" and (self.call is None or self.call.id != f.call_id):
            self._begin(f.call_id, "in")
            changed = True
        if mine and f.kind in OUTBOUND_MINE:
            changed |= self._outbound(f)
        if self.call is not None and f.call_id == self.call.id:
            changed |= self.call.add(f)
        elif self.last is not None and f.call_id == self.last.id:
            changed |= self.last.add(f)
        if self.lead is not None and f.call_id == self.lead["call"] and f.kind in ("dial.begin", "outbound.result"):
            changed |= self._lead_dialed(f)
        return changed

    def _begin(self, call_id: str, direction: str) -> None:
        if self.call is not None and self.call.direction == "out":
            self.last = self.call
        self.call = CallView(call_id, self.agent_id, direction)
        self._loads.append(call_id)

    def _end(self) -> None:
        if self.call is not None and self.call.direction == "out":
            self.last = self.call
        self.call = None

    def _outbound(self, f: CallFact) -> bool:
        before = self.view()
        d = f.data
        if f.kind == "outbound.preview":
            if self.lead is None or self.lead["call"] != f.call_id:
                self.lead = {"call": f.call_id, "lead": d.get("lead"), "campaign": d.get("campaign", ""),
                             "number": "", "status": "held"}  # fmt: skip
        elif f.kind == "outbound.skip" and self.lead is not None and self.lead["call"] == f.call_id:
            self.lead = None
        elif f.kind == "outbound.placed" and self.lead is not None and self.lead["call"] == f.call_id:
            self.lead["status"] = "dialing"
        elif f.kind == "outbound.connect" and (self.call is None or self.call.id != f.call_id):
            if self.lead is not None and self.lead["call"] == f.call_id:
                self.lead = None  # answered: the conversation takes its place
            self._begin(f.call_id, "out")
        return self.view() != before

    def _lead_dialed(self, f: CallFact) -> bool:
        assert self.lead is not None
        before = dict(self.lead)
        if f.kind == "dial.begin" and f.data.get("dialstring"):
            self.lead["number"] = mask_number(str(f.data["dialstring"]).split("@", 1)[0])
        elif f.kind == "outbound.result":
            self.lead = None  # not answered (busy, no answer, a machine): back on the list
        return self.lead != before

    def _action(self, d: Any) -> bool:
        """The service API's fact of a request on this agent: preview_next's answer names the held lead's masked
        number, which no other fact carries."""
        if d.get("action") not in ("preview_next", "preview_dial") or not d.get("ok") or self.lead is None:
            return False
        m = _LEAD_TEXT.search(str(d.get("result", "")))
        if m is None or str(self.lead["lead"]) != m.group(1) or self.lead["number"] == m.group(2):
            return False
        self.lead["number"] = m.group(2)
        return True
