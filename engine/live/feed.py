"""The live feed: turns the engine's facts, agent machines, queues and campaigns into bus changes.

A thin shell: what it reads comes in as plain callables from the composition root (no feature's internals),
the figures come from pure pieces (``tally``), and the only thing it writes to is the bus. Queue lengths
and longest waits are published when a caller joins or leaves a line and sampled once a tick of the engine's
clock (the longest wait grows), campaign lines sampled; agents and call records are published the moment they
change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.clock import Clock
from engine.live.bus import Bus, Change
from engine.live.tally import AgentDay, ServiceDay
from engine.model.facts import Fact
from engine.privacy import mask_number

log = logging.getLogger("hotline.live")

# fact fields that may hold a customer's number: masked on the way out, as in the logs
NUMBER_FIELDS = frozenset({"caller", "number", "phone", "callee", "customer", "exten", "dialed"})


@dataclass(frozen=True)
class QueueNow:
    waiting: int  # callers on hold for an agent now
    oldest_queued_at: float | None  # the longest waiting one's queue entry
    callbacks: int = 0  # callers keeping their place for a call back, without a channel


class AgentView(Protocol):
    agent_id: str
    status: Any
    reason: str
    state: Any
    since: float
    device_busy: bool
    holder: Any  # who holds the agent (acd.board.Holder)
    session: str  # its always-on session's channel ("" none)
    phase: Any  # its session's phase (acd.board.Phase): the dialer's talking, wrap and preview among them


def _mask_dialstring(value: str) -> str:
    """``[tech/]number[@trunk]``: the number masked, where it goes kept (a dial's ``dialstring``)."""
    target, at, trunk = value.partition("@")
    tech, slash, number = target.rpartition("/")
    return f"{tech}{slash}{mask_number(number)}{at}{trunk}"


def masked(data: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: mask_number(str(v)) if k in NUMBER_FIELDS and v else v for k, v in data.items()}
    if out.get("dialstring"):  # an outbound customer's number, as Asterisk was asked to dial it
        out["dialstring"] = _mask_dialstring(str(out["dialstring"]))
    return out


class LiveFeed:
    def __init__(self, bus: Bus, clock: Clock, day: ServiceDay, *,
                 today: Callable[[], Awaitable[Iterable[Mapping[str, Any]]]],
                 queues: Callable[[], Mapping[str, QueueNow]],
                 campaigns: Callable[[], Mapping[str, Mapping[str, Any]]] = dict,
                 engine_status: Callable[[], Mapping[str, Any]] = dict, tick: float = 1.0) -> None:  # fmt: skip
        self.bus = bus
        self.clock = clock
        self.day = day
        self._today = today
        self._queues = queues
        self._campaigns = campaigns
        self._engine_status = engine_status
        self.tick = tick
        self._calls: dict[str, tuple[str, str]] = {}  # agent -> (call, service) last offered; cleared when idle
        self.agent_day = AgentDay(day.tz)

    # ---- pushed by the engine and the features ----------------------------------------------------------
    def on_facts(self, facts: Iterable[Fact]) -> None:
        for f in facts:
            if f.kind == "agent.offer" and f.data.get("agent"):
                self._calls[str(f.data["agent"])] = (f.call_id, str(f.data.get("service") or ""))
            self.bus.publish(Change("call", f.call_id, f.at, {"kind": f.kind, "uniqueid": f.uniqueid,
                                                               **masked(f.data)}, retained=False))  # fmt: skip

    def on_agent(self, m: AgentView) -> None:
        state = getattr(m.state, "value", str(m.state))
        status = getattr(m.status, "value", str(m.status))
        if state == "idle":
            self._calls.pop(m.agent_id, None)
        call, service = self._calls.get(m.agent_id, (None, ""))
        self.bus.publish(Change("agent", m.agent_id, self.clock.now(), {
            "status": status, "reason": m.reason, "state": state, "since": m.since,
            "device_busy": m.device_busy, "call": call, "call_service": service,
            "holder": getattr(m.holder, "value", str(m.holder)), "session": m.session,
            "phase": getattr(m.phase, "value", str(m.phase))}))  # fmt: skip

    def on_line(self, service: str) -> None:
        """A caller joined or left ``service``'s line: its state now, not at the next sample."""
        self._publish_service(service, self._queues())

    def on_record(self, row: Mapping[str, Any]) -> None:
        self._roll(self.clock.now())
        service = self.day.add(row)
        if service is not None:
            self._publish_service(service, self._queues())
            if row.get("outcome") == "abandoned":
                self._publish_abandoned(service)
        agent = self.agent_day.add(row)
        if agent is not None:
            self.bus.publish(Change("agent_day", agent, self.clock.now(), self.agent_day.figures(agent)))

    def _roll(self, now: float) -> None:
        """At midnight in the site's zone: today's figures start from nothing, on the bus too."""
        before = self.agent_day.agents()
        if self.agent_day.roll(now):
            for agent in before:
                self.bus.publish(Change("agent_day", agent, now, self.agent_day.figures(agent)))
        if self.day.roll(now):
            self._publish_services()
            for service in self.day.services():
                self._publish_abandoned(service)

    def _publish_abandoned(self, service: str) -> None:
        self.bus.publish(Change("abandoned", service, self.clock.now(), {"callers": self.day.abandoned(service)}))

    # ---- sampled ----------------------------------------------------------------------------------------
    def _publish_service(self, service: str, queues: Mapping[str, QueueNow]) -> None:
        now = self.clock.now()
        q = queues.get(service, QueueNow(0, None))
        longest = round(now - q.oldest_queued_at) if q.oldest_queued_at is not None else 0
        self.bus.publish(Change("service", service, now, {
            "waiting": q.waiting, "longest_wait": max(0, longest), "callbacks": q.callbacks,
            **self.day.figures(service)}))  # fmt: skip

    def _publish_services(self) -> None:
        queues = self._queues()
        for service in sorted(set(self.day.services()) | set(queues)):
            self._publish_service(service, queues)

    def sample(self) -> None:
        """Queues, campaigns and the engine's own state, as they are now."""
        now = self.clock.now()
        self._roll(now)
        self._publish_services()
        for name, data in self._campaigns().items():
            self.bus.publish(Change("campaign", name, now, dict(data)))
        self.bus.publish(Change("engine", "status", now, dict(self._engine_status())))

    async def run(self) -> None:
        """Named task: today's records first (a restart keeps the day's figures), then a sample every tick."""
        now = self.clock.now()
        rows = list(await self._today())
        self.day.load(rows, now)
        self.agent_day.roll(now)
        for row in rows:
            self.agent_day.add(row)
        for service in self.day.services():
            self._publish_abandoned(service)
        for agent in self.agent_day.agents():
            self.bus.publish(Change("agent_day", agent, now, self.agent_day.figures(agent)))
        while True:
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a wallboard figure must never stop the engine
                log.exception("live sample failed")
            await self.clock.sleep(self.tick)
