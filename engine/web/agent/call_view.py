"""One call as an agent's page shows it (pure): folded from the call's facts, whether read back from the ledger or
taken off the bus, in any mix and with repeats (each fact sets what it says, so the same fact twice changes
nothing). Customers' numbers are masked here whatever the source: the ledger's are whole, and the bus leaves a
dial string as it is."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.live.bus import Change
from engine.model.facts import Fact
from engine.privacy import mask_number


@dataclass(frozen=True)
class CallFact:
    """A fact of a call, from the ledger (``of_fact``) or from the bus's ``call`` topic (``of_change``)."""

    kind: str
    at: float
    call_id: str
    uniqueid: str
    data: Mapping[str, Any]

    @classmethod
    def of_fact(cls, f: Fact) -> CallFact:
        return cls(f.kind, f.at, f.call_id, f.uniqueid, f.data)

    @classmethod
    def of_change(cls, c: Change) -> CallFact:
        data = dict(c.data)
        kind, uniqueid = str(data.pop("kind", "")), str(data.pop("uniqueid", ""))
        return cls(kind, c.at, c.key, uniqueid, data)


def _dialed(dialstring: str) -> str:
    """The number of a dial string (``PJSIP/13900000000@trunk``)."""
    return dialstring.split("@", 1)[0].rsplit("/", 1)[-1]


def _whole(number: str) -> str:
    """The number if it is whole (the ledger's), else "" (the bus's are masked; "anonymous" is no number)."""
    return number if re.fullmatch(r"\+?\d{3,}", number) else ""


@dataclass
class CallView:
    id: str
    agent: str  # the agent whose page this is: its own offer and leg, not another's
    direction: str = "in"  # "out": the dialer's conversation
    service: str = ""  # the service it was queued in, or the campaign
    caller: str = ""  # the customer's number, masked
    lead: int | None = None
    offered: float | None = None  # the agent's phone began ringing (outbound: the customer was bridged)
    connected: float | None = None
    ended: float | None = None
    leg: str = ""  # the agent's channel (its offer's)
    steps: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # the IVR's: seq -> (node, step, detail)
    tags: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # what the IVR set (an account keyed in)
    # the customer's number in full, for the screen pop's look-up only: never in the page's view
    number: str = field(default="", repr=False)

    def add(self, f: CallFact) -> bool:
        """Fold one fact in; whether the page's view of the call changed."""
        before = self.as_dict()
        self._fold(f)
        return self.as_dict() != before

    def _fold(self, f: CallFact) -> None:
        d, k = f.data, f.kind
        mine = str(d.get("agent", "")) == self.agent
        if k == "channel.new" and d.get("role") == "caller" and d.get("caller"):
            self.caller = mask_number(str(d["caller"]))
            self.number = _whole(str(d["caller"])) or self.number
        elif k == "call.queued" and not self.service:
            self.service = str(d.get("service", ""))
        elif k == "agent.offer" and mine:
            if self.offered is None or f.at > self.offered:  # offered again after a miss: the newest counts
                self.offered, self.leg, self.connected = f.at, str(d.get("leg", "")), None
            self.service = str(d.get("service", "")) or self.service
        elif k == "bridge.enter" and self.leg and self.direction == "in":
            # the agent's leg enters the caller's bridge, or the caller joins the agent's open session
            if (f.uniqueid == self.leg or self.leg in d.get("peers", ())) and self.connected is None:
                self.connected = f.at
        elif k in ("channel.hangup", "call.end") and self.direction == "in":
            if (f.uniqueid == self.id or k == "call.end") and self.ended is None:
                self.ended = f.at
        elif k == "ivr.step" and isinstance(d.get("seq"), int):
            self.steps[d["seq"]] = (str(d.get("node", "")), str(d.get("step", "")), str(d.get("detail", "")))
        elif k == "ivr.tags":
            self.tags += [str(t) for t in d.get("tags", ()) if str(t) not in self.tags]
        elif k == "ivr.variables":
            self.variables.update({str(n): str(v) for n, v in dict(d.get("variables", {})).items()})
        elif k == "outbound.placed":
            self.direction, self.lead = "out", d.get("lead")
            self.service = str(d.get("campaign", "")) or self.service
        elif k == "dial.begin" and self.direction == "out" and d.get("dialstring"):
            self.caller = mask_number(_dialed(str(d["dialstring"])))
            self.number = _whole(_dialed(str(d["dialstring"]))) or self.number
        elif k == "outbound.connect" and mine:
            self.direction = "out"
            self.service = str(d.get("campaign", "")) or self.service
            self.offered = self.connected = float(d.get("at", f.at))
        elif k == "outbound.talk_end" and mine:
            self.ended = f.at

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "direction": self.direction, "service": self.service, "caller": self.caller,
                "lead": self.lead, "offered": self.offered, "connected": self.connected, "ended": self.ended,
                "path": [list(self.steps[s]) for s in sorted(self.steps)], "tags": list(self.tags),
                "variables": dict(self.variables)}  # fmt: skip
