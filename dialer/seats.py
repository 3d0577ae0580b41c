"""A campaign's seats, the runner's part for them: a customer bridged to the agent free in its always-on
session (kept by ``acd.sessions.SessionKeeper``), the wrap-up after it (the agent machine's, through the board:
the timer is carried out here) and the wake-up of a customer waiting for an agent.

A mixin of :class:`dialer.runner.CampaignRunner`: the attributes below are the runner's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from acd.board import Board
from dialer.pacing import Pacer, WrapEnded
from dialer.settings import Campaign
from dialer.state import Seat
from engine.clock import Clock


class Seats:
    clock: Clock
    c: Campaign
    pacer: Pacer
    seats: dict[str, Seat]
    board: Board
    _freed: asyncio.Event
    _t: Callable[[], float]

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
        # the agent's machine, through the board, says whether there is a wrap-up (none if the session ended
        # during the call); its timer is carried out here
        for effect in self.board.wrap(seat.agent.id, self.c.wrap_up):
            if effect.kind == "wrap_up_timer":
                await self.clock.sleep(float(effect.value))  # type: ignore[arg-type]
                self.pacer.on(WrapEnded(self.c.wrap_up), self._t())
                self._end_wrap(seat)

    def _end_wrap(self, seat: Seat) -> None:
        if self.board.wrap_end(seat.agent.id):
            self.wake()

    def wake(self) -> None:
        """An agent may be free for a customer now: a live call waiting for one looks again."""
        self._freed.set()
