"""The ACD's decision loop: turns the router's and the agent machines' decisions into offers, and what Asterisk
says back into their events. The brains (``router``, ``agent_state``, ``guard``, ``waiting``) never see a
socket or the wall clock; the parts it is made of each hold one role: the line (``line``), the agents
(``agents``), the ways to connect (``connectors``, ``session_calls``, ``callbacks``), what waiting callers
hear (``announcing``), the conversations (``talk``), taking calls back after a resync (``adopting``), and
what is written about it all (``notifier``).

An unanswered offer puts the caller back in the line with its place (its entry time) and the next agent is
tried at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from acd.adopting import Adoption
from acd.agent_state import InvalidTransition, State
from acd.agents import Agents
from acd.announcing import WaitingActions, wait_rules
from acd.board import Board, Conflict
from acd.callbacks import CallBack, CallBacks, callback_rules
from acd.connectors import Connected, Connector, Outcome, Recording, Ring
from acd.guard import Guard, Reserve
from acd.line import Line
from acd.notifier import Notifier
from acd.queue_log import QueueLog
from acd.queued import Queued
from acd.router import Decision, Router
from acd.routing_config import build_routing
from acd.session_calls import JoinSession, Outbound, Sessions
from acd.settings import HotlineSettings
from acd.talk import Talk
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.config import Agent, ServiceConfig
from engine.dialplan import FIRST, START, TIMEOUT_CONTEXT
from engine.model.facts import Fact
from engine.ports import Actions, Calls, Ledger, Records, Spawner

log = logging.getLogger("hotline.acd")


class Dispatcher:
    def __init__(self, *, actions: Actions, calls: Calls, ledger: Ledger, records: Records, spawner: Spawner,
                 clock: Clock, settings: HotlineSettings, agents: Sequence[Agent], services: Sequence[ServiceConfig],
                 board: Board, recorder: Recording, queue_log: QueueLog, tick: float = 1.0) -> None:  # fmt: skip
        self.actions, self.calls, self.ledger, self.spawner, self.clock = actions, calls, ledger, spawner, clock
        self.tick = tick
        self.settings = settings
        self.service = settings.service  # the hotline's
        routed, profiles, wrap = build_routing(services, agents, settings)
        self.router = Router(routed, profiles)
        self.max_wait = {sv.name: sv.max_wait for sv in services}
        self.board = board  # who holds each agent, shared with the dialer
        self.line = Line(self.router, settings.service)
        self.notifier = Notifier(ledger, queue_log, records, {a.id: a for a in agents}, settings.service)
        self.agents = Agents(agents, board, self.line, self.notifier, ledger, clock, wrap)
        self.sessions = Sessions(actions, calls, board, self.line, self.notifier)
        self.callbacks = CallBacks(self.line, self.notifier, ledger, clock, settings.region, callback_rules(services))
        self.waiting = WaitingActions(actions, calls, self.line, self.notifier, wait_rules(services), settings.region)
        self.talk = Talk(actions, calls, ledger, clock, self.line, self.agents, self.sessions, self.notifier)
        self.adoption = Adoption(actions, calls, ledger, records, spawner, clock, self.line, self.agents,
                                 self.notifier, self.talk.follow)  # fmt: skip
        self.ring = Ring(actions, calls, clock, self.agents, self.notifier, recorder, settings.ring_timeout)
        self.join = JoinSession(actions, calls, clock, self.sessions, self.agents, self.notifier, recorder)
        self.call_back = CallBack(actions, calls, ledger, clock, self.agents, self.callbacks, self.notifier, recorder,
                                  settings.ring_timeout, settings.number)  # fmt: skip
        self.guard = Guard(settings.guard_after, settings.guard_release) if settings.guard_agents else None
        # the dialer, when the site has campaigns (set by the wiring): the guard takes its agents off pacing
        self.dialer: Outbound | None = None
        self._decisions = 0
        self._resynced_at: float | None = None  # the link came back then: calls left in Asterisk are taken back

    # ---- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Named task: log agents in, then decide whenever something changed (or every tick for rule steps)."""
        await self.agents.restore()
        await self.callbacks.restore()
        wake = self.line.wake
        while True:
            # wake on any change, or after a tick of the engine's clock (rule steps depend on waiting time)
            woken = asyncio.ensure_future(wake.wait())
            ticked = asyncio.ensure_future(self.clock.sleep(self.tick))
            await asyncio.wait([woken, ticked], return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            ticked.cancel()
            wake.clear()
            await self.actions.ready.wait()  # decide only on a resynced picture of Asterisk
            resynced, self._resynced_at = self._resynced_at, None
            if resynced is not None:
                await self.adoption.adopt()
            await self._dispatch()
            if resynced is not None:
                await self.adoption.synced(resynced)

    def kick(self) -> None:
        self.line.kick()

    EVENTS = frozenset({"DeviceStateChange", "Hangup", "DTMFEnd"})  # what on_frame reads

    def on_frame(self, frame: Frame) -> None:
        # a phone going back to NOT_INUSE (or a caller leaving) can free a decision at once, not at the tick
        if frame.event in ("DeviceStateChange", "Hangup") and self.line.queued:
            self.kick()
        elif frame.event == "DTMFEnd" and frame.get("Direction") == "Received":
            channel = frame.get("Channel")
            if self.sessions.end_pressed(channel, frame.get("Digit"), self.clock.now()):
                self.spawner.spawn(self.sessions.end_call(channel), f"end-keys:{channel}")

    def on_resynced(self, link_up_at: float) -> None:
        self._resynced_at = link_up_at
        self.kick()

    # ---- decisions --------------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        now = self.clock.now()
        await self._forget_gone_callers(now)
        await self._time_out_long_waits(now)
        self._phones(now)
        self.callbacks.rejoin_due(now)
        if self.line.queued:
            # callers in fair order, each to the free agent its service's strategy picks; bounded: each
            # decision takes one agent out of the free ones
            for _ in self.agents.machines:
                d = self.router.next_decision(now)
                if d is None:
                    break
                await self._assign(d, now)
            # only after every connect that could be made: what the others hear while they wait
            await self.waiting.step(now)
        await self._guard_step(now)

    def _phones(self, now: float) -> None:
        """A phone busy with anything else (direct, outbound, not ours) is never offered a call."""
        for agent_id, m in self.agents.machines.items():
            if m.state is State.IDLE:
                busy = self.calls.model.agent_busy(self.agents.configs[agent_id].endpoint)
                if busy and self.sessions.provider(agent_id) is not None:
                    busy = False  # its only call is its own always-on session, idle: a caller can join it
                self.agents.device(agent_id, busy, now)

    async def _forget_gone_callers(self, now: float) -> None:
        for call_id, q in list(self.line.queued.items()):
            if q.callback is not None or q.waiting.uniqueid in self.calls.model.channels:
                continue  # a call back keeps its place without a channel
            if call_id in self.line.offering.values():
                continue  # the offer task finishes it
            self.line.leave(call_id)
            gone = [f.at for f in await self.ledger.facts(call_id)
                    if f.kind in ("hangup.request", "channel.hangup") and f.uniqueid == q.waiting.uniqueid]  # fmt: skip
            await self.notifier.abandon(min(gone, default=now), q)

    async def _time_out_long_waits(self, now: float) -> None:
        """A caller past the service's maximum wait leaves the queue for the apology (engine-timeout)."""
        offering = self.line.being_offered()
        for call_id, q in list(self.line.queued.items()):
            limit = self.max_wait.get(q.service, 0.0)
            if not limit or call_id in offering or q.callback is not None or now - q.queued_at < limit:
                continue
            ch = self.calls.model.channels.get(q.waiting.uniqueid)
            self.line.leave(call_id)
            await self.notifier.timed_out(now, q)
            if ch is None:
                continue
            try:
                await self.actions.action({"Action": "Redirect", "Channel": ch.name, "Context": TIMEOUT_CONTEXT,
                                           "Exten": START, "Priority": FIRST})  # fmt: skip
            except AmiError as exc:
                log.warning("call %s: could not send the caller to %s: %s", call_id, TIMEOUT_CONTEXT, exc)

    async def _guard_step(self, now: float) -> None:
        """The hotline guard: a designated outbound agent taken off the dialer while hotline callers wait."""
        if self.guard is None or self.dialer is None:
            return
        # callers nobody is being tried for: after every possible connect was made, so no hotline agent is free
        offering = self.line.being_offered()
        waits = [now - q.queued_at for c, q in self.line.queued.items()
                 if q.service == self.service and q.callback is None and c not in offering]  # fmt: skip
        seats = self.board.guard_view(list(self.settings.guard_agents))
        step = self.guard.step(now, max(waits) if waits else None, seats)
        if step is None:
            return
        on = isinstance(step, Reserve)
        if on:
            await self.dialer.reserve(step.agent, step.reason)
        else:
            await self.dialer.release(step.agent, step.reason)
        self.router.grant(step.agent, self.service, on)
        await self.notifier.guard(now, step.agent, on, step.reason)
        log.info("hotline guard: %s agent %s (%s)", "reserved" if on else "released", step.agent, step.reason)
        self.kick()

    async def _assign(self, d: Decision, now: float) -> None:
        q = self.line.queued[d.call_id]
        states = {a: mm.describe() for a, mm in self.agents.machines.items()}
        explanation = self.router.explain(self.line.caller(q), d.agent_id, now, states, d.why)
        try:
            self.board.acd_reserve(d.agent_id, d.call_id, now)
        except (Conflict, InvalidTransition) as exc:  # another side holds it: not ours to offer (a bug)
            log.error("agent board: %s", exc)
            self.router.set_available(d.agent_id, None)
            return
        self.router.assigned(d)
        self.agents.sync(d.agent_id)
        self._decisions += 1
        self.line.offering[d.agent_id] = d.call_id
        decision = self.notifier.decision(now, d, q, self._decisions, explanation)
        self.spawner.spawn(self._offer(d, q, decision), f"offer:{d.call_id}:{d.agent_id}")

    # ---- offers -----------------------------------------------------------------------------------
    def _connector(self, agent_id: str, q: Queued) -> Connector:
        if q.callback is not None:
            return self.call_back  # ring the agent, then dial the customer
        if self.sessions.provider(agent_id) is not None:
            return self.join  # the agent sits idle in its always-on session: no ringing
        return self.ring

    async def _offer(self, d: Decision, q: Queued, decision: Fact) -> None:
        try:
            result = await self._connector(d.agent_id, q).connect(d, q, decision)
            if result.outcome is Outcome.ANSWERED:
                await self._answered(d, q, result)
            elif result.outcome is Outcome.CALLER_GONE:
                await self._caller_gone(d, q)
            elif result.outcome is Outcome.NO_ANSWER:
                await self._not_answered(d, q, result)
            elif result.outcome is Outcome.NOT_OFFERED:
                self._not_offered(d, q)
        except InvalidTransition as exc:
            log.error("agent state: %s", exc)
        finally:
            self.line.offering.pop(d.agent_id, None)
            self.agents.sync(d.agent_id)
            self.kick()

    async def _answered(self, d: Decision, q: Queued, result: Connected) -> None:
        now = self.clock.now()
        self.agents.machines[d.agent_id].handle("answer", now)
        self.router.answered(d.agent_id)
        self.line.queued.pop(q.waiting.call_id, None)
        self.waiting.answered(q.service, now - q.queued_at)
        await self.notifier.connect(now, q, d.agent_id, result.leg, result.rang)
        await self.talk.follow(d.agent_id, q, result.leg, now)

    async def _caller_gone(self, d: Decision, q: Queued) -> None:
        now = self.clock.now()
        self.board.acd_release(d.agent_id, now)
        self.line.queued.pop(q.waiting.call_id, None)
        await self.notifier.abandon(now, q)

    def _not_offered(self, d: Decision, q: Queued) -> None:
        """Nothing reached the agent: it is free again (no miss counted, no RINGNOANSWER: nothing rang), and the
        caller keeps its place, the next agent tried first."""
        self.board.acd_release(d.agent_id, self.clock.now())
        q.missed.add(d.agent_id)
        self.line.back_in_line(q)

    async def _not_answered(self, d: Decision, q: Queued, result: Connected) -> None:
        """Not answered (or the offer failed): the caller keeps its place, the next agent is tried now."""
        now = self.clock.now()
        m = self.agents.machines[d.agent_id]
        effects = m.handle("no_answer", now)
        await self.notifier.ring_no_answer(now, q, d.agent_id, result.rang)
        if any(e.kind == "auto_paused" for e in effects):
            log.warning("agent %s paused after %d unanswered offers", d.agent_id, m.misses)
            await self.notifier.paused(now, d.agent_id, m.reason)
        q.missed.add(d.agent_id)  # the next agent is tried first, whatever the strategy
        self.line.back_in_line(q)
