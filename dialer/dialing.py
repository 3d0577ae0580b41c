"""One dial's path, the runner's part from Originate to verdict to bridge or abandon.

Flow per dial (docs/asterisk.md#flow-originate, #dialplan): Originate ``PJSIP/<number>@<trunk>`` asynchronously
with our own ChannelId into ``engine-originate,amd`` (or ``live`` with AMD off), ringing the campaign's
ring timeout (≥ 15 s). A failure is classified (``dialer.outcomes``) from DialEnd's DialStatus and the Hangup
cause of that ChannelId. On answer the dialplan runs AMD() and hands the verdict to the ``outbound`` AGI: a
machine is hung up (or gets the message); a person is bridged into a waiting agent's always-on session with
``Bridge(<session>,F(engine-agent^s^1))`` so the agent goes back to its session afterwards, or, with no agent
free inside the compliance window (``dialer.compliance``: the campaign's profile says from when), hears the
abandon message and is counted.

Every step is a fact in the ledger (the compliance ledger): ``outbound.placed``, ``outbound.result``,
``outbound.verdict`` (answer time, greeting end, AMD verdict), ``outbound.connect`` (agent, time) or
``outbound.abandon`` (message time), ``outbound.talk_end``.

A mixin of :class:`dialer.runner.CampaignRunner`: the attributes below are the runner's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

from acd.board import Board, Conflict
from dialer.compliance import AFTER_GREETING, Rule
from dialer.lead_source import LeadRef, Leads
from dialer.outcomes import PACER_OUTCOME, RETRY_RULE, classify
from dialer.pacing import Abandoned, Connected, DialResolved, Pacer, TalkEnded
from dialer.state import Dial, Seat
from engine.app import Engine
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.config import Campaign
from engine.dialplan import AGENT_CONTEXT, AMD_EXTEN, FIRST, LIVE_EXTEN, OUTBOUND_CONTEXT, bridge_return
from engine.model.facts import fact_key
from engine.privacy import mask_number

log = logging.getLogger("hotline.dialer")


class Recording(Protocol):
    """What the dialer needs of the recorder (``recording.finalize.Recorder``): MixMonitor on a channel, the
    recording keyed by the call id and finished by the recorder's end-of-call hook."""

    async def start(self, call_id: str, channel: str) -> None: ...


class DialPath:
    engine: Engine
    c: Campaign
    leads: Leads
    pacer: Pacer
    rule: Rule
    recorder: Recording | None
    seats: dict[str, Seat]
    board: Board
    dials: dict[str, Dial]
    counts: dict[str, int]
    waiting: int
    _ids: Iterator[int]
    _freed: asyncio.Event
    _t: Callable[[], float]
    window_left: Callable[..., float]
    next_opening: Callable[..., float]
    _take_seat: Callable[..., Seat | None]
    _wrap: Callable[[Seat], Awaitable[None]]
    wake: Callable[[], None]

    def _new_id(self, now: float) -> str:
        return f"dl-{self.c.name}-{next(self._ids)}-{int(now)}"[:149]

    async def _dial(self, lead: LeadRef, agent: str = "", did: str = "") -> None:
        """Originate one dial; ``agent`` (preview mode) is the agent reserved for its answer, ``did`` the id
        its preview already carries."""
        eng = self.engine
        now = eng.clock.now()
        if lead.tz and self.window_left(now, lead.tz) <= 0:
            # the lead's own clock says it is too early or too late: back to the list, no attempt counted
            await self.leads.finish(lead, "outside_window", now, self.next_opening(now, lead.tz), attempted=False)
            return
        # a preview dial needs no AMD: its agent is waiting for it and hears who answers
        amd = self.c.amd and self.pacer.controls.amd and not agent
        did = did or self._new_id(now)
        d = Dial(did, lead, eng.clock.monotonic(), amd, agent=agent)
        self.dials[did] = d
        eng.model.associate(did, did, "lead")
        await eng.fact("outbound.placed", did, did, fact_key("outbound.placed", did), campaign=self.c.name,
                       lead=lead.id, attempt=lead.attempts + 1, amd=amd, rule=self.rule.name,
                       **({"agent": agent} if agent else {}))  # fmt: skip
        action: dict[str, Any] = {
            "Action": "Originate", "Channel": f"PJSIP/{lead.phone}@{self.c.trunk}", "Context": OUTBOUND_CONTEXT,
            "Exten": AMD_EXTEN if amd else LIVE_EXTEN, "Priority": FIRST, "Timeout": str(self.c.ring_timeout * 1000),
            "ChannelId": did, "Async": "true", "CallerID": self.c.caller_id or "",
        }  # fmt: skip
        if amd and self.c.amd_params:
            action["Variable"] = [f"HOTLINE_AMD={self.c.amd_params}"]  # AMD()'s arguments in the dialplan
        try:
            await eng.link.action(action)
        except AmiError as exc:
            log.warning("campaign %s: originate to %s failed: %s", self.c.name, mask_number(lead.phone), exc)
            await self._resolve(d, "failed", cause=None)

    # ---- what Asterisk says --------------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        ev = frame.event
        if ev == "DialEnd":
            d = self.dials.get(frame.get("DestUniqueid"))
            if d is not None:
                d.dial_status = frame.get("DialStatus")
        elif ev == "OriginateResponse":
            d = self.dials.get(frame.get("Uniqueid"))
            if d is not None:
                try:
                    d.reason = int(frame.get("Reason") or 0)
                except ValueError:
                    d.reason = 0
                if frame.get("Response").lower() == "failure":
                    self.engine.spawn(self._failed_without_channel(d), f"dial-check:{d.id}")
        elif ev == "Newstate":
            d = self.dials.get(frame.get("Uniqueid"))
            if d is not None and frame.get("ChannelState") == "6" and d.answered_at is None:
                d.answered_at = self.engine.clock.monotonic()
        elif ev == "Hangup":
            d = self.dials.get(frame.get("Uniqueid"))
            if d is None:
                return
            try:
                cause: int | None = int(frame.get("Cause") or 0)
            except ValueError:
                cause = None
            if d.in_agi or d.resolved:
                self.dials.pop(d.id, None)  # the line is free; the AGI session finishes the bookkeeping
                return
            outcome = classify(d.dial_status, cause, d.reason)
            if d.answered_at is not None or outcome == "answered":
                outcome = "hangup_before_verdict"  # answered, gone before AMD's verdict reached the engine
            self.engine.spawn(self._resolve(d, outcome, cause), f"dial-resolve:{d.id}")

    async def _failed_without_channel(self, d: Dial) -> None:
        """An Originate that failed before any channel existed (no Hangup will come): free its line."""
        await self.engine.clock.sleep(2.0)
        if not d.resolved and d.id not in self.engine.model.channels and d.answered_at is None:
            await self._resolve(d, classify(d.dial_status, None, d.reason), None)

    async def _resolve(self, d: Dial, outcome: str, cause: int | None) -> None:
        if d.resolved:
            return
        d.resolved = True
        self.dials.pop(d.id, None)
        eng = self.engine
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self.pacer.on(DialResolved(PACER_OUTCOME.get(outcome, "fail"), eng.clock.monotonic() - d.placed), self._t())
        await eng.fact("outbound.result", d.id, d.id, fact_key("outbound.result", d.id), campaign=self.c.name,
                       lead=d.lead.id, outcome=outcome, cause=cause, dial_status=d.dial_status, reason=d.reason,
                       seconds=round(eng.clock.monotonic() - d.placed, 3))  # fmt: skip
        await self._finish_lead(d, outcome if outcome != "hangup_before_verdict" else "no_answer")
        self._preview_over(d)

    def _preview_over(self, d: Dial) -> None:
        """A preview dial that reached nobody gives its agent back, ready for the next lead."""
        if d.agent in self.seats and self.board.preview_over(d.agent):
            self.wake()

    def _preview_seat(self, d: Dial) -> Seat | None:
        """The agent reserved for a preview dial, now taking its answer; None if its session is gone (one
        that came back meanwhile is idle, not reserved, and still takes it)."""
        seat = self.seats.get(d.agent)
        if seat is None:
            return None
        try:
            return seat if self.board.preview_answered(d.agent, d.id) else None
        except Conflict as exc:
            log.warning("campaign %s: preview answer %s finds its agent taken: %s", self.c.name, d.id, exc)
            return None

    async def _finish_lead(self, d: Dial, outcome: str) -> None:
        now = self.engine.clock.now()
        rule = RETRY_RULE.get(outcome, "no_answer")
        again = rule is not None and d.lead.attempts + 1 < self.c.max_attempts
        await self.leads.finish(d.lead, outcome, now, now + self.c.retry_after(rule) if again and rule else None)

    # ---- the answered call (the ``outbound`` AGI) ----------------------------------------------------------
    async def on_answer(self, d: Dial, chan: AgiChannel) -> None:
        eng = self.engine
        d.in_agi = True
        mono = eng.clock.monotonic()
        args = [*chan.env.args, "", ""]
        status, cause = args[0].upper(), args[1]
        answered = d.answered_at if d.answered_at is not None else mono
        # HUMAN comes after the greeting and AMD's after-greeting silence; without AMD the greeting is still
        # ahead, so the window is counted from the answer (the stricter reading)
        greeting_end = mono - AFTER_GREETING if status == "HUMAN" else answered
        deadline = self.rule.deadline(answered, greeting_end)
        wall = eng.clock.now() - mono  # monotonic -> wall time
        await eng.fact("outbound.verdict", d.id, d.id, fact_key("outbound.verdict", d.id), campaign=self.c.name,
                       amd=status, amd_cause=cause, answered_at=round(answered + wall, 3),
                       greeting_end=round(greeting_end + wall, 3), rule=self.rule.name,
                       deadline=round(deadline + wall, 3))  # fmt: skip
        self.counts["answered"] = self.counts.get("answered", 0) + 1
        if status == "MACHINE":
            d.resolved = True
            self.pacer.on(DialResolved("machine", mono - d.placed), self._t())
            await eng.fact("outbound.machine", d.id, d.id, fact_key("outbound.machine", d.id), campaign=self.c.name)
            await self._finish_lead(d, "machine")
            self._preview_over(d)
            if self.c.machine == "message":
                await chan.stream(self.c.abandon_prompt)
            await chan.command("HANGUP")
            return
        d.resolved = True
        self.pacer.on(DialResolved("live", mono - d.placed), self._t())
        self.waiting += 1
        try:
            # a preview dial's agent is reserved for it: no search, no wait, no abandon
            seat = self._preview_seat(d) if d.agent else self._take_seat(d.id, d.lead.agent)
            while seat is None and not d.agent and eng.clock.monotonic() < deadline and not chan.hung_up:
                self._freed.clear()
                freed = asyncio.ensure_future(self._freed.wait())
                timer = asyncio.ensure_future(eng.clock.sleep(deadline - eng.clock.monotonic()))
                await asyncio.wait([freed, timer], return_when=asyncio.FIRST_COMPLETED)
                freed.cancel()
                timer.cancel()
                seat = self._take_seat(d.id, d.lead.agent)
        finally:
            self.waiting -= 1
        if seat is None:  # a preview dial whose agent's session ended while the number rang
            await self._abandon(d, chan, greeting_end + wall)
            return
        connected = eng.clock.monotonic()
        seat.last = d
        self.pacer.on(Connected(connected - mono), self._t())
        await eng.fact("outbound.connect", d.id, d.id, fact_key("outbound.connect", d.id), campaign=self.c.name,
                       agent=seat.agent.id, after_greeting=round(connected - greeting_end, 3),
                       at=round(connected + wall, 3))  # fmt: skip
        if self.recorder is not None and self.c.record:
            # MixMonitor (bridged audio only) on the customer's channel, keyed by this call: started alongside
            # the bridge, never before it, so a slow AMI answer cannot push the connect past the 2-s window
            eng.spawn(self.recorder.start(d.id, chan.channel), f"dial-record:{d.id}")
        try:
            # Bridge() answers only when the conversation ends: no command timeout of minutes applies to it
            await chan.command("EXEC", "Bridge", f"{seat.channel},{bridge_return(AGENT_CONTEXT)}", timeout=24 * 3600)
        except AgiHangup:
            pass
        talk = eng.clock.monotonic() - connected
        self.pacer.on(TalkEnded(talk), self._t())
        await eng.fact("outbound.talk_end", d.id, d.id, fact_key("outbound.talk_end", d.id), campaign=self.c.name,
                       agent=seat.agent.id, talk=round(talk, 3))  # fmt: skip
        self.counts["connected"] = self.counts.get("connected", 0) + 1
        await self._finish_lead(d, "connected")
        if seat.state == "talking":
            eng.spawn(self._wrap(seat), f"dialer-wrap:{seat.agent.id}")
        if not chan.hung_up:
            try:
                await chan.command("HANGUP")
            except AgiHangup:
                pass

    async def _abandon(self, d: Dial, chan: AgiChannel, greeting_end: float) -> None:
        eng = self.engine
        self.pacer.on(Abandoned(), self._t())
        self.counts["abandoned"] = self.counts.get("abandoned", 0) + 1
        await eng.fact("outbound.abandon", d.id, d.id, fact_key("outbound.abandon", d.id), campaign=self.c.name,
                       rule=self.rule.name, message_at=round(eng.clock.now(), 3),
                       greeting_end=round(greeting_end, 3))  # fmt: skip
        await self._finish_lead(d, "abandoned")
        try:
            await chan.stream(self.c.abandon_prompt)
            await chan.command("HANGUP")
        except AgiHangup:
            pass
