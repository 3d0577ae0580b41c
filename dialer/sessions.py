"""Campaign agents' always-on sessions, the runner's part for its seats: the agent's phone is called once
and customers are bridged in without ringing; a session that ends is called again; a seat goes from idle
to talking to wrap-up and back.

A mixin of :class:`dialer.runner.CampaignRunner`: the attributes below are the runner's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from acd.board import Board
from acd.sessions import open_session
from dialer.pacing import Pacer, WrapEnded
from dialer.state import Seat
from engine.app import Engine
from engine.asterisk.ami_link import AmiError
from engine.config import Campaign
from engine.model.facts import fact_key

log = logging.getLogger("hotline.dialer")

SESSION_RETRY = 30.0  # s before an agent whose session ended is called again


class AgentSessions:
    engine: Engine
    c: Campaign
    pacer: Pacer
    seats: dict[str, Seat]
    board: Board
    _freed: asyncio.Event
    _t: Callable[[], float]

    async def _session(self, seat: Seat) -> None:
        """Keep the agent's always-on session up: call the phone, and call it again if the session ends."""
        while True:
            try:
                await self._one_session(seat)
            except AmiError as exc:
                log.warning("campaign %s: could not call agent %s: %s", self.c.name, seat.agent.id, exc)
            self.board.session_down(seat.agent.id)
            await self.engine.clock.sleep(SESSION_RETRY)

    async def _one_session(self, seat: Seat) -> None:
        eng = self.engine
        seat.sessions += 1
        uid = f"as-{self.c.name}-{seat.agent.id}-{seat.sessions}"[:149]
        seat.uniqueid = uid
        self.board.session_joining(seat.agent.id)
        name = await open_session(eng, seat.agent, uid, self.c.caller_id, self.c.name)
        if name is None:
            return
        self.board.session_up(seat.agent.id, name)
        await eng.fact("dialer.session", uid, uid, fact_key("dialer.session", uid, "up"), agent=seat.agent.id,
                       campaign=self.c.name, state="up")  # fmt: skip
        self.wake()
        while uid in eng.model.channels:
            await eng.until(lambda: uid not in eng.model.channels, 3600)
        await eng.fact("dialer.session", uid, uid, fact_key("dialer.session", uid, "down"), agent=seat.agent.id,
                       campaign=self.c.name, state="down")  # fmt: skip
        log.info("campaign %s: agent %s left the session", self.c.name, seat.agent.id)

    def _take_seat(self, call: str, prefer: str = "") -> Seat | None:
        """The agent for the dialer's customer ``call``: free in its session and the dialer's (the board says:
        not lent, not reserved by the guard, not offered a hotline caller)."""
        idle = [s for s in self.seats.values() if self.board.free_for_dialer(s.agent.id)]
        if not idle:
            return None
        own = [s for s in idle if s.agent.id == prefer]
        # the agent who promised the call back if free, else the longest idle: never abandon a call back
        seat = own[0] if own else min(idle, key=lambda s: s.since)
        self.board.dialer_take(seat.agent.id, call)
        return seat

    async def _wrap(self, seat: Seat) -> None:
        # the board says whether there is a wrap-up (none if the session ended during the call); the timer is ours
        for effect in self.board.wrap(seat.agent.id, self.c.wrap_up):
            if effect.kind == "wrap_up_timer":
                await self.engine.clock.sleep(float(effect.value))  # type: ignore[arg-type]
                self.pacer.on(WrapEnded(self.c.wrap_up), self._t())
                self._end_wrap(seat)

    def _end_wrap(self, seat: Seat) -> None:
        if self.board.wrap_end(seat.agent.id):
            self.wake()

    def wake(self) -> None:
        """An agent may be free for a customer now: a live call waiting for one looks again."""
        self._freed.set()
