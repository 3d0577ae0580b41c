"""The ACD's shell: turns the router's and the agent machines' decisions into AMI actions, and AMI facts
back into their events. The brains (``router``, ``agent_state``) never see a socket or the wall clock.

Connecting: the agent leg is an Originate with our own ChannelId and ``Application: Bridge``, ringing at
most the hotline's ring timeout (15 s, three rings in China's cadence); an unanswered offer puts the caller
back in the queue with its place (its entry time) and the next agent is tried at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

from acd import wrap_up
from acd.adopting import Adoption
from acd.agent_state import InvalidTransition, State
from acd.announcing import WaitingActions, wait_rules
from acd.board import Board, Conflict
from acd.callbacks import CallBacks, callback_rules
from acd.guard import Guard, Reserve
from acd.queue_log import QueueLog
from acd.queued import Queued
from acd.router import Caller, Decision, Router
from acd.routing_config import build_routing
from acd.session_calls import Outbound, SessionCalls
from acd.sessions import EndKeys, SessionProvider
from acd.waiting import CallerPlan, HoldTime
from engine.app import Engine
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.dialplan import DONE_CONTEXT, FIRST, START, SURVEY_CONTEXT, TIMEOUT_CONTEXT, WAIT_CONTEXT, bridge_return
from engine.model.facts import Fact, fact_key
from ivr.session import Waiting
from recording.finalize import Recorder

log = logging.getLogger("hotline.acd")

class Dispatcher(CallBacks, WaitingActions, SessionCalls, Adoption):
    def __init__(self, engine: Engine, recorder: Recorder, queue_log_path: Path | None = None,
                 tick: float = 1.0, board: Board | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.recorder = recorder
        self.tick = tick
        site = engine.site
        services, profiles, self.wrap_up = build_routing(site)
        self.router = Router(services, profiles)
        self.max_wait = {sv.name: sv.max_wait for sv in site.services}
        self.wait_rules = wait_rules(site)
        self.hold_times: dict[str, HoldTime] = {}
        self.callback_rules = callback_rules(site)
        self._parked: dict[str, Queued] = {}
        hot = site["hotline"]
        self.guard = Guard(float(hot["guard_after"]), float(hot["guard_release"])) if hot["guard_agents"] else None
        self.guard_agents: list[str] = list(hot["guard_agents"] or ())
        self.service = site["hotline"]["service"]
        self.ring_timeout: int = site["hotline"]["ring_timeout"]
        self.region: str = site["hotline"]["region"]  # callers' numbers are read in it: call backs dial E.164
        self.agents = {a.id: a for a in site.agents}
        # who holds each agent, shared with the dialer (the composition root passes the site's board)
        self.board = board or Board.build([a.id for a in site.agents], max_misses=site["hotline"]["max_misses"],
                                          monotonic=engine.clock.monotonic)  # fmt: skip
        self.machines = {a: r.machine for a, r in self.board.records.items()}
        self.queued: dict[str, Queued] = {}
        self.queue_log = QueueLog(queue_log_path, engine.store)
        self._wake = asyncio.Event()
        self._decisions = 0
        self._offering: dict[str, str] = {}  # agent -> call being offered to it
        # the dialer, when the site has campaigns (set by the composition root): an outbound agent idle in its
        # always-on session can take a hotline caller there, lent by the dialer and given back afterwards
        self.dialer: Outbound | None = None
        # always-on agents outside campaigns (acd/sessions.py SessionKeeper), set by the composition root
        self.keeper: SessionProvider | None = None
        self._in_session: dict[str, tuple[str, SessionProvider]] = {}  # agent -> (its session call, provider)
        self._end_keys = EndKeys()
        self._ended_by_agent: set[str] = set()  # session calls the agent ended from its keypad
        self._connected: dict[str, Queued] = {}  # caller uniqueid -> its call, while it talks to an agent
        # a prompt name to the file Asterisk plays (the IVR's built prompts, else an Asterisk sound); the
        # composition root passes the IVR's resolver
        self.prompt_file: Any = lambda prompt: prompt
        engine.frame_hooks.append(self._on_frame)
        self._resynced_at: float | None = None  # the link came back then: calls left in Asterisk are taken back
        self._handing_over: set[str] = set()
        engine.resynced_hooks.append(self._on_resynced)

    # ---- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Named task: log agents in, then decide whenever something changed (or every tick for rule steps)."""
        await self._restore_agents()
        await self._restore_callbacks()
        while True:
            # wake on any change, or after a tick of the engine's clock (rule steps depend on waiting time)
            woken = asyncio.ensure_future(self._wake.wait())
            ticked = asyncio.ensure_future(self.engine.clock.sleep(self.tick))
            await asyncio.wait([woken, ticked], return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            ticked.cancel()
            self._wake.clear()
            await self.engine.link.ready.wait()  # decide only on a resynced picture of Asterisk
            resynced, self._resynced_at = self._resynced_at, None
            if resynced is not None:
                await self._adopt()
            await self._dispatch()
            if resynced is not None:
                await self._synced(resynced)

    def kick(self) -> None:
        self._wake.set()

    async def _restore_agents(self) -> None:
        """Agents come back as the ledger last saw them (logged out, paused and why, available); only agents
        the ledger has never seen follow ``auto_login``. A restart must not undo what a person set."""
        last: dict[str, dict[str, str]] = {}
        for f in await self.engine.store.facts(""):
            if f.kind == "agent.status" and f.data.get("agent") in self.machines:
                last[str(f.data["agent"])] = f.data
        now = self.engine.clock.now()
        for agent_id, agent in self.agents.items():
            seen = last.get(agent_id)
            if seen is None:
                if agent.auto_login:
                    await self.control(agent_id, "login")
                continue
            m = self.machines[agent_id]
            if seen.get("status") in ("available", "paused"):
                m.login(now)
                if seen.get("status") == "paused":
                    m.pause(str(seen.get("reason") or "pause"), now)
            self._sync(agent_id)
            log.info("agent %s restored as %s%s", agent_id, m.status.value, f" ({m.reason})" if m.reason else "")

    def _on_frame(self, frame: Frame) -> None:
        # a phone going back to NOT_INUSE (or a caller leaving) can free a decision at once, not at the tick
        if frame.event in ("DeviceStateChange", "Hangup") and self.queued:
            self.kick()
        elif frame.event == "DTMFEnd" and frame.get("Direction") == "Received":
            channel = frame.get("Channel")
            if self._session_agent(channel) and self._end_keys.press(channel, frame.get("Digit"),
                                                                     self.engine.clock.now()):  # fmt: skip
                self.engine.spawn(self._end_session_call(channel), f"end-keys:{channel}")

    # ---- agent controls (feature codes now, the web agent page later: one entry point) ----------------
    async def control(self, agent_id: str, action: str, reason: str = "") -> str:
        """login, logout, pause (with a reason), resume, wrapup_end. Returns what happened, in words;
        raises InvalidTransition (with the reason) when the action does not fit the agent's state."""
        m = self.machines[agent_id]
        agent = self.agents[agent_id]
        now = self.engine.clock.now()
        if action == "login":
            m.login(now)
            await self.queue_log.write(now, "MANAGER", self.service, f"PJSIP/{agent.endpoint}", "ADDMEMBER", "")
        elif action == "logout":
            m.logout(now)
            await self.queue_log.write(now, "MANAGER", self.service, f"PJSIP/{agent.endpoint}", "REMOVEMEMBER", "")
        elif action == "pause":
            m.pause(reason or "pause", now)
            await self.queue_log.write(now, "NONE", self.service, agent.name, "PAUSE", m.reason)
        elif action == "resume":
            m.resume(now)
            await self.queue_log.write(now, "NONE", self.service, agent.name, "UNPAUSE", "")
        elif action == "wrapup_end":
            m.handle("wrap_up_end", now)
        else:
            raise InvalidTransition(f"unknown agent action {action!r}")
        await self.engine.fact("agent.status", "", "", fact_key("agent.status", agent_id, action, now), agent=agent_id,
                               action=action, status=m.status.value, reason=m.reason, state=m.state.value)  # fmt: skip
        self._sync(agent_id)
        self.kick()
        return f"{agent_id} {m.status.value}" + (f" ({m.reason})" if m.reason else "")

    def _sync(self, agent_id: str) -> None:
        m = self.machines[agent_id]
        self.router.set_available(agent_id, m.since if m.routable else None)

    # ---- callers ----------------------------------------------------------------------------------
    async def enqueue(self, w: Waiting) -> None:
        """The IVR's hand-over. The caller joins once the dialplan has taken it out of the AGI."""
        self._handing_over.add(w.call_id)  # a resync meanwhile leaves it to this hand-over (and its ENTERQUEUE)
        try:
            await self._enqueue(w)
        finally:
            self._handing_over.discard(w.call_id)

    async def _enqueue(self, w: Waiting) -> None:
        eng = self.engine

        def waiting_or_gone() -> bool:
            ch = eng.model.channels.get(w.uniqueid)
            return ch is None or ch.context == WAIT_CONTEXT

        await eng.until(waiting_or_gone, 10)
        ch = eng.model.channels.get(w.uniqueid)
        if ch is None or w.call_id in self.queued:
            return  # gone, or (handed over while AMI was down) already put in line by the resync
        now = eng.clock.now()
        entered = min([f.at for f in await eng.store.facts(w.call_id) if f.kind == "channel.new"] or [now])
        if w.call_id in self.queued:
            return  # the resync's adoption put it in line while the ledger was read
        service = w.service if w.service in self.router.services else self.service
        if w.service and service != w.service:
            log.warning("call %s: the IVR asked for unknown service %r; queued for %r", w.call_id, w.service, service)
        position = 1 + sum(1 for q in self.queued.values() if q.service == service)
        q = Queued(w, service, entered, now, position, CallerPlan(entered, now))
        self.queued[w.call_id] = q
        self.router.enqueue(self._caller(q))
        await self.queue_log.write(now, w.call_id, service, "NONE", "ENTERQUEUE", "", w.caller, position)
        self.kick()

    @staticmethod
    def _caller(q: Queued) -> Caller:
        """The router's view of a waiting caller: its place (entry time), priority and extra skills from the IVR."""
        return Caller(q.waiting.call_id, q.service, q.entered_at, q.waiting.priority, dict(q.waiting.skills),
                      frozenset(q.missed))  # fmt: skip

    async def _forget_gone_callers(self, now: float) -> None:
        for call_id, q in list(self.queued.items()):
            if q.callback is not None or q.waiting.uniqueid in self.engine.model.channels:
                continue  # a call back keeps its place without a channel
            if any(o == call_id for o in self._offering.values()):
                continue  # the offer task finishes it
            del self.queued[call_id]
            self.router.remove(call_id)
            gone = [f.at for f in await self.engine.store.facts(call_id)
                    if f.kind in ("hangup.request", "channel.hangup") and f.uniqueid == q.waiting.uniqueid]  # fmt: skip
            left = min(gone, default=now)
            await self.queue_log.write(left, call_id, q.service, "NONE", "ABANDON", q.position, q.position,
                                       int(left - q.queued_at))  # fmt: skip

    async def _time_out_long_waits(self, now: float) -> None:
        """A caller past the service's maximum wait leaves the queue for the apology (engine-timeout)."""
        offering = set(self._offering.values())
        for call_id, q in list(self.queued.items()):
            limit = self.max_wait.get(q.service, 0.0)
            if not limit or call_id in offering or q.callback is not None or now - q.queued_at < limit:
                continue
            ch = self.engine.model.channels.get(q.waiting.uniqueid)
            del self.queued[call_id]
            self.router.remove(call_id)
            await self.queue_log.write(now, call_id, q.service, "NONE", "EXITWITHTIMEOUT", q.position, q.position,
                                       int(now - q.queued_at))  # fmt: skip
            await self.engine.fact("acd.timeout", call_id, q.waiting.uniqueid, fact_key("acd.timeout", call_id),
                                   service=q.service, waited=round(now - q.queued_at, 3))  # fmt: skip
            if ch is None:
                continue
            try:
                await self.engine.link.action({"Action": "Redirect", "Channel": ch.name, "Context": TIMEOUT_CONTEXT,
                                               "Exten": START, "Priority": FIRST})  # fmt: skip
            except AmiError as exc:
                log.warning("call %s: could not send the caller to %s: %s", call_id, TIMEOUT_CONTEXT, exc)

    # ---- decisions --------------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        eng = self.engine
        now = eng.clock.now()
        await self._forget_gone_callers(now)
        await self._time_out_long_waits(now)
        # a phone busy with anything else (direct, outbound, not ours) is never offered a call
        for agent_id, m in self.machines.items():
            if m.state is State.IDLE:
                busy = eng.model.agent_busy(self.agents[agent_id].endpoint)
                if busy and self._session_provider(agent_id) is not None:
                    busy = False  # its only call is its own always-on session, idle: a caller can join it
                if busy != m.device_busy:
                    m.device(busy, now)
                    self._sync(agent_id)
        self._rejoin_due_callbacks(now)
        if self.queued:
            # callers in fair order, each to the free agent its service's strategy picks; bounded: each
            # decision takes one agent out of the free ones
            for _ in self.machines:
                d = self.router.next_decision(now)
                if d is None:
                    break
                await self._assign(d, now)
            # only after every connect that could be made: what the others hear while they wait
            await self._waiting_actions(now)
        await self._guard_step(now)

    # ---- the hotline guard ------------------------------------------------------------------------------------
    async def _guard_step(self, now: float) -> None:
        if self.guard is None or self.dialer is None:
            return
        # callers nobody is being tried for: after every possible connect was made, so no hotline agent is free
        offering = set(self._offering.values())
        waits = [now - q.queued_at for c, q in self.queued.items()
                 if q.service == self.service and q.callback is None and c not in offering]  # fmt: skip
        seats = self.board.guard_view(self.guard_agents)
        step = self.guard.step(now, max(waits) if waits else None, seats)
        if step is None:
            return
        on = isinstance(step, Reserve)
        if on:
            await self.dialer.reserve(step.agent, step.reason)
        else:
            await self.dialer.release(step.agent, step.reason)
        self.router.grant(step.agent, self.service, on)
        await self.engine.fact("acd.guard", "", "", fact_key("acd.guard", step.agent, f"{now:.3f}"), agent=step.agent,
                               action="reserve" if on else "release", reason=step.reason,
                               service=self.service)  # fmt: skip
        log.info("hotline guard: %s agent %s (%s)", "reserved" if on else "released", step.agent, step.reason)
        self.kick()

    async def _assign(self, d: Decision, now: float) -> None:
        q = self.queued[d.call_id]
        states = {a: mm.describe() for a, mm in self.machines.items()}
        explanation = self.router.explain(self._caller(q), d.agent_id, now, states, d.why)
        try:
            self.board.acd_reserve(d.agent_id, d.call_id, now)
        except (Conflict, InvalidTransition) as exc:  # another side holds it: not ours to offer (a bug)
            log.error("agent board: %s", exc)
            self.router.set_available(d.agent_id, None)
            return
        self.router.assigned(d)
        self._sync(d.agent_id)
        self._decisions += 1
        self._offering[d.agent_id] = d.call_id
        key = fact_key("route.decision", d.call_id, self._decisions)
        decision_fact = Fact("route.decision", now, d.call_id, q.waiting.uniqueid, key,
                             {"agent": d.agent_id, "score": round(d.score, 2), "step": d.step, "service": q.service,
                              "strategy": d.strategy, "why": d.why, "candidates": explanation})  # fmt: skip
        self.engine.spawn(self._offer(d, q, decision_fact), f"offer:{d.call_id}:{d.agent_id}")

    async def _offer(self, d: Decision, q: Queued, decision_fact: Fact) -> None:
        eng = self.engine
        agent = self.agents[d.agent_id]
        m = self.machines[d.agent_id]
        w = q.waiting
        try:
            if q.callback is not None:
                outcome, leg, ring_secs = await self._call_back(d, q, decision_fact)
            else:
                outcome, leg, ring_secs = await self._ring(d, q, decision_fact)
            now = eng.clock.now()
            if outcome == "done":
                return
            if outcome == "answered":
                m.handle("answer", now)
                self.router.answered(d.agent_id)
                self.queued.pop(w.call_id, None)
                self.hold_times.setdefault(q.service, HoldTime()).answered(now - q.queued_at)
                await self.queue_log.write(now, w.call_id, q.service, agent.name, "CONNECT", int(now - q.queued_at),
                                           leg, int(ring_secs))  # fmt: skip
                await self._talk(d, q, leg, now)
                return
            if outcome == "caller_gone":
                self.board.acd_release(d.agent_id, now)
                self.queued.pop(w.call_id, None)
                await self.queue_log.write(now, w.call_id, q.service, "NONE", "ABANDON", q.position, q.position,
                                           int(now - q.queued_at))  # fmt: skip
                return
            # not answered (or the originate failed): the caller keeps its place, the next agent is tried now
            effects = m.handle("no_answer", now)
            await self.queue_log.write(now, w.call_id, q.service, agent.name, "RINGNOANSWER",
                                       int(ring_secs * 1000))  # fmt: skip
            if any(e.kind == "auto_paused" for e in effects):
                log.warning("agent %s paused after %d unanswered offers", d.agent_id, m.misses)
                await eng.fact("agent.paused", "", "", fact_key("agent.paused", d.agent_id, now), agent=d.agent_id,
                               reason=m.reason)  # fmt: skip
                await self.queue_log.write(now, "NONE", self.service, agent.name, "PAUSE", m.reason)
            q.missed.add(d.agent_id)  # the next agent is tried first, whatever the strategy
            self.router.enqueue(self._caller(q))
        except InvalidTransition as exc:
            log.error("agent state: %s", exc)
        finally:
            self._offering.pop(d.agent_id, None)
            self._sync(d.agent_id)
            self.kick()

    async def _ring(self, d: Decision, q: Queued, decision_fact: Fact) -> tuple[str, str, float]:
        """Ring the agent once: (outcome, agent leg uniqueid, seconds it rang)."""
        eng = self.engine
        agent = self.agents[d.agent_id]
        w = q.waiting
        caller = eng.model.channels.get(w.uniqueid)
        leg = f"hl-{uuid.uuid4().hex[:20]}"
        if caller is None:
            return "caller_gone", leg, 0.0
        provider = self._session_provider(agent.id)
        if provider is not None:
            return await self._into_session(d, q, decision_fact, caller.name, provider)
        eng.model.associate(leg, w.call_id, "agent", agent.id)
        self.machines[d.agent_id].handle("ring", eng.clock.now())
        started = eng.clock.now()
        # the phone rings first; facts and the recorder follow while it rings (the bridge waits for the answer)
        # Bridge's F() sends the caller on when the agent hangs up: to the survey, or to engine-done (hang up)
        data = f"{caller.name},{bridge_return(SURVEY_CONTEXT if w.survey else DONE_CONTEXT)}"
        try:
            await eng.link.action({
                "Action": "Originate", "Channel": f"PJSIP/{agent.endpoint}", "Application": "Bridge",
                "Data": data, "Timeout": str(self.ring_timeout * 1000), "CallerID": f'"Hotline" <{w.caller}>',
                "ChannelId": leg, "Async": "true",
            })  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: originate to agent %s failed: %s", w.call_id, agent.id, exc)
            await eng.record([decision_fact])
            return "no_answer", leg, 0.0
        await eng.record([decision_fact, Fact("agent.offer", started, w.call_id, leg, fact_key("agent.offer", leg),
                                              {"agent": agent.id, "leg": leg, "service": q.service})])  # fmt: skip
        await self.recorder.start(w.call_id, caller.name)
        seen = [False]

        def settled() -> bool:
            ch = eng.model.channels.get(leg)
            seen[0] = seen[0] or ch is not None or leg in eng.model.ended
            if w.uniqueid not in eng.model.channels:
                return True
            return (ch is not None and ch.up and bool(ch.bridge)) or (ch is None and seen[0])

        if not await eng.until(settled, self.ring_timeout + 10):
            # Asterisk ends the ringing itself at the ring timeout: past our deadline the engine lags behind its
            # events. Take in what was received and give the leg time to bridge or end before counting it
            # unanswered (a leg hung up now may be a conversation that just began)
            await eng.caught_up(5.0)
            await eng.until(settled, 10.0)
        rang = eng.clock.now() - started
        ch = eng.model.channels.get(leg)
        if ch is not None and ch.up and ch.bridge:
            return "answered", leg, rang
        gone = w.uniqueid not in eng.model.channels
        if ch is not None:  # the caller left, or the phone rings past our deadline: it must not bridge later
            try:
                await eng.link.action({"Action": "Hangup", "Channel": ch.name})
            except AmiError:
                pass  # already gone
        return ("caller_gone" if gone else "no_answer"), leg, rang

    async def _agent_done(self, agent_id: str, service: str, conversation: bool, call_id: str = "") -> None:
        """The agent's call ended: wrap-up per the service after a conversation, none after a failed call back."""
        eng = self.engine
        m = self.machines[agent_id]
        wrap = self.wrap_up.get(service, 10.0) if conversation else 0.0
        effects = m.hang_up(began := eng.clock.now(), wrap)
        self._sync(agent_id)
        self.kick()
        await wrap_up.finish(eng, m, wrap, effects, call_id, began)

    async def _talk(self, d: Decision, q: Queued, leg: str, connected: float) -> None:
        eng = self.engine
        m = self.machines[d.agent_id]
        held = self._in_session.get(d.agent_id)
        in_session = held is not None and held[0] == q.waiting.call_id
        self._connected[q.waiting.uniqueid] = q

        def over() -> bool:
            if in_session:  # the session stays up after the call: the caller leaving the bridge ends it
                c = eng.model.channels.get(q.waiting.uniqueid)
                return c is None or not c.bridge
            return leg not in eng.model.channels or q.waiting.uniqueid not in eng.model.channels

        await eng.until(over, 24 * 3600)
        ended = eng.clock.now()
        if not in_session:
            await eng.until(lambda: leg not in eng.model.channels, 10)
        wrap = self.wrap_up.get(q.service, 10.0)
        effects = m.hang_up(began := eng.clock.now(), wrap)
        self._sync(d.agent_id)
        self.kick()  # the agent may take the next caller now; the bookkeeping below does not delay that
        # who hung up: the first hang-up request of the two (Hangup events of both legs arrive in either order)
        ends = sorted(
            (f.at, f.kind != "hangup.request", f.uniqueid)
            for f in await eng.store.facts(q.waiting.call_id)
            if f.kind in ("hangup.request", "channel.hangup") and f.uniqueid in (q.waiting.uniqueid, leg)
        )
        caller_left = (not ends or ends[0][2] == q.waiting.uniqueid) and q.waiting.call_id not in self._ended_by_agent
        self._ended_by_agent.discard(q.waiting.call_id)
        self._connected.pop(q.waiting.uniqueid, None)
        await self.queue_log.write(ended, q.waiting.call_id, q.service, self.agents[d.agent_id].name,
                                   "COMPLETECALLER" if caller_left else "COMPLETEAGENT",
                                   int(connected - q.queued_at), int(ended - connected), q.position)  # fmt: skip
        await wrap_up.finish(eng, m, wrap, effects, q.waiting.call_id, began)
        if held is not None and in_session:
            self._in_session.pop(d.agent_id, None)
            await held[1].give_back(d.agent_id, q.waiting.call_id)  # back to pacing after the wrap-up
