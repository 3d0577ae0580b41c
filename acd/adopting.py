"""After a resync: take back the calls a previous run (or the link before it went down) left in Asterisk.

A new engine process starts with every agent idle and nobody in line, while Asterisk may still have callers
listening to the music in ``engine-wait``, callers talking to agents, and agents' phones ringing for an offer
the dead process made. The ledger says what each of those calls is, so after every resync the ACD:

- takes a caller talking to an agent it offered the call to as that agent's call (on call, then wrap-up);
- hangs up an offer still ringing from before (nobody would bridge it now) and puts its caller back in line;
- puts every caller waiting in the dialplan back in line in its place (its entry time, service, priority);

then writes ``acd.agents_synced``: every agent's state and when the link came back, so how long the agents'
states took to be right again is on record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from acd.agent_state import AgentMachine, Status
from acd.agents import Agents
from acd.line import Line
from acd.notifier import Notifier
from acd.queued import Queued
from acd.waiting import CallerPlan
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.dialplan import ANNOUNCE_CONTEXT, WAIT_CONTEXT
from engine.model.facts import Fact
from engine.ports import Actions, Calls, Ledger, Records, Spawner
from engine.recovery import LOOKBACK
from ivr.session import Waiting

log = logging.getLogger("hotline.acd")

# following a conversation to its end: (agent, caller, agent leg, connected at)
Follow = Callable[[str, Queued, str, float], Coroutine[Any, Any, None]]


def agent_state(m: AgentMachine) -> str:
    """One word for the board: logged_out, paused, idle, busy (its phone in a call the ACD did not route),
    reserved, ringing, on_call, on_hold or wrap_up."""
    if m.status is Status.LOGGED_OUT:
        return "logged_out"
    if m.status is Status.PAUSED and m.state.value == "idle":
        return "paused"
    if m.state.value == "idle" and m.device_busy:
        return "busy"
    return m.state.value


class Adoption:
    def __init__(self, actions: Actions, calls: Calls, ledger: Ledger, records: Records, spawner: Spawner,
                 clock: Clock, line: Line, agents: Agents, notifier: Notifier, follow: Follow) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.ledger = ledger
        self.records = records
        self.spawner = spawner
        self.clock = clock
        self.line = line
        self.agents = agents
        self.notifier = notifier
        self.follow = follow

    async def adopt(self) -> None:
        model = self.calls.model
        line = self.line
        for call_id in await self.records.open_calls(self.clock.now() - LOOKBACK):
            facts = await self.ledger.facts(call_id)
            # asked after the awaits: the IVR's hand-over of a caller in this very resync may have queued it meanwhile
            if line.tracked(call_id):
                continue
            queued = next((f for f in facts if f.kind == "call.queued"), None)
            caller = next((f for f in facts if f.kind == "channel.new" and f.data.get("role") == "caller"), None)
            if caller is None or caller.uniqueid not in model.channels:
                continue
            if queued is None and model.channels[caller.uniqueid].context not in (WAIT_CONTEXT, ANNOUNCE_CONTEXT):
                continue  # in the menu, or not ours: the IVR (or the degraded menu) has it
            if any(f.kind in ("acd.callback", "acd.timeout", "acd.voicemail") for f in facts):
                continue  # left the line another way; its channel is on its way out
            # without call.queued: the IVR sent it to the music and died before writing so; the default service
            q = self.queued_from(call_id, facts, queued, caller)
            q.service = line.service_for(q.service)
            for offer in reversed([f for f in facts if f.kind == "agent.offer"]):
                leg = model.channels.get(str(offer.data.get("leg", "")))
                agent_id = str(offer.data.get("agent", ""))
                if leg is None or agent_id not in self.agents.machines:
                    continue
                if leg.up and leg.bridge:
                    self._take_talking(q, agent_id, leg.uniqueid, facts)
                    break
                try:  # a ring from before: the offer is withdrawn, the caller keeps its place in line
                    await self.actions.action({"Action": "Hangup", "Channel": leg.name})
                except AmiError:
                    pass
            else:
                # asked again: the ring's hang-up above awaited, and the caller may have left or been queued
                ch = model.channels.get(caller.uniqueid)
                if ch is not None and ch.context in (WAIT_CONTEXT, ANNOUNCE_CONTEXT) and not line.tracked(call_id):
                    line.join(q)
                    log.info("call %s: back in line in its place after a restart", call_id)

    @staticmethod
    def queued_from(call_id: str, facts: list[Fact], queued: Fact | None, caller: Fact) -> Queued:
        d = queued.data if queued is not None else {}
        at = queued.at if queued is not None else caller.at
        w = Waiting(call_id, caller.uniqueid, str(caller.data.get("channel", "")), str(caller.data.get("caller", "")),
                    str(d.get("digit", "")), str(d.get("service", "")), int(d.get("priority", 0) or 0),
                    dict(d.get("skills") or {}))  # fmt: skip
        return Queued(w, w.service, caller.at, at, 1, CallerPlan(caller.at, at))

    def _take_talking(self, q: Queued, agent_id: str, leg: str, facts: list[Fact]) -> None:
        m = self.agents.machines[agent_id]
        if m.state.value != "idle":
            return
        q.service = self.line.service_for(q.service)
        now = self.clock.now()
        m.handle("adopt", now)
        self.agents.sync(agent_id)
        enters = [f.at for f in facts if f.kind == "bridge.enter" and f.uniqueid in (leg, q.waiting.uniqueid)]
        connected = max(enters) if enters else now
        log.info("call %s: talking to agent %s, taken back after a restart", q.waiting.call_id, agent_id)
        self.spawner.spawn(self.follow(agent_id, q, leg, connected), f"talk:{q.waiting.call_id}")

    async def synced(self, link_up_at: float) -> None:
        states = {a: agent_state(m) for a, m in self.agents.machines.items()}
        now = self.clock.now()
        await self.notifier.synced(link_up_at, states)
        log.info("agents resynced %.3f s after the link came back: %s", now - link_up_at, states)
