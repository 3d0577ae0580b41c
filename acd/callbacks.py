"""Call backs, the ACD's part that needs no caller on the line: a caller who chose one (at the wait's offer or
in the menu) keeps its place in the router; when its turn comes the chosen agent is rung first, then the
customer is dialed from the agent's leg (``CallBack``, a connector that sees the whole call through). An
attempt nobody answers is tried again ``callback_retry`` seconds later, in place, at most ``callback_attempts``
times (the service's settings). Call backs still owed come back from the ledger after a restart (``CallBacks``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from acd.agents import Agents
from acd.connectors import Connected, Outcome, Recording, originate_word
from acd.line import Line
from acd.notifier import Notifier
from acd.queued import Queued
from acd.router import Decision
from acd.waiting import CallbackPlan
from dialer.phone import callback_number
from engine.asterisk.ami_link import AmiError
from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.clock import Clock
from engine.config import ServiceConfig
from engine.dialplan import CALLBACK_CONTEXT, FIRST, START, WAIT_CONTEXT
from engine.model.facts import Fact
from engine.ports import Actions, Calls, Ledger
from engine.privacy import mask_number
from ivr.session import Waiting

log = logging.getLogger("hotline.acd")

CALLBACK_CONFIRMED = "queue-thankyou"  # the Asterisk sound played after the caller chose a call back
CALLBACK_RING = 30  # seconds the customer's phone rings on a call back
DEFAULT_RULES = (3, 120.0)  # (callback_attempts, callback_retry): the site file's defaults, with no [[services]]


def callback_rules(services: Sequence[ServiceConfig]) -> dict[str, tuple[int, float]]:
    """Per service: (attempts at most, seconds between a failed attempt and the next)."""
    return {sv.name: (int(sv.callback_attempts), float(sv.callback_retry)) for sv in services}


class CallBacks:
    """The call backs owed: chosen while waiting or in the menu, parked between attempts, restored after a
    restart."""

    def __init__(self, line: Line, notifier: Notifier, ledger: Ledger, clock: Clock, region: str,
                 rules: dict[str, tuple[int, float]]) -> None:  # fmt: skip
        self.line = line
        self.notifier = notifier
        self.ledger = ledger
        self.clock = clock
        self.region = region  # callers' numbers are read in it: call backs dial E.164
        self.rules = rules
        self.parked: dict[str, Queued] = {}  # call backs waiting for their next attempt (out of the router)
        # a prompt name to the file Asterisk plays (the IVR's built prompts, else an Asterisk sound)
        self.prompt_file: Callable[[str], str] = lambda prompt: prompt

    def rejoin_due(self, now: float) -> None:
        """Call backs whose next attempt is due rejoin the router, in their places."""
        for call_id, q in list(self.parked.items()):
            if q.callback is not None and now >= q.callback.not_before:
                del self.parked[call_id]
                self.line.join(q)

    def answered(self, q: Queued, agent_id: str) -> None:
        """The customer answered: the call back leaves the line, the agent is the router's answered one."""
        self.line.queued.pop(q.waiting.call_id, None)
        self.line.router.answered(agent_id)

    def failed(self, q: Queued, outcome: str) -> bool:
        """An attempt failed: parked for the next one (True), or given up."""
        cb = q.callback
        assert cb is not None
        max_attempts, retry_after = self.rules.get(q.service, DEFAULT_RULES)  # the order it is stored in
        again = cb.failed(outcome, self.clock.now(), retry_after, max_attempts)
        self.line.queued.pop(q.waiting.call_id, None)
        if again:
            self.parked[q.waiting.call_id] = q  # back in its place after the pause
        return again

    async def restore(self) -> None:
        """Call backs promised before a restart are still owed, in their places: the ledger says which."""
        facts = await self.ledger.facts(None, ("acd.callback", "acd.callback_done", "acd.callback_attempt"))
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
            service = self.line.service_for(str(d.get("service", self.line.default_service)))
            w = Waiting(call_id, f.uniqueid, "", str(d.get("number", "")), "", service, int(d.get("priority", 0)),
                        dict(d.get("skills", {})))  # fmt: skip
            plan = CallbackPlan(str(d.get("number", "")), attempts.get(call_id, 0))
            q = Queued(w, service, float(d.get("entered_at", f.at)), float(d.get("queued_at", f.at)),
                       int(d.get("position", 1)), None, plan)  # fmt: skip
            self.line.join(q)
            log.info("call %s: call back to %s restored in its place", call_id, mask_number(w.caller))

    async def chosen(self, agi: AgiChannel) -> None:
        """FastAGI route ``queue-callback``: the caller pressed 1 at the offer. It leaves the line but keeps its
        place: the call back is placed when its turn comes, to the number it called from."""
        got = await agi.command("GET VARIABLE", "HOTLINE_CALL")
        call_id = got.data if got.ok and got.result == "1" else ""
        q = self.line.queued.get(call_id)
        number = callback_number(q.waiting.caller, self.region) if q is not None else None
        if q is None or q.callback is not None or call_id in self.line.being_offered() or number is None:
            await agi.goto(WAIT_CONTEXT, START, FIRST)  # an agent is already ringing for it, or nothing to call
            return
        now = self.clock.now()
        q.callback = CallbackPlan(number)
        await self.notifier.callback_chosen(now, q, agi.uniqueid, number)
        log.info("call %s: call back to %s keeps its place in %s", call_id, mask_number(number), q.service)
        try:
            await agi.stream(self.prompt_file(CALLBACK_CONFIRMED))
            await agi.command("HANGUP")
        except AgiHangup:
            pass  # the caller did not wait for the thanks: the call back stands

    async def from_menu(self, call_id: str, uniqueid: str, number: str, service: str) -> None:
        """The menu's call-back node: the caller leaves a number and hangs up; the call back waits in line from
        the moment the caller entered the system, like a caller who chose it while waiting."""
        number = callback_number(number, self.region) or ""  # E.164, or "" when it cannot be called back
        if call_id in self.line.queued or not number:
            return
        service = self.line.service_for(service)
        now = self.clock.now()
        entered = min([f.at for f in await self.ledger.facts(call_id) if f.kind == "channel.new"] or [now])
        position = self.line.next_position(service)
        w = Waiting(call_id, uniqueid, "", number, "", service)
        q = Queued(w, service, entered, now, position, None, CallbackPlan(number))
        await self.notifier.callback_from_menu(now, q, number)
        self.line.join(q)
        self.line.kick()


class CallBack:
    """The call back's turn came: ring the agent first (a reserved agent, so nobody is abandoned), then the
    customer from the agent's leg (engine-callback). NO_ANSWER when the agent did not answer; else the whole
    call is handled here, and DONE."""

    def __init__(self, actions: Actions, calls: Calls, ledger: Ledger, clock: Clock, agents: Agents,
                 callbacks: CallBacks, notifier: Notifier, recorder: Recording, ring_timeout: int,
                 number: str) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.ledger = ledger
        self.clock = clock
        self.agents = agents
        self.callbacks = callbacks
        self.notifier = notifier
        self.recorder = recorder
        self.ring_timeout = ring_timeout
        self.number = number  # the hotline's: what the agent's phone shows

    async def connect(self, d: Decision, q: Queued, decision: Fact) -> Connected:
        calls, model, clock = self.calls, self.calls.model, self.clock
        agent = self.agents.configs[d.agent_id]
        m = self.agents.machines[d.agent_id]
        w = q.waiting
        cb = q.callback
        assert cb is not None
        attempt = cb.attempts + 1
        cb_call = f"{w.call_id}-cb{attempt}"  # the conversation's own call id (its recording, its call.end)
        leg = f"cb-{uuid.uuid4().hex[:20]}"
        model.associate(leg, cb_call, "agent", agent.id)
        started = clock.now()
        m.handle("ring", started)
        try:
            await self.actions.action({
                "Action": "Originate", "Channel": f"PJSIP/{agent.endpoint}", "Context": CALLBACK_CONTEXT,
                "Exten": cb.number, "Priority": FIRST, "Timeout": str(self.ring_timeout * 1000), "ChannelId": leg,
                "CallerID": f'"Call back" <{self.number}>', "Async": "true",
                "Variable": f"HOTLINE_CALL={w.call_id}",
            })  # fmt: skip
        except AmiError as exc:
            log.warning("call back %s: originate to agent %s failed: %s", w.call_id, agent.id, exc)
            await self.notifier.offer_failed(decision)
            return Connected(Outcome.NO_ANSWER, leg)
        await self.notifier.callback_offer(decision, started, q, agent.id, leg, attempt)
        seen = [False]

        def agent_settled() -> bool:
            ch = model.channels.get(leg)
            seen[0] = seen[0] or ch is not None or leg in model.ended
            return (ch is not None and ch.up) or (ch is None and seen[0]) or leg in model.originated

        if not await calls.until(agent_settled, self.ring_timeout + 10):
            await originate_word(calls, leg)  # past the deadline the engine, or Asterisk, lags: their word first
        rang = clock.now() - started
        ch = model.channels.get(leg)
        # the agent answered if Asterisk said so, even of a leg already over (a lagging engine sees a whole call
        # back at once): read as a phone nobody took, the customer would be called again
        if (ch is None or not ch.up) and not model.originated.get(leg):
            if ch is not None:
                try:
                    await self.actions.action({"Action": "Hangup", "Channel": ch.name})
                except AmiError:
                    pass  # already gone
            return Connected(Outcome.NO_ANSWER, leg, rang)
        m.handle("answer", clock.now())

        def customer() -> Any:
            return next((c for c in model.channels.values() if c.linkedid == leg and c.uniqueid != leg), None)

        def talking_or_over() -> bool:
            c = customer()
            return leg not in model.channels or (c is not None and c.up and bool(c.bridge))

        await calls.until(talking_or_over, CALLBACK_RING + 10)
        c = customer()
        now = clock.now()
        if c is not None and c.up and c.bridge and leg in model.channels:
            await self._talk(d, q, leg, model.channels[leg].name, c.uniqueid, now, rang, attempt, cb_call)
            return Connected(Outcome.DONE, leg, rang)
        # the customer did not answer (or the agent hung up first): the agent is free again at once
        facts = await self.ledger.facts(leg)  # the customer's leg: Dial's channel, linked to the agent's
        dial_ends = [f for f in facts if f.kind == "dial.end"]
        outcome = str(dial_ends[-1].data.get("status", "")).lower() if dial_ends else "agent_left"
        if outcome == "answer" and leg not in model.channels:
            # answered, talked and over before the engine looked (it lagged): a conversation, seen afterwards
            log.warning("call back %s: the conversation was over when the engine saw it; it has no recording",
                        w.call_id)  # fmt: skip
            talked, ended = dial_ends[-1].at, max(f.at for f in facts)
            self.callbacks.answered(q, d.agent_id)
            await self.notifier.callback_connected(talked, q, d.agent_id, leg, rang, attempt, cb_call)
            await self.notifier.callback_completed(ended, q, d.agent_id, leg, talked, attempt, False)
            await self.agents.done(d.agent_id, q.service, conversation=True, call_id=w.call_id)
            return Connected(Outcome.DONE, leg, rang)
        if leg in model.channels:
            try:
                await self.actions.action({"Action": "Hangup", "Channel": model.channels[leg].name})
            except AmiError:
                pass
            await calls.until(lambda: leg not in model.channels, 10)
        if self.callbacks.failed(q, outcome or "noanswer"):
            await self.notifier.callback_retry(q, leg, attempt, cb.outcomes[-1], cb.not_before)
        else:
            await self.notifier.callback_failed(q, agent.id, leg, attempt, cb.outcomes)
        await self.agents.done(d.agent_id, q.service, conversation=False)
        return Connected(Outcome.DONE, leg, rang)

    async def _talk(self, d: Decision, q: Queued, leg: str, leg_name: str, customer_uid: str, connected: float,
                    rang: float, attempt: int, cb_call: str) -> None:  # fmt: skip
        """The customer answered: the conversation, until one side hangs up, then the agent's wrap-up."""
        model = self.calls.model
        w = q.waiting
        self.callbacks.answered(q, d.agent_id)
        await self.notifier.callback_connected(connected, q, d.agent_id, leg, rang, attempt, cb_call)
        await self.recorder.start(cb_call, leg_name)
        first_gone: list[str] = []

        def one_left() -> bool:
            # checked after every event: the first leg to ask for the hang-up (or to go) is the side that
            # ended the call; when the agent hangs up, Dial drops the customer before the agent's leg goes
            if not first_gone:
                for u in (customer_uid, leg):
                    ch = model.channels.get(u)
                    if ch is None or ch.hangup_requested:
                        first_gone.append(u)
                        break
            return bool(first_gone)

        await self.calls.until(one_left, 24 * 3600)
        ended = self.clock.now()
        caller_left = first_gone[:1] == [customer_uid]
        await self.calls.until(lambda: leg not in model.channels, 10)
        await self.notifier.callback_completed(ended, q, d.agent_id, leg, connected, attempt, caller_left)
        await self.agents.done(d.agent_id, q.service, conversation=True, call_id=w.call_id)
