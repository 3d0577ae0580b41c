"""A campaign's runner: its agents' seats, its calling window, and once a second the pacer's answer turned
into dials (``dialer.pacer`` says how many from the floor this runner reports).

The parts it is made of, one module each: ``dialer.seats`` (its agents' seats; their always-on sessions are
kept by ``acd.sessions.SessionKeeper``), ``dialer.dialing`` (one dial from Originate to its result),
``dialer.answer`` (an answered dial: verdict, bridge or abandon), ``dialer.dispositions`` (the agent's word on
the call) and ``dialer.preview`` (preview mode); ``dialer.window`` the calling window's arithmetic and
``dialer.notifier`` the facts. The runner takes the runtime's ports (``dialer.ports``) and its settings.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from acd.board import Board, Conflict
from acd.sessions import Owner, SessionKeeper
from dialer import window
from dialer.answer import AnswerHandler
from dialer.baselines import Progressive
from dialer.compliance import rule_for
from dialer.dialing import DialPath, Recording
from dialer.dispositions import Dispositions
from dialer.lead_source import LeadRef, Leads
from dialer.notifier import Notifier
from dialer.pacer import ForecastPacer
from dialer.pacing import Floor, Pacer, QaLabel
from dialer.ports import DialerPorts
from dialer.preview import Preview
from dialer.seats import Seats
from dialer.settings import Campaign
from dialer.state import Dial, Seat
from engine.config import Agent
from engine.ports import InboundView

log = logging.getLogger("hotline.dialer")


class CampaignRunner(Seats, DialPath, AnswerHandler, Dispositions, Preview):
    def __init__(self, ports: DialerPorts, campaign: Campaign, agents: Mapping[str, Agent], timezone: str,
                 leads: Leads, pacer: Pacer | None = None, recorder: Recording | None = None,
                 inbound: InboundView | None = None, board: Board | None = None) -> None:  # fmt: skip
        """``agents``: the site's agents by id (the campaign's are taken); ``timezone``: the site's, for leads
        without their own."""
        self.actions, self.calls, self.spawner, self.clock = ports.actions, ports.calls, ports.spawner, ports.clock
        self.c = campaign
        self.notify = Notifier(ports.ledger, ports.clock, campaign.name)
        self.leads = leads
        self.recorder = recorder  # None: conversations are not recorded (tools and tests without one)
        self.inbound = inbound  # the ACD's hotline callers for a blended floor (None: no ACD, outbound only)
        self.rule = rule_for(campaign.profile)
        self.pacer: Pacer = pacer or (ForecastPacer(target=campaign.target, amd=campaign.amd, **self.rule.pacer_args)
                                      if campaign.mode == "predictive" else Progressive())  # fmt: skip
        # who holds each agent: shared with the ACD (the composition root passes the site's board)
        self.board = board or Board.build(campaign.agents, dict.fromkeys(campaign.agents, campaign.name),
                                          monotonic=ports.clock.monotonic)  # fmt: skip
        self.seats = {a: Seat(agents[a], self.board) for a in campaign.agents}
        self.dials: dict[str, Dial] = {}
        self.waiting = 0  # live calls looking for an agent right now
        self.line_limit = campaign.line_limit or 6 * len(self.seats)
        self.zone = ZoneInfo(timezone)
        self._ids = itertools.count(1)
        self._freed = asyncio.Event()
        self.t0 = ports.clock.monotonic()
        self.counts: dict[str, int] = {}
        self.dialing = True  # False: no new dials (the end of a simulated day, an operator's stop)
        # preview mode: the lead each agent has asked for and not yet dialed or skipped (agent -> dial id, lead)
        self.previews: dict[str, tuple[str, LeadRef]] = {}
        self._preview_lock = asyncio.Lock()  # one claim at a time: a double press must not take two leads
        self.qa_seen: set[str] = set()  # calls a QA label was given for
        owner = Owner(campaign.name, campaign.caller_id, campaign.name, "dialer.session", {"campaign": campaign.name})
        self.keeper = SessionKeeper(ports.actions, ports.calls, ports.ledger, ports.clock, self.board, self.seats,
                                    owner, on_up=self.wake)  # fmt: skip

    # ---- time ----------------------------------------------------------------------------------------------
    def window_left(self, now: float, tz: str = "") -> float:
        """Seconds until the calling window closes in that zone (the site's by default; 0: closed now)."""
        return window.window_left(self.c, now, ZoneInfo(tz) if tz else self.zone)

    def next_opening(self, now: float, tz: str = "") -> float:
        return window.next_opening(self.c, now, ZoneInfo(tz) if tz else self.zone)

    # ---- pacing --------------------------------------------------------------------------------------------
    def _t(self) -> float:
        return self.clock.monotonic() - self.t0

    def floor(self) -> Floor:
        mono = self.clock.monotonic()
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
            seconds_left=self.window_left(self.clock.now()),
            inbound_waiting=load.waiting if load else 0,
            inbound_rate=load.rate if load else 0.0,
            answered=[mono - d.answered_at if d.amd and d.answered_at is not None else None
                      for d in self.dials.values() if not d.resolved],  # fmt: skip
        )

    async def run(self) -> None:
        await self.actions.ready.wait()
        self.t0 = self.clock.monotonic()
        for seat in self.seats.values():
            self.spawner.spawn(self.keeper.keep(seat.agent.id), f"dialer-session:{seat.agent.id}")
        while True:
            await self.clock.sleep(1.0)
            if self.c.mode == "preview" or not self.dialing or not self.actions.ready.is_set():
                continue  # preview: agents choose and dial leads themselves
            try:
                await self._tick()
            except Exception:  # noqa: BLE001 - a store or link failure skips a second, not the engine
                log.exception("campaign %s: this second's dialing failed; trying again", self.c.name)

    async def _tick(self) -> None:
        f = self.floor()
        if f.seconds_left <= 0 or f.logged_in == 0:
            return
        n = min(self.pacer.dials(f), self.line_limit - len(self.dials))
        if n <= 0:
            return
        # call backs an idle agent promised go first, one per agent, and only while that agent is free
        for seat in [s for s in self.seats.values() if s.state == "idle"][:n]:
            own = await self.leads.claim(1, self.clock.now(), agent=seat.agent.id)
            for lead in own:
                await self._dial(lead)
            n -= len(own)
        for lead in await self.leads.claim(n, self.clock.now()) if n > 0 else []:
            await self._dial(lead)

    async def qa_label(self, call_id: str, machine: bool) -> bool:
        """A reviewer's word on a call AMD called a machine (``machine``: it was one): recorded as
        ``outbound.qa`` and handed to the pacer, which learns from it how many people AMD hangs up on. A second
        label for the same call is ignored (False): one call must not count twice."""
        if call_id in self.qa_seen:
            return False
        self.qa_seen.add(call_id)
        await self.notify.qa(call_id, machine)
        self.pacer.on(QaLabel(was_person=not machine), self._t())
        return True

    # ---- the ACD's loans and its guard's holds: the board's operations, the facts, a waiting customer woken ----
    async def lend(self, agent_id: str, call_id: str) -> str | None:
        """Take the agent idle in its session out of pacing for an ACD call; its session channel (None: it is
        no longer idle there)."""
        try:
            channel = self.board.lend(agent_id, call_id)
        except Conflict as exc:
            log.info("campaign %s: agent %s not lent: %s", self.c.name, agent_id, exc)
            return None
        await self.notify.lent(agent_id, call_id, self.seats[agent_id].uniqueid)
        return channel

    async def give_back(self, agent_id: str, call_id: str) -> None:
        if self.board.give_back(agent_id):
            self.wake()
            await self.notify.returned(agent_id, call_id, self.seats[agent_id].uniqueid)

    async def reserve(self, agent_id: str, reason: str) -> None:
        """The hotline guard holds this agent: no new customers, out of the pacer's count, session kept."""
        self.board.guard_reserve(agent_id)
        await self.notify.reserved(agent_id, self.seats[agent_id].uniqueid, reason)

    async def release(self, agent_id: str, reason: str) -> None:
        self.board.guard_release(agent_id)
        self.wake()
        await self.notify.released(agent_id, self.seats[agent_id].uniqueid, reason)
