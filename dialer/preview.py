"""Preview mode, the runner's part for it: the agent asks for the next lead, then dials or skips it; the
dialer paces nothing. A preview dial's agent is reserved for its answer.

A mixin of :class:`dialer.runner.CampaignRunner`: the attributes below are the runner's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from acd.board import Board, Conflict
from dialer.lead_source import LeadRef, Leads
from dialer.notifier import Notifier
from dialer.settings import Campaign
from dialer.state import Dial, Seat
from engine.clock import Clock
from engine.privacy import mask_number

log = logging.getLogger("hotline.dialer")

PREVIEW_TRIES = 20  # leads outside their own calling window passed over before a preview request gives up


class Preview:
    clock: Clock
    notify: Notifier
    c: Campaign
    leads: Leads
    dials: dict[str, Dial]
    board: Board
    dialing: bool
    previews: dict[str, tuple[str, LeadRef]]
    _preview_lock: asyncio.Lock
    window_left: Callable[..., float]
    next_opening: Callable[..., float]
    _new_id: Callable[[float], str]
    _dial: Callable[..., Awaitable[None]]

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
        now = self.clock.now()
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
            await self.notify.preview(did, seat.agent.id, lead)
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
            if lead.tz and self.window_left(self.clock.now(), lead.tz) <= 0:
                raise ValueError(f"lead {lead.id} is outside its calling window now: skip it or wait")
            try:
                self.board.preview_dial(seat.agent.id, did)
            except Conflict as exc:
                raise ValueError(f"agent {seat.agent.id} cannot dial now: {exc}") from exc
            del self.previews[seat.agent.id]
            await self._dial(lead, agent=seat.agent.id, did=did)
            if did not in self.dials and self.board.preview_over(seat.agent.id):  # its window closed just now
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
            now = self.clock.now()
            again = lead.attempts + 1 < self.c.max_attempts
            await self.leads.finish(lead, "skipped", now, now + self.c.retry_after("skipped") if again else None)
            await self.notify.skip(did, seat.agent.id, lead, again)
        return f"{seat.agent.id}: lead {lead.id} skipped ({'back later' if again else 'done'})"

    async def preview_call(self, seat: Seat) -> str:
        """Next and dial in one step (``*29``: a softphone has no screen to show the lead on)."""
        self._preview_mode()
        self._check_can_dial(seat)  # before a lead is taken for an agent who cannot dial now
        await self.preview_next(seat)
        return await self.preview_dial(seat)
