"""The dialer's public operations: every campaign of the site, one runner each (``dialer.runner``); the
``outbound`` AGI route, the ACD's loans of idle outbound agents and its guard's holds, agents' actions on
outbound calls (preview next / dial / skip, disposition, call back), QA labels, and what the live feed and
the simulator read of the campaigns. The wiring is ``dialer.plugin``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from dialer.live_view import campaigns_now
from dialer.runner import CampaignRunner
from dialer.settings import Campaign
from dialer.state import Seat
from engine.asterisk.ami_codec import Frame
from engine.asterisk.fastagi import AgiChannel
from engine.clock import Clock

log = logging.getLogger("hotline.dialer")

# stores each campaign's definition unless that exact version is stored already (``dialer.plugin``)
Definitions = Callable[[list[Campaign], float], Awaitable[None]]
# the order a sale takes: (call, agent, campaign, lead, the order's JSON) -> its id; ValueError says what is wrong
PlaceOrder = Callable[[str, str, str, Any, str], Awaitable[str]]


class Dialer:
    """Every campaign of the site, one runner each; the ``outbound`` AGI route finds the dial by uniqueid."""

    def __init__(self, runners: list[CampaignRunner], clock: Clock, definitions: Definitions | None = None) -> None:
        self.runners = runners
        self.clock = clock
        self.definitions = definitions  # None: no SQL store keeps them (the in-memory one, tests)
        self.place_order: PlaceOrder | None = None  # the sales feature's, given by the composition root

    def on_frame(self, frame: Frame) -> None:
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
    # who holds an agent is the board's (acd.board); the campaign's runner carries out its operations
    def session_for(self, agent_id: str) -> str | None:
        """The agent's session channel when it sits idle in it (free to take a hotline caller), else None."""
        r = self._runner(agent_id)
        return r.board.idle_session(agent_id) if r else None

    async def lend(self, agent_id: str, call_id: str) -> str | None:
        """Take an idle outbound agent out of pacing for an ACD call; returns its session channel (None: it
        is no longer idle in its session)."""
        r = self._runner(agent_id)
        return await r.lend(agent_id, call_id) if r else None

    async def give_back(self, agent_id: str, call_id: str) -> None:
        r = self._runner(agent_id)
        if r is not None:
            await r.give_back(agent_id, call_id)

    async def reserve(self, agent_id: str, reason: str) -> None:
        """The hotline guard holds this agent: no new customers, out of the pacer's count, session kept."""
        await self.seat_of(agent_id)[0].reserve(agent_id, reason)

    async def release(self, agent_id: str, reason: str) -> None:
        await self.seat_of(agent_id)[0].release(agent_id, reason)

    async def qa_label(self, call_id: str, machine: bool) -> bool:
        """A QA label for one of our dials (its call id names the campaign, see ``_new_id``); ValueError for
        a call id no campaign of this site placed."""
        for r in sorted(self.runners, key=lambda r: -len(r.c.name)):  # "a-b" before "a": the longest name wins
            rest = call_id.removeprefix(f"dl-{r.c.name}-")
            if rest != call_id and re.fullmatch(r"\d+-\d+", rest):
                return await r.qa_label(call_id, machine)
        raise ValueError(f"QA label for {call_id!r}: not a dial of any campaign of this site")

    def _runner(self, agent_id: str) -> CampaignRunner | None:
        return next((r for r in self.runners if agent_id in r.seats), None)

    def seat_of(self, agent_id: str) -> tuple[CampaignRunner, Seat]:
        r = self._runner(agent_id)
        if r is None:
            raise ValueError(f"agent {agent_id} works no campaign")
        return r, r.seats[agent_id]

    async def control(self, agent_id: str, action: str, arg: str = "") -> str:
        """Agent actions on outbound calls: ``disposition`` (code), ``sale`` (the order, JSON: the sale disposition
        with its order), ``callback`` / ``callback_any`` (minutes);
        in a preview campaign ``preview_next``, ``preview_dial``, ``preview_skip`` and ``preview_call`` (next and
        dial at once). Raises ValueError with the reason when the action does not fit."""
        runner, seat = self.seat_of(agent_id)
        preview = {"preview_next": runner.preview_next, "preview_dial": runner.preview_dial,
                   "preview_skip": runner.preview_skip, "preview_call": runner.preview_call}  # fmt: skip
        if action in preview:
            return await preview[action](seat)
        if action == "disposition":
            return await runner.disposition(seat, arg)
        if action == "sale":
            if self.place_order is None:
                raise ValueError("orders are not kept on this engine")
            return await runner.sale(seat, arg, self.place_order)
        if action in ("callback", "callback_any"):
            if not arg.isdigit():
                raise ValueError("a call back needs its delay in minutes")
            return await runner.call_back(seat, int(arg), own=action == "callback")
        raise ValueError(f"unknown outbound action {action!r}")

    # ---- what the live feed and the simulator read --------------------------------------------------------
    def campaigns_now(self) -> dict[str, dict[str, Any]]:
        """Each campaign's lines, pacing, abandon rate and seats now (the live feed's ``campaign`` state)."""
        return campaigns_now(self.runners)

    def seat_states(self) -> Counter[str]:
        """Every campaign's seats by state (off, joining, idle, talking, wrap, lent, preview)."""
        return Counter(s.state for r in self.runners for s in r.seats.values())

    def dials_in_flight(self) -> int:
        return sum(len(r.dials) for r in self.runners)

    def stop_dialing(self) -> None:
        """No new dials (the end of a simulated day, an operator's stop); calls in progress go on."""
        for r in self.runners:
            r.dialing = False

    async def record_definitions(self) -> None:
        """Store each campaign's definition unless that exact version is stored already (append-only), so
        reports can say which rules were in force."""
        if self.definitions is None:
            return
        try:
            await self.definitions([r.c for r in self.runners], self.clock.now())
        except Exception:  # noqa: BLE001 - a history row missing is no reason to leave the agents idle
            log.exception("campaign definitions could not be stored")

    async def run(self) -> None:
        await self.record_definitions()
        async with asyncio.TaskGroup() as tg:
            for r in self.runners:
                tg.create_task(r.run(), name=f"campaign:{r.c.name}")
