"""The dialer's shell: campaigns run on Asterisk through AMI and the ``outbound`` FastAGI route.

The brains are elsewhere and sans-I/O: the pacer (``dialer.pacer``) says how many numbers to dial each
second; ``classify`` maps what Asterisk reported to an outcome. This shell only turns their answers into
AMI actions and AGI commands, and Asterisk's events back into pacer events and ledger facts.

Flow per dial (docs/asterisk.md#flow-originate, #dialplan): Originate ``PJSIP/<number>@<trunk>`` asynchronously
with our own ChannelId into ``engine-originate,amd`` (or ``live`` with AMD off), ringing the campaign's
ring timeout (≥ 15 s). A failure is classified from DialEnd's DialStatus and the Hangup cause of that
ChannelId, never from OriginateResponse's Reason (0 for busy and congestion alike). On answer the dialplan
runs AMD() and hands the verdict to the ``outbound`` AGI: a machine is hung up (or gets the message); a
person is bridged into a waiting agent's always-on session with ``Bridge(<session>,F(engine-agent^s^1))``
so the agent goes back to its session afterwards, or, with no agent free inside the compliance window
(``dialer.compliance``: the campaign's profile says from when), hears the abandon message and is counted.

Every step is a fact in the ledger (the compliance ledger): ``outbound.placed``, ``outbound.result``,
``outbound.verdict`` (answer time, greeting end, AMD verdict), ``outbound.connect`` (agent, time) or
``outbound.abandon`` (message time), ``outbound.talk_end``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from acd.guard import GuardSeat
from acd.sessions import open_session
from dialer.baselines import Progressive
from dialer.compliance import AFTER_GREETING, rule_for
from dialer.lead_source import LeadRef, Leads, StoredLeads, SyntheticLeads
from dialer.pacer import ForecastPacer
from dialer.pacing import Abandoned, Connected, DialResolved, Floor, Pacer, QaLabel, TalkEnded, WrapEnded
from engine.app import Engine
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.config import Agent, Campaign
from engine.ports import InboundView
from engine.privacy import mask_number

log = logging.getLogger("hotline.dialer")

OUTBOUND_CONTEXT = "engine-originate"
AGENT_CONTEXT = "engine-agent"
SESSION_RETRY = 30.0  # s before an agent whose session ended is called again
PREVIEW_TRIES = 20  # leads outside their own calling window passed over before a preview request gives up

CONGESTION_CAUSES = {34, 38, 41, 42}
NO_ANSWER_CAUSES = {18, 19, 0}
INVALID_CAUSES = {1, 3, 28}


def classify(dial_status: str, cause: int | None, reason: int | None) -> str:
    """An unanswered (or answered) dial's outcome from what Asterisk reported for its ChannelId."""
    status = dial_status.upper()
    if status == "ANSWER" or reason == 4:
        return "answered"
    if status == "BUSY" or cause == 17:
        return "busy"
    if status == "CONGESTION" or cause in CONGESTION_CAUSES:
        return "congestion"
    if cause == 21:
        return "rejected"
    if cause in INVALID_CAUSES:
        return "invalid"
    if status in ("NOANSWER", "CANCEL") or cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"


# what the pacer calls each outcome, and which retry rule it falls under (None: never again)
PACER_OUTCOME = {"busy": "busy", "no_answer": "noanswer", "rejected": "noanswer"}
RETRY_RULE = {"no_answer": "no_answer", "busy": "busy", "congestion": "no_answer", "rejected": "no_answer",
              "failed": "no_answer", "machine": "machine", "abandoned": "abandoned", "invalid": None,
              "connected": None}  # fmt: skip


class Recording(Protocol):
    """What the dialer needs of the recorder (``recording.finalize.Recorder``): MixMonitor on a channel, the
    recording keyed by the call id and finished by the recorder's end-of-call hook."""

    async def start(self, call_id: str, channel: str) -> None: ...


# ---- the floor -------------------------------------------------------------------------------------------
@dataclass
class Seat:
    """An outbound agent's always-on session: answered once, customers bridged in without ringing."""

    agent: Agent
    state: str = "off"  # off, joining, idle, talking, wrap, lent (taking a hotline call for the ACD),
    # preview (waiting for the answer to the number it chose to dial)
    uniqueid: str = ""
    channel: str = ""
    since: float = 0.0
    sessions: int = 0
    last: Dial | None = None  # its last conversation: what a disposition or a call back is about
    reserved: bool = False  # held for the hotline by the ACD's guard: out of pacing, no new customers


@dataclass
class Dial:
    id: str  # our ChannelId
    lead: LeadRef
    placed: float
    amd: bool
    dial_status: str = ""
    reason: int | None = None
    answered_at: float | None = None
    in_agi: bool = False
    resolved: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    agent: str = ""  # preview mode: the agent who asked for this dial and is reserved for its answer


class CampaignRunner:
    def __init__(self, engine: Engine, campaign: Campaign, leads: Leads, pacer: Pacer | None = None,
                 recorder: Recording | None = None, inbound: InboundView | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.c = campaign
        self.leads = leads
        self.recorder = recorder  # None: conversations are not recorded (tools and tests without one)
        self.inbound = inbound  # the ACD's hotline callers for a blended floor (None: no ACD, outbound only)
        self.rule = rule_for(campaign.profile)
        self.pacer: Pacer = pacer or (ForecastPacer(target=campaign.target, amd=campaign.amd, **self.rule.pacer_args)
                                      if campaign.mode == "predictive" else Progressive())  # fmt: skip
        self.seats = {a: Seat(engine.site.agent(a)) for a in campaign.agents}
        self.dials: dict[str, Dial] = {}
        self.waiting = 0  # live calls looking for an agent right now
        self.line_limit = campaign.line_limit or 6 * len(self.seats)
        self.zone = ZoneInfo(engine.site["site"]["timezone"])
        self._ids = itertools.count(1)
        self._freed = asyncio.Event()
        self.t0 = engine.clock.monotonic()
        self.counts: dict[str, int] = {}
        self.dialing = True  # False: no new dials (the end of a simulated day, an operator's stop)
        # preview mode: the lead each agent has asked for and not yet dialed or skipped (agent -> dial id, lead)
        self.previews: dict[str, tuple[str, LeadRef]] = {}
        self._preview_lock = asyncio.Lock()  # one claim at a time: a double press must not take two leads
        self.qa_seen: set[str] = set()  # calls a QA label was given for

    # ---- time ----------------------------------------------------------------------------------------------
    def _minutes(self, now: float, tz: str = "") -> float:
        zone = ZoneInfo(tz) if tz else self.zone
        t = dt.datetime.fromtimestamp(now, zone)
        return t.hour * 60 + t.minute + t.second / 60

    def window_left(self, now: float, tz: str = "") -> float:
        """Seconds until the calling window closes in that zone (0 when it is closed now)."""
        if (self.c.starts is not None and now < self.c.starts) or (self.c.ends is not None and now >= self.c.ends):
            return 0.0
        m = self._minutes(now, tz)
        start, end = self.c.window
        return (end - m) * 60 if start <= m < end else 0.0

    def next_opening(self, now: float, tz: str = "") -> float:
        m = self._minutes(now, tz)
        start = self.c.window[0]
        wait = (start - m) * 60 if m < start else (24 * 60 - m + start) * 60
        return now + max(60.0, wait)

    # ---- seats ---------------------------------------------------------------------------------------------
    async def _session(self, seat: Seat) -> None:
        """Keep the agent's always-on session up: call the phone, and call it again if the session ends."""
        while True:
            try:
                await self._one_session(seat)
            except AmiError as exc:
                log.warning("campaign %s: could not call agent %s: %s", self.c.name, seat.agent.id, exc)
            seat.state, seat.channel = "off", ""
            await self.engine.clock.sleep(SESSION_RETRY)

    async def _one_session(self, seat: Seat) -> None:
        eng = self.engine
        seat.sessions += 1
        uid = f"as-{self.c.name}-{seat.agent.id}-{seat.sessions}"[:149]
        seat.state, seat.uniqueid = "joining", uid
        name = await open_session(eng, seat.agent, uid, self.c.caller_id, self.c.name)
        if name is None:
            return
        seat.state, seat.channel, seat.since = "idle", name, eng.clock.monotonic()
        await eng.fact("dialer.session", uid, uid, f"session:{uid}:up", agent=seat.agent.id, campaign=self.c.name,
                       state="up")  # fmt: skip
        self._freed.set()
        while uid in eng.model.channels:
            await eng.until(lambda: uid not in eng.model.channels, 3600)
        await eng.fact("dialer.session", uid, uid, f"session:{uid}:down", agent=seat.agent.id,
                       campaign=self.c.name, state="down")  # fmt: skip
        log.info("campaign %s: agent %s left the session", self.c.name, seat.agent.id)

    def _take_seat(self, prefer: str = "") -> Seat | None:
        idle = [s for s in self.seats.values() if s.state == "idle" and not s.reserved]
        if not idle:
            return None
        own = [s for s in idle if s.agent.id == prefer]
        # the agent who promised the call back if free, else the longest idle: never abandon a call back
        seat = own[0] if own else min(idle, key=lambda s: s.since)
        seat.state, seat.since = "talking", self.engine.clock.monotonic()
        return seat

    async def _wrap(self, seat: Seat) -> None:
        seat.state, seat.since = "wrap", self.engine.clock.monotonic()
        await self.engine.clock.sleep(self.c.wrap_up)
        self.pacer.on(WrapEnded(self.c.wrap_up), self._t())
        if seat.state == "wrap":
            seat.state, seat.since = "idle", self.engine.clock.monotonic()
            self._freed.set()

    # ---- pacing --------------------------------------------------------------------------------------------
    def _t(self) -> float:
        return self.engine.clock.monotonic() - self.t0

    def floor(self) -> Floor:
        mono = self.engine.clock.monotonic()
        seats = [s for s in self.seats.values() if not s.reserved]  # the guard's agent is not the pacer's
        on = [s.agent.id for s in seats if s.state in ("idle", "talking", "wrap")]
        load = self.inbound.load_for(on) if self.inbound is not None and on else None
        return Floor(
            now=self._t(),
            idle=sum(1 for s in seats if s.state == "idle"),
            talking=[mono - s.since for s in seats if s.state == "talking"],
            wrapping=[mono - s.since for s in seats if s.state == "wrap"],
            ringing=[mono - d.placed for d in self.dials.values() if not d.resolved],
            waiting=self.waiting,
            logged_in=sum(1 for s in seats if s.state in ("idle", "talking", "wrap")),
            line_limit=self.line_limit,
            seconds_left=self.window_left(self.engine.clock.now()),
            inbound_waiting=load.waiting if load else 0,
            inbound_rate=load.rate if load else 0.0,
        )

    async def run(self) -> None:
        eng = self.engine
        await eng.link.ready.wait()
        self.t0 = eng.clock.monotonic()
        for seat in self.seats.values():
            eng.spawn(self._session(seat), f"dialer-session:{seat.agent.id}")
        while True:
            await eng.clock.sleep(1.0)
            if self.c.mode == "preview" or not self.dialing or not eng.link.ready.is_set():
                continue  # preview: agents choose and dial leads themselves
            try:
                await self._tick()
            except Exception:  # noqa: BLE001 - a store or link failure skips a second, not the engine
                log.exception("campaign %s: this second's dialing failed; trying again", self.c.name)

    async def _tick(self) -> None:
        eng = self.engine
        f = self.floor()
        if f.seconds_left <= 0 or f.logged_in == 0:
            return
        n = min(self.pacer.dials(f), self.line_limit - len(self.dials))
        if n <= 0:
            return
        # call backs an idle agent promised go first, one per agent, and only while that agent is free
        for seat in [s for s in self.seats.values() if s.state == "idle"][:n]:
            own = await self.leads.claim(1, eng.clock.now(), agent=seat.agent.id)
            for lead in own:
                await self._dial(lead)
            n -= len(own)
        for lead in await self.leads.claim(n, eng.clock.now()) if n > 0 else []:
            await self._dial(lead)

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
        await eng.fact("outbound.placed", did, did, f"placed:{did}", campaign=self.c.name, lead=lead.id,
                       attempt=lead.attempts + 1, amd=amd, rule=self.rule.name,
                       **({"agent": agent} if agent else {}))  # fmt: skip
        action: dict[str, Any] = {
            "Action": "Originate", "Channel": f"PJSIP/{lead.phone}@{self.c.trunk}", "Context": OUTBOUND_CONTEXT,
            "Exten": "amd" if amd else "live", "Priority": "1", "Timeout": str(self.c.ring_timeout * 1000),
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
        await eng.fact("outbound.result", d.id, d.id, f"result:{d.id}", campaign=self.c.name, lead=d.lead.id,
                       outcome=outcome, cause=cause, dial_status=d.dial_status, reason=d.reason,
                       seconds=round(eng.clock.monotonic() - d.placed, 3))  # fmt: skip
        await self._finish_lead(d, outcome if outcome != "hangup_before_verdict" else "no_answer")
        self._preview_over(d)

    def _preview_over(self, d: Dial) -> None:
        """A preview dial that reached nobody gives its agent back, ready for the next lead."""
        seat = self.seats.get(d.agent) if d.agent else None
        if seat is not None and seat.state == "preview":
            seat.state, seat.since = "idle", self.engine.clock.monotonic()
            self._freed.set()

    def _preview_seat(self, d: Dial) -> Seat | None:
        """The agent reserved for a preview dial, now taking its answer; None if its session is gone (one
        that came back meanwhile is idle, not reserved, and still takes it)."""
        seat = self.seats.get(d.agent)
        if seat is None or seat.state not in ("preview", "idle") or seat.reserved or not seat.channel:
            return None
        seat.state, seat.since = "talking", self.engine.clock.monotonic()
        return seat

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
        await eng.fact("outbound.verdict", d.id, d.id, f"verdict:{d.id}", campaign=self.c.name, amd=status,
                       amd_cause=cause, answered_at=round(answered + wall, 3),
                       greeting_end=round(greeting_end + wall, 3), rule=self.rule.name,
                       deadline=round(deadline + wall, 3))  # fmt: skip
        self.counts["answered"] = self.counts.get("answered", 0) + 1
        if status == "MACHINE":
            d.resolved = True
            self.pacer.on(DialResolved("machine", mono - d.placed), self._t())
            await eng.fact("outbound.machine", d.id, d.id, f"machine:{d.id}", campaign=self.c.name)
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
            seat = self._preview_seat(d) if d.agent else self._take_seat(d.lead.agent)
            while seat is None and not d.agent and eng.clock.monotonic() < deadline and not chan.hung_up:
                self._freed.clear()
                freed = asyncio.ensure_future(self._freed.wait())
                timer = asyncio.ensure_future(eng.clock.sleep(deadline - eng.clock.monotonic()))
                await asyncio.wait([freed, timer], return_when=asyncio.FIRST_COMPLETED)
                freed.cancel()
                timer.cancel()
                seat = self._take_seat(d.lead.agent)
        finally:
            self.waiting -= 1
        if seat is None:  # a preview dial whose agent's session ended while the number rang
            await self._abandon(d, chan, greeting_end + wall)
            return
        connected = eng.clock.monotonic()
        seat.last = d
        self.pacer.on(Connected(connected - mono), self._t())
        await eng.fact("outbound.connect", d.id, d.id, f"connect:{d.id}", campaign=self.c.name, agent=seat.agent.id,
                       after_greeting=round(connected - greeting_end, 3), at=round(connected + wall, 3))  # fmt: skip
        if self.recorder is not None and self.c.record:
            # MixMonitor (bridged audio only) on the customer's channel, keyed by this call: started alongside
            # the bridge, never before it, so a slow AMI answer cannot push the connect past the 2-s window
            eng.spawn(self.recorder.start(d.id, chan.channel), f"dial-record:{d.id}")
        try:
            # Bridge() answers only when the conversation ends: no command timeout of minutes applies to it
            await chan.command("EXEC", "Bridge", f"{seat.channel},F({AGENT_CONTEXT}^s^1)", timeout=24 * 3600)
        except AgiHangup:
            pass
        talk = eng.clock.monotonic() - connected
        self.pacer.on(TalkEnded(talk), self._t())
        await eng.fact("outbound.talk_end", d.id, d.id, f"talkend:{d.id}", campaign=self.c.name, agent=seat.agent.id,
                       talk=round(talk, 3))  # fmt: skip
        self.counts["connected"] = self.counts.get("connected", 0) + 1
        await self._finish_lead(d, "connected")
        if seat.state == "talking":
            eng.spawn(self._wrap(seat), f"dialer-wrap:{seat.agent.id}")
        if not chan.hung_up:
            try:
                await chan.command("HANGUP")
            except AgiHangup:
                pass

    # ---- the agent's word on the call (feature codes now, the web agent page later) -----------------------
    async def disposition(self, seat: Seat, code: str) -> str:
        """The agent's disposition of its last conversation; "do not call" puts the number on the campaign's
        list; entering it ends the wrap-up early."""
        d = seat.last
        if d is None:
            raise ValueError(f"agent {seat.agent.id} has no call to give a disposition to")
        label = self.c.dispositions.get(code)
        if label is None:
            raise ValueError(f"unknown disposition code {code!r} (known: {', '.join(sorted(self.c.dispositions))})")
        eng = self.engine
        await eng.fact("outbound.disposition", d.id, d.id, f"disposition:{d.id}:{code}", campaign=self.c.name,
                       agent=seat.agent.id, lead=d.lead.id, code=code, label=label)  # fmt: skip
        if label == "do not call":
            await self.leads.add_dnc(d.lead.phone, eng.clock.now())
        self._end_wrap(seat)
        return f"{seat.agent.id}: call {d.id} {label}"

    async def call_back(self, seat: Seat, minutes: int, own: bool) -> str:
        """Dial the last conversation's lead again in ``minutes``, for this agent or for anyone."""
        d = seat.last
        if d is None:
            raise ValueError(f"agent {seat.agent.id} has no call to schedule a call back for")
        if not 1 <= minutes <= 60 * 24 * 30:
            raise ValueError("a call back is 1 minute to 30 days away")
        eng = self.engine
        at = eng.clock.now() + minutes * 60
        await self.leads.schedule(d.lead, at, seat.agent.id if own else None)
        await eng.fact("outbound.callback", d.id, d.id, f"callback:{d.id}:{int(at)}", campaign=self.c.name,
                       agent=seat.agent.id, lead=d.lead.id, at=round(at, 3), own=own)  # fmt: skip
        self._end_wrap(seat)
        return f"{seat.agent.id}: call back in {minutes} min ({'own' if own else 'anyone'})"

    def _end_wrap(self, seat: Seat) -> None:
        if seat.state == "wrap":
            seat.state, seat.since = "idle", self.engine.clock.monotonic()
            self._freed.set()

    # ---- preview mode: the agent asks for the next lead, then dials or skips it ----------------------------
    def _preview_mode(self) -> None:
        if self.c.mode != "preview":
            raise ValueError(f"campaign {self.c.name} is {self.c.mode}: the dialer paces its calls, no preview")

    def _check_can_dial(self, seat: Seat) -> None:
        """A preview dial goes out only while its agent sits free in the always-on session (or wraps up)."""
        if seat.state not in ("idle", "wrap") or not seat.channel or seat.reserved:
            state = "reserved for the hotline" if seat.reserved else seat.state
            raise ValueError(f"agent {seat.agent.id} is {state}: a preview dial needs the agent free in its session")
        if not self.dialing:
            raise ValueError(f"campaign {self.c.name} is not dialing now")

    async def preview_next(self, seat: Seat) -> str:
        """Hold the next lead for this agent (a call back it promised first); the same lead again while it is
        held. Records ``outbound.preview``; the number reaches the log masked."""
        self._preview_mode()
        async with self._preview_lock:
            did, lead = self.previews.get(seat.agent.id) or await self._claim_preview(seat)
        return f"{seat.agent.id}: lead {lead.id} {mask_number(lead.phone)}"

    async def _claim_preview(self, seat: Seat) -> tuple[str, LeadRef]:
        eng = self.engine
        now = eng.clock.now()
        if self.window_left(now) <= 0:
            raise ValueError(f"campaign {self.c.name}: outside its calling window")
        for _ in range(PREVIEW_TRIES):
            got = await self.leads.claim(1, now, agent=seat.agent.id) or await self.leads.claim(1, now)
            if not got:
                raise ValueError(f"campaign {self.c.name}: no lead is due now")
            lead = got[0]
            if lead.tz and self.window_left(now, lead.tz) <= 0:
                # too early or too late where the lead lives: back to the list, no attempt counted
                await self.leads.finish(lead, "outside_window", now, self.next_opening(now, lead.tz), attempted=False)
                continue
            did = self._new_id(now)  # the dial keeps this id, so the preview and its outcome are one call
            self.previews[seat.agent.id] = (did, lead)
            await eng.fact("outbound.preview", did, did, f"preview:{did}", campaign=self.c.name,
                           agent=seat.agent.id, lead=lead.id)  # fmt: skip
            log.info("campaign %s: agent %s previews lead %d (%s)", self.c.name, seat.agent.id, lead.id,
                     mask_number(lead.phone))  # fmt: skip
            return did, lead
        raise ValueError(f"campaign {self.c.name}: no lead inside its own calling window now")

    async def preview_dial(self, seat: Seat) -> str:
        """Dial the lead this agent holds; the agent is reserved for the answer (no other call, no hotline
        loan) and a live answer is bridged straight to it."""
        self._preview_mode()
        async with self._preview_lock:
            held = self.previews.get(seat.agent.id)
            if held is None:
                raise ValueError(f"agent {seat.agent.id} holds no lead: ask for the next one first")
            self._check_can_dial(seat)
            did, lead = held
            if lead.tz and self.window_left(self.engine.clock.now(), lead.tz) <= 0:
                raise ValueError(f"lead {lead.id} is outside its calling window now: skip it or wait")
            del self.previews[seat.agent.id]
            seat.state, seat.since = "preview", self.engine.clock.monotonic()
            await self._dial(lead, agent=seat.agent.id, did=did)
            if did not in self.dials and seat.state == "preview":  # its window closed this very moment
                seat.state = "idle"
                raise ValueError(f"lead {lead.id} was not dialed: outside its calling window, back on the list")
        return f"{seat.agent.id}: dialing lead {lead.id} {mask_number(lead.phone)}"

    async def preview_skip(self, seat: Seat) -> str:
        """Pass on the held lead: it counts as an attempt with outcome ``skipped`` and comes back after
        ``retries.skipped``, or is done at ``max_attempts`` (so a lead nobody wants to call ends)."""
        self._preview_mode()
        async with self._preview_lock:
            held = self.previews.pop(seat.agent.id, None)
            if held is None:
                raise ValueError(f"agent {seat.agent.id} holds no lead to skip")
            did, lead = held
            now = self.engine.clock.now()
            again = lead.attempts + 1 < self.c.max_attempts
            await self.leads.finish(lead, "skipped", now, now + self.c.retry_after("skipped") if again else None)
            await self.engine.fact("outbound.skip", did, did, f"skip:{did}", campaign=self.c.name,
                                   agent=seat.agent.id, lead=lead.id, again=again)  # fmt: skip
        return f"{seat.agent.id}: lead {lead.id} skipped ({'back later' if again else 'done'})"

    async def preview_call(self, seat: Seat) -> str:
        """Next and dial in one step (``*29``: a softphone has no screen to show the lead on)."""
        self._preview_mode()
        self._check_can_dial(seat)  # before a lead is taken for an agent who cannot dial now
        await self.preview_next(seat)
        return await self.preview_dial(seat)

    async def qa_label(self, call_id: str, machine: bool) -> bool:
        """A reviewer's word on a call AMD called a machine (``machine``: it was one): recorded as
        ``outbound.qa`` and handed to the pacer, which learns from it how many people AMD hangs up on. A second
        label for the same call is ignored (False): one call must not count twice."""
        if call_id in self.qa_seen:
            return False
        self.qa_seen.add(call_id)
        await self.engine.fact("outbound.qa", call_id, call_id, f"qa:{call_id}", campaign=self.c.name,
                               machine=machine)  # fmt: skip
        self.pacer.on(QaLabel(was_person=not machine), self._t())
        return True

    async def _abandon(self, d: Dial, chan: AgiChannel, greeting_end: float) -> None:
        eng = self.engine
        self.pacer.on(Abandoned(), self._t())
        self.counts["abandoned"] = self.counts.get("abandoned", 0) + 1
        await eng.fact("outbound.abandon", d.id, d.id, f"abandon:{d.id}", campaign=self.c.name, rule=self.rule.name,
                       message_at=round(eng.clock.now(), 3), greeting_end=round(greeting_end, 3))  # fmt: skip
        await self._finish_lead(d, "abandoned")
        try:
            await chan.stream(self.c.abandon_prompt)
            await chan.command("HANGUP")
        except AgiHangup:
            pass


class Dialer:
    """Every campaign of the site, one runner each; the ``outbound`` AGI route finds the dial by uniqueid."""

    def __init__(self, engine: Engine, runners: list[CampaignRunner]) -> None:
        self.engine = engine
        self.runners = runners
        engine.frame_hooks.append(self._on_frame)

    def _on_frame(self, frame: Frame) -> None:
        for r in self.runners:
            r.on_frame(frame)

    async def outbound(self, chan: AgiChannel) -> None:
        for r in self.runners:
            d = r.dials.get(chan.uniqueid)
            if d is not None:
                await r.on_answer(d, chan)
                return
        log.warning("outbound AGI for an unknown dial %s: hung up", chan.uniqueid)
        await chan.command("HANGUP")

    # ---- cooperation with the ACD: an outbound agent lent to the hotline leaves the pool at once -----------
    def session_for(self, agent_id: str) -> str | None:
        """The agent's session channel when it sits idle in it (free to take a hotline caller), else None."""
        for r in self.runners:
            seat = r.seats.get(agent_id)
            if seat is not None and seat.state == "idle" and seat.channel:
                return seat.channel
        return None

    async def lend(self, agent_id: str, call_id: str) -> str | None:
        """Take an idle outbound agent out of pacing for an ACD call; returns its session channel."""
        for r in self.runners:
            seat = r.seats.get(agent_id)
            if seat is not None and seat.state == "idle" and seat.channel:
                seat.state, seat.since = "lent", self.engine.clock.monotonic()
                await self.engine.fact("dialer.lent", call_id, seat.uniqueid, f"lent:{agent_id}:{call_id}",
                                       agent=agent_id, campaign=r.c.name)  # fmt: skip
                return seat.channel
        return None

    async def give_back(self, agent_id: str, call_id: str) -> None:
        for r in self.runners:
            seat = r.seats.get(agent_id)
            if seat is not None and seat.state == "lent":
                seat.state, seat.since = "idle", self.engine.clock.monotonic()
                r._freed.set()
                await self.engine.fact("dialer.returned", call_id, seat.uniqueid, f"returned:{agent_id}:{call_id}",
                                       agent=agent_id, campaign=r.c.name)  # fmt: skip

    def guard_seats(self, agents: list[str]) -> list[GuardSeat]:
        """The guard's view of its designated agents: in a session or not, idle or busy since when."""
        out = []
        for agent_id in agents:
            for r in self.runners:
                seat = r.seats.get(agent_id)
                if seat is not None:
                    out.append(GuardSeat(agent_id, seat.state == "idle", seat.since,
                                         bool(seat.channel) and seat.state not in ("off", "joining")))  # fmt: skip
                    break
        return out

    async def reserve(self, agent_id: str, reason: str) -> None:
        """The hotline guard holds this agent: no new customers, out of the pacer's count, session kept."""
        runner, seat = self.seat_of(agent_id)
        seat.reserved = True
        await self.engine.fact("dialer.reserved", "", seat.uniqueid, f"reserved:{agent_id}:{self.engine.clock.now()}",
                               agent=agent_id, campaign=runner.c.name, reason=reason)  # fmt: skip

    async def release(self, agent_id: str, reason: str) -> None:
        runner, seat = self.seat_of(agent_id)
        seat.reserved = False
        runner._freed.set()
        await self.engine.fact("dialer.released", "", seat.uniqueid, f"released:{agent_id}:{self.engine.clock.now()}",
                               agent=agent_id, campaign=runner.c.name, reason=reason)  # fmt: skip

    async def qa_label(self, call_id: str, machine: bool) -> bool:
        """A QA label for one of our dials (its call id names the campaign, see ``_new_id``); ValueError for
        a call id no campaign of this site placed."""
        for r in sorted(self.runners, key=lambda r: -len(r.c.name)):  # "a-b" before "a": the longest name wins
            rest = call_id.removeprefix(f"dl-{r.c.name}-")
            if rest != call_id and re.fullmatch(r"\d+-\d+", rest):
                return await r.qa_label(call_id, machine)
        raise ValueError(f"QA label for {call_id!r}: not a dial of any campaign of this site")

    def seat_of(self, agent_id: str) -> tuple[CampaignRunner, Seat]:
        for r in self.runners:
            if agent_id in r.seats:
                return r, r.seats[agent_id]
        raise ValueError(f"agent {agent_id} works no campaign")

    async def control(self, agent_id: str, action: str, arg: str = "") -> str:
        """Agent actions on outbound calls: ``disposition`` (code), ``callback`` / ``callback_any`` (minutes);
        in a preview campaign ``preview_next``, ``preview_dial``, ``preview_skip`` and ``preview_call`` (next and
        dial at once). Raises ValueError with the reason when the action does not fit."""
        runner, seat = self.seat_of(agent_id)
        preview = {"preview_next": runner.preview_next, "preview_dial": runner.preview_dial,
                   "preview_skip": runner.preview_skip, "preview_call": runner.preview_call}  # fmt: skip
        if action in preview:
            return await preview[action](seat)
        if action == "disposition":
            return await runner.disposition(seat, arg)
        if action in ("callback", "callback_any"):
            if not arg.isdigit():
                raise ValueError("a call back needs its delay in minutes")
            return await runner.call_back(seat, int(arg), own=action == "callback")
        raise ValueError(f"unknown outbound action {action!r}")

    async def record_definitions(self) -> None:
        """Store each campaign's definition unless that exact version is stored already (append-only), so
        reports can say which rules were in force. Only a SQL store keeps them (not the in-memory one)."""
        store = self.engine.store
        sql = getattr(store, "engine", None)
        if sql is None:
            return
        from dialer.definitions import CampaignVersions

        versions = CampaignVersions(sql)
        try:
            await store.write(versions.record([r.c for r in self.runners], self.engine.clock.now()))
        except Exception:  # noqa: BLE001 - a history row missing is no reason to leave the agents idle
            log.exception("campaign definitions could not be stored")

    async def run(self) -> None:
        await self.record_definitions()
        async with asyncio.TaskGroup() as tg:
            for r in self.runners:
                tg.create_task(r.run(), name=f"campaign:{r.c.name}")


def build_dialer(engine: Engine, recorder: Recording | None = None,
                 inbound: InboundView | None = None) -> Dialer | None:  # fmt: skip
    """One runner per campaign of the site; ``recorder`` records every conversation (the composition root
    passes the same recorder the ACD uses, so outbound recordings are finished and indexed alike); ``inbound``
    is the ACD's view of hotline callers, for the pacer's blended floor."""
    runners = []
    for c in engine.site.campaigns:
        if c.leads == "synthetic":
            leads: Leads = SyntheticLeads()
        else:
            sql = getattr(engine.store, "engine", None)
            if sql is None:
                raise ValueError(f"campaign {c.name}: stored leads need the SQL store")
            leads = StoredLeads(sql, c.name, c.team)
        if c.profile == "uk" and c.amd and c.mode != "preview":  # HUMAN comes 0.8 s after the greeting
            log.warning("campaign %s: UK rule with AMD on: a verdict after answer + 2.3 s means the abandon message "
                        "at once (PaceBench runs the UK profile with AMD off)", c.name)  # fmt: skip
        runners.append(CampaignRunner(engine, c, leads, recorder=recorder, inbound=inbound))
    return Dialer(engine, runners) if runners else None
