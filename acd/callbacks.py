"""Call backs, the dispatcher's part that needs no caller on the line: a caller who chose one (at the wait's
offer or in the menu) keeps its place in the router; when its turn comes the chosen agent is rung first,
then the customer is dialed from the agent's leg. An attempt nobody answers is tried again
``callback_retry`` seconds later, in place, at most ``callback_attempts`` times (the service's settings).
Call backs still owed come back from the ledger after a restart.

A mixin of :class:`acd.dispatcher.Dispatcher`: the attributes below are the dispatcher's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from acd.agent_state import AgentMachine
from acd.queue_log import QueueLog
from acd.queued import Queued
from acd.router import Caller, Decision, Router
from acd.waiting import CallbackPlan
from dialer.phone import callback_number
from engine.app import Engine
from engine.asterisk.ami_link import AmiError
from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.config import Agent
from engine.dialplan import CALLBACK_CONTEXT, FIRST, START, WAIT_CONTEXT
from engine.model.facts import Fact, fact_key
from engine.privacy import mask_number
from ivr.session import Waiting
from recording.finalize import Recorder

log = logging.getLogger("hotline.acd")

CALLBACK_KEY = "1"
CALLBACK_CONFIRMED = "queue-thankyou"  # the Asterisk sound played after the caller chose a call back
CALLBACK_RING = 30  # seconds the customer's phone rings on a call back
DEFAULT_RULES = (3, 120.0)  # (callback_attempts, callback_retry): the site file's defaults, with no [[services]]


def callback_rules(site: Any) -> dict[str, tuple[int, float]]:
    """Per service: (attempts at most, seconds between a failed attempt and the next)."""
    return {sv.name: (int(sv.callback_attempts), float(sv.callback_retry)) for sv in site.services}


class CallBacks:
    engine: Engine
    recorder: Recorder
    router: Router
    queue_log: QueueLog
    service: str
    ring_timeout: int
    agents: dict[str, Agent]
    machines: dict[str, AgentMachine]
    queued: dict[str, Queued]
    callback_rules: dict[str, tuple[int, float]]
    _parked: dict[str, Queued]  # call backs waiting for their next attempt (out of the router)
    _offering: dict[str, str]
    prompt_file: Callable[[str], str]
    region: str
    kick: Callable[[], None]
    _caller: Callable[[Queued], Caller]

    async def _agent_done(self, agent_id: str, service: str, conversation: bool, call_id: str = "") -> None:
        raise NotImplementedError

    def _rejoin_due_callbacks(self, now: float) -> None:
        """Call backs whose next attempt is due rejoin the router, in their places."""
        for call_id, q in list(self._parked.items()):
            if q.callback is not None and now >= q.callback.not_before:
                del self._parked[call_id]
                self.queued[call_id] = q
                self.router.enqueue(self._caller(q))

    async def _restore_callbacks(self) -> None:
        """Call backs promised before a restart are still owed, in their places: the ledger says which."""
        facts = await self.engine.store.facts(None, ("acd.callback", "acd.callback_done", "acd.callback_attempt"))
        open_: dict[str, Fact] = {}
        attempts: dict[str, int] = {}
        for f in facts:
            if f.kind == "acd.callback":
                open_[f.call_id] = f
            elif f.kind == "acd.callback_done":
                open_.pop(f.call_id, None)
            else:
                attempts[f.call_id] = attempts.get(f.call_id, 0) + 1
        for call_id, f in open_.items():
            d = f.data
            service = str(d.get("service", self.service))
            if service not in self.router.services:
                service = self.service
            w = Waiting(call_id, f.uniqueid, "", str(d.get("number", "")), "", service, int(d.get("priority", 0)),
                        dict(d.get("skills", {})))  # fmt: skip
            plan = CallbackPlan(str(d.get("number", "")), attempts.get(call_id, 0))
            q = Queued(w, service, float(d.get("entered_at", f.at)), float(d.get("queued_at", f.at)),
                        int(d.get("position", 1)), None, plan)  # fmt: skip
            self.queued[call_id] = q
            self.router.enqueue(self._caller(q))
            log.info("call %s: call back to %s restored in its place", call_id, mask_number(w.caller))

    async def queue_callback(self, agi: AgiChannel) -> None:
        """FastAGI route ``queue-callback``: the caller pressed 1 at the offer. It leaves the line but keeps its
        place: the call back is placed when its turn comes, to the number it called from."""
        eng = self.engine
        got = await agi.command("GET VARIABLE", "HOTLINE_CALL")
        call_id = got.data if got.ok and got.result == "1" else ""
        q = self.queued.get(call_id)
        number = callback_number(q.waiting.caller, self.region) if q is not None else None
        if q is None or q.callback is not None or call_id in self._offering.values() or number is None:
            await agi.goto(WAIT_CONTEXT, START, FIRST)  # an agent is already ringing for it, or nothing to call
            return
        now = eng.clock.now()
        q.callback = CallbackPlan(number)
        w = q.waiting
        await self.queue_log.write(now, call_id, q.service, "NONE", "EXITWITHKEY", CALLBACK_KEY, q.position, q.position,
                                   int(now - q.queued_at))  # fmt: skip
        await eng.fact("acd.callback", call_id, agi.uniqueid, fact_key("acd.callback", call_id), number=number,
                       service=q.service, entered_at=q.entered_at, queued_at=q.queued_at, position=q.position,
                       waited=round(now - q.queued_at, 3), priority=w.priority, skills=dict(w.skills))  # fmt: skip
        log.info("call %s: call back to %s keeps its place in %s", call_id, mask_number(number), q.service)
        try:
            await agi.stream(self.prompt_file(CALLBACK_CONFIRMED))
            await agi.command("HANGUP")
        except AgiHangup:
            pass  # the caller did not wait for the thanks: the call back stands

    async def menu_callback(self, call_id: str, uniqueid: str, number: str, service: str) -> None:
        """The menu's call-back node: the caller leaves a number and hangs up; the call back waits in line from
        the moment the caller entered the system, like a caller who chose it while waiting."""
        eng = self.engine
        number = callback_number(number, self.region) or ""  # E.164, or "" when it cannot be called back
        if call_id in self.queued or not number:
            return
        service = service if service in self.router.services else self.service
        now = eng.clock.now()
        entered = min([f.at for f in await eng.store.facts(call_id) if f.kind == "channel.new"] or [now])
        position = 1 + sum(1 for q in self.queued.values() if q.service == service)
        w = Waiting(call_id, uniqueid, "", number, "", service)
        q = Queued(w, service, entered, now, position, None, CallbackPlan(number))
        await self.queue_log.write(now, call_id, service, "NONE", "ENTERQUEUE", "", number, position)
        await eng.fact("acd.callback", call_id, uniqueid, fact_key("acd.callback", call_id), number=number,
                       service=service, entered_at=entered, queued_at=now, position=position, waited=0.0, priority=0,
                       skills={}, source="menu")  # fmt: skip
        self.queued[call_id] = q
        self.router.enqueue(self._caller(q))
        self.kick()

    async def _call_back(self, d: Decision, q: Queued, decision_fact: Fact) -> tuple[str, str, float]:
        """The call back's turn came: ring the agent first (a reserved agent, so nobody is abandoned), then the
        customer from the agent's leg (engine-callback). ("no_answer", ...) when the agent did not answer; else
        the whole call is handled here and ("done", ...) is returned."""
        eng = self.engine
        agent = self.agents[d.agent_id]
        m = self.machines[d.agent_id]
        w = q.waiting
        cb = q.callback
        assert cb is not None
        attempt = cb.attempts + 1
        cb_call = f"{w.call_id}-cb{attempt}"  # the conversation's own call id (its recording, its call.end)
        leg = f"cb-{uuid.uuid4().hex[:20]}"
        eng.model.associate(leg, cb_call, "agent", agent.id)
        started = eng.clock.now()
        m.handle("ring", started)
        try:
            await eng.link.action({
                "Action": "Originate", "Channel": f"PJSIP/{agent.endpoint}", "Context": CALLBACK_CONTEXT,
                "Exten": cb.number, "Priority": FIRST, "Timeout": str(self.ring_timeout * 1000), "ChannelId": leg,
                "CallerID": f'"Call back" <{eng.site["hotline"]["number"]}>', "Async": "true",
                "Variable": f"HOTLINE_CALL={w.call_id}",
            })  # fmt: skip
        except AmiError as exc:
            log.warning("call back %s: originate to agent %s failed: %s", w.call_id, agent.id, exc)
            await eng.record([decision_fact])
            return "no_answer", leg, 0.0
        offer = Fact("acd.callback_offer", started, w.call_id, leg, fact_key("acd.callback_offer", leg),
                     {"agent": agent.id, "leg": leg, "attempt": attempt, "service": q.service})
        await eng.record([decision_fact, offer])
        seen = [False]

        def agent_settled() -> bool:
            ch = eng.model.channels.get(leg)
            seen[0] = seen[0] or ch is not None or leg in eng.model.ended
            return (ch is not None and ch.up) or (ch is None and seen[0])

        await eng.until(agent_settled, self.ring_timeout + 10)
        rang = eng.clock.now() - started
        ch = eng.model.channels.get(leg)
        if ch is None or not ch.up:
            if ch is not None:
                try:
                    await eng.link.action({"Action": "Hangup", "Channel": ch.name})
                except AmiError:
                    pass  # already gone
            return "no_answer", leg, rang
        m.handle("answer", eng.clock.now())
        leg_name = ch.name

        def customer() -> Any:
            return next((c for c in eng.model.channels.values() if c.linkedid == leg and c.uniqueid != leg), None)

        def talking_or_over() -> bool:
            c = customer()
            return leg not in eng.model.channels or (c is not None and c.up and bool(c.bridge))

        await eng.until(talking_or_over, CALLBACK_RING + 10)
        c = customer()
        now = eng.clock.now()
        if c is not None and c.up and c.bridge and leg in eng.model.channels:
            self.queued.pop(w.call_id, None)
            self.router.answered(agent.id)
            await eng.fact("acd.callback_connected", w.call_id, leg, fact_key("acd.callback_connected", w.call_id),
                           agent=agent.id, attempt=attempt, waited=round(now - q.queued_at, 3),
                           call=cb_call)  # fmt: skip
            await self.queue_log.write(now, w.call_id, q.service, agent.name, "CONNECT", int(now - q.queued_at), leg,
                                       int(rang))  # fmt: skip
            await self.recorder.start(cb_call, leg_name)
            customer_uid = c.uniqueid
            first_gone: list[str] = []

            def one_left() -> bool:
                # checked after every event: the first leg to ask for the hang-up (or to go) is the side that
                # ended the call; when the agent hangs up, Dial drops the customer before the agent's leg goes
                if not first_gone:
                    for u in (customer_uid, leg):
                        ch = eng.model.channels.get(u)
                        if ch is None or ch.hangup_requested:
                            first_gone.append(u)
                            break
                return bool(first_gone)

            await eng.until(one_left, 24 * 3600)
            ended = eng.clock.now()
            caller_left = first_gone[:1] == [customer_uid]
            await eng.until(lambda: leg not in eng.model.channels, 10)
            await eng.fact("acd.callback_done", w.call_id, leg, fact_key("acd.callback_done", w.call_id),
                           outcome="connected", agent=agent.id, attempt=attempt,
                           talk=round(ended - now, 3))  # fmt: skip
            await self.queue_log.write(ended, w.call_id, q.service, agent.name,
                                       "COMPLETECALLER" if caller_left else "COMPLETEAGENT", int(now - q.queued_at),
                                       int(ended - now), q.position)  # fmt: skip
            await self._agent_done(d.agent_id, q.service, conversation=True, call_id=w.call_id)
            return "done", leg, rang
        # the customer did not answer (or the agent hung up first): the agent is free again at once
        dial_ends = [f for f in await eng.store.facts(leg) if f.kind == "dial.end"]
        outcome = str(dial_ends[-1].data.get("status", "")).lower() if dial_ends else "agent_left"
        if leg in eng.model.channels:
            try:
                await eng.link.action({"Action": "Hangup", "Channel": leg_name})
            except AmiError:
                pass
            await eng.until(lambda: leg not in eng.model.channels, 10)
        max_attempts, retry_after = self.callback_rules.get(q.service, DEFAULT_RULES)  # the order it is stored in
        again = cb.failed(outcome or "noanswer", eng.clock.now(), retry_after, max_attempts)
        self.queued.pop(w.call_id, None)
        if again:
            self._parked[w.call_id] = q  # back in its place after the pause
            await eng.fact("acd.callback_attempt", w.call_id, leg, fact_key("acd.callback_attempt", w.call_id, attempt),
                           outcome=cb.outcomes[-1], attempt=attempt, next_at=round(cb.not_before, 3))  # fmt: skip
        else:
            await eng.fact("acd.callback_done", w.call_id, leg, fact_key("acd.callback_done", w.call_id),
                           outcome="failed", agent=agent.id, attempt=attempt, outcomes=list(cb.outcomes))  # fmt: skip
        await self._agent_done(d.agent_id, q.service, conversation=False)
        return "done", leg, rang
