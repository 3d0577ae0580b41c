"""Agent time and occupancy from the agent machines' own timelines (docs/metrics.md#occupancy).

occupancy = (talk + hold + wrap-up + outbound) / (that + available idle time); paused and logged-out time
are left out. A call in progress (on call, on hold, wrap-up) is work whatever the status says (an agent may
pause for after the call); idle, reserved or ringing is available time, unless the phone is busy with a
call of the agent's own (device busy while idle): that is outbound work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from acd.agent_state import AgentMachine

HANDLING = ("on_call", "on_hold", "wrap_up")


@dataclass(frozen=True)
class AgentTime:
    handling: float = 0.0  # talk + hold + wrap-up, seconds
    outbound: float = 0.0
    available: float = 0.0  # available and idle (reserved, ringing included)
    excluded: float = 0.0  # paused or logged out, not on a call

    def __add__(self, o: AgentTime) -> AgentTime:
        return AgentTime(self.handling + o.handling, self.outbound + o.outbound, self.available + o.available,
                         self.excluded + o.excluded)  # fmt: skip

    @property
    def occupancy(self) -> float | None:
        busy = self.handling + self.outbound
        return busy / (busy + self.available) if busy + self.available > 0 else None

    def as_dict(self) -> dict[str, float | None]:
        occ = self.occupancy
        return {"handling_seconds": round(self.handling, 1), "outbound_seconds": round(self.outbound, 1),
                "available_seconds": round(self.available, 1), "excluded_seconds": round(self.excluded, 1),
                "occupancy": None if occ is None else round(occ, 4)}  # fmt: skip


def _kind(status: str, state: str, busy: bool) -> int:
    """0 handling, 1 outbound, 2 available, 3 excluded."""
    if state in HANDLING:
        return 0
    if not status.startswith("available"):
        return 3
    return 1 if busy else 2


def agent_time(m: AgentMachine, start: float, end: float) -> AgentTime:
    """One agent's time between ``start`` and ``end`` (epoch s), from its status/state marks and phone use."""
    changes = sorted([(at, 0, (status, state)) for at, status, state in m.history]
                     + [(at, 1, busy) for at, busy in m.device_log], key=lambda c: (c[0], c[1]))  # fmt: skip
    spent = [0.0, 0.0, 0.0, 0.0]
    status, state, busy = "logged_out", "idle", False
    t = start
    for at, what, value in [*changes, (end, 2, None)]:
        if at > t:
            upto = min(at, end)
            if upto > t:
                spent[_kind(status, state, busy)] += upto - t
            t = max(t, upto)
        if what == 0:
            status, state = value  # type: ignore[misc]
        elif what == 1:
            busy = bool(value)
    return AgentTime(*spent)


def team_time(machines: Iterable[AgentMachine], start: float, end: float) -> AgentTime:
    total = AgentTime()
    for m in machines:
        total = total + agent_time(m, start, end)
    return total


def inbound_time(engine: Any, start: float, end: float) -> AgentTime:
    """The ACD's agents outside campaigns (a campaign's agents are the dialer's to report), summed."""
    acd = engine.features.get("acd")
    campaign = {a for c in engine.site.campaigns for a in c.agents}
    return team_time([m for a, m in acd.machines.items() if a not in campaign] if acd else [], start, end)
