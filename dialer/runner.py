"""A campaign's runner: its agents' seats, its calling window, and once a second the pacer's answer turned
into dials (``dialer.pacer`` says how many from the floor this runner reports).

The parts it is made of, one module each: ``dialer.seats`` (its agents' seats; their always-on sessions are
kept by ``acd.sessions.SessionKeeper``),
``dialer.dialing`` (one dial from Originate to bridge or abandon), ``dialer.dispositions`` (the agent's word on
the call) and ``dialer.preview`` (preview mode).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from zoneinfo import ZoneInfo

from acd.board import Board
from acd.sessions import Owner, SessionKeeper
from dialer.baselines import Progressive
from dialer.compliance import rule_for
from dialer.dialing import DialPath, Recording
from dialer.dispositions import Dispositions
from dialer.lead_source import LeadRef, Leads
from dialer.pacer import ForecastPacer
from dialer.pacing import Floor, Pacer, QaLabel
from dialer.preview import Preview
from dialer.seats import Seats
from dialer.state import Dial, Seat
from engine.app import Engine
from engine.config import Campaign
from engine.model.facts import fact_key
from engine.ports import InboundView

log = logging.getLogger("hotline.dialer")


class CampaignRunner(Seats, DialPath, Dispositions, Preview):
    def __init__(self, engine: Engine, campaign: Campaign, leads: Leads, pacer: Pacer | None = None,
                 recorder: Recording | None = None, inbound: InboundView | None = None,
                 board: Board | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.c = campaign
        self.leads = leads
        self.recorder = recorder  # None: conversations are not recorded (tools and tests without one)
        self.inbound = inbound  # the ACD's hotline callers for a blended floor (None: no ACD, outbound only)
        self.rule = rule_for(campaign.profile)
        self.pacer: Pacer = pacer or (ForecastPacer(target=campaign.target, amd=campaign.amd, **self.rule.pacer_args)
                                      if campaign.mode == "predictive" else Progressive())  # fmt: skip
        # who holds each agent: shared with the ACD (the composition root passes the site's board)
        self.board = board or Board.build(campaign.agents, dict.fromkeys(campaign.agents, campaign.name),
                                          monotonic=engine.clock.monotonic)  # fmt: skip
        self.seats = {a: Seat(engine.site.agent(a), self.board) for a in campaign.agents}
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
        owner = Owner(campaign.name, campaign.caller_id, campaign.name, "dialer.session", {"campaign": campaign.name})
        self.keeper = SessionKeeper(engine, engine, engine, engine.clock, self.board, self.seats, owner,
                                    on_up=self.wake)  # fmt: skip

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
            eng.spawn(self.keeper.keep(seat.agent.id), f"dialer-session:{seat.agent.id}")
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

    async def qa_label(self, call_id: str, machine: bool) -> bool:
        """A reviewer's word on a call AMD called a machine (``machine``: it was one): recorded as
        ``outbound.qa`` and handed to the pacer, which learns from it how many people AMD hangs up on. A second
        label for the same call is ignored (False): one call must not count twice."""
        if call_id in self.qa_seen:
            return False
        self.qa_seen.add(call_id)
        await self.engine.fact("outbound.qa", call_id, call_id, fact_key("outbound.qa", call_id), campaign=self.c.name,
                               machine=machine)  # fmt: skip
        self.pacer.on(QaLabel(was_person=not machine), self._t())
        return True
