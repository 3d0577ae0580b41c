"""An answered dial, the runner's part for it (the ``outbound`` AGI): AMD's verdict, then a machine hung up (or
given the message), a person bridged into a free agent's always-on session with
``Bridge(<session>,F(engine-agent^s^1))``, or, with no agent free inside the compliance window
(``dialer.compliance``: the campaign's profile says from when), the abandon message, counted.

A mixin of :class:`dialer.runner.CampaignRunner`: the attributes below are the runner's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from acd.board import Board, Conflict
from dialer.compliance import AFTER_GREETING, Rule
from dialer.dialing import Recording, amd_sample_path
from dialer.notifier import Notifier
from dialer.pacing import Abandoned, Connected, DialResolved, Pacer, TalkEnded
from dialer.settings import Campaign
from dialer.state import Dial, Seat
from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.clock import Clock
from engine.dialplan import AGENT_CONTEXT, bridge_return
from engine.ports import Spawner

log = logging.getLogger("hotline.dialer")
SAMPLE_SETTLE = 0.5  # seconds between looks at an AMD sample file Asterisk is closing
SAMPLE_WAIT = 60  # looks before giving up on it (30 s: a loaded machine may close the file late)


class AnswerHandler:
    spawner: Spawner
    clock: Clock
    notify: Notifier
    c: Campaign
    pacer: Pacer
    rule: Rule
    recorder: Recording | None
    seats: dict[str, Seat]
    board: Board
    counts: dict[str, int]
    waiting: int
    _freed: asyncio.Event
    _t: Callable[[], float]
    _take_seat: Callable[..., Seat | None]
    _wrap: Callable[[Seat], Awaitable[None]]
    _finish_lead: Callable[[Dial, str], Awaitable[None]]
    _preview_over: Callable[[Dial], None]

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

    async def on_answer(self, d: Dial, chan: AgiChannel) -> None:
        clock = self.clock
        d.in_agi = True
        mono = clock.monotonic()
        args = [*chan.env.args, "", ""]
        status, cause = args[0].upper(), args[1]
        answered = d.answered_at if d.answered_at is not None else mono
        # HUMAN comes after the greeting and AMD's after-greeting silence; without AMD the greeting is still
        # ahead, so the window is counted from the answer (the stricter reading)
        greeting_end = mono - AFTER_GREETING if status == "HUMAN" else answered
        deadline = self.rule.deadline(answered, greeting_end)
        wall = clock.now() - mono  # monotonic -> wall time
        await self.notify.verdict(d.id, status, cause, answered + wall, greeting_end + wall, self.rule.name,
                                  deadline + wall)  # fmt: skip
        self.counts["answered"] = self.counts.get("answered", 0) + 1
        sampled = self.recorder is not None and bool(d.amd) and self.c.amd_sample
        if sampled and status != "MACHINE":
            # a person (or AMD unsure): no sample to keep, the conversation has its own recording. One AGI round
            # trip (a few ms, on the same connection as what follows, so inline) inside the 2-s window.
            try:
                await chan.command("EXEC", "StopMixMonitor")
            except AgiHangup:
                pass
            self.spawner.spawn(self._drop_sample(d), f"amd-sample-drop:{d.id}")
        if status == "MACHINE":
            d.resolved = True
            self.pacer.on(DialResolved("machine", mono - d.placed, d.picked), self._t())
            await self.notify.machine(d.id)
            await self._finish_lead(d, "machine")
            self._preview_over(d)
            try:
                if self.c.machine == "message":
                    await chan.stream(self.c.abandon_prompt)
                await chan.command("HANGUP")
            finally:
                # a machine may hang up during the message (AgiHangup): its first seconds are still kept
                if sampled:
                    self.spawner.spawn(self._keep_sample(d), f"amd-sample:{d.id}")
            return
        d.resolved = True
        d.extra["rang"] = mono - d.placed  # for the agent's word on it (AgentSaid)
        self.pacer.on(DialResolved("live", mono - d.placed, d.picked), self._t())
        self.waiting += 1
        try:
            # a preview dial's agent is reserved for it: no search, no wait, no abandon
            seat = self._preview_seat(d) if d.agent else self._take_seat(d.id, d.lead.agent)
            while seat is None and not d.agent and clock.monotonic() < deadline and not chan.hung_up:
                self._freed.clear()
                freed = asyncio.ensure_future(self._freed.wait())
                timer = asyncio.ensure_future(clock.sleep(deadline - clock.monotonic()))
                await asyncio.wait([freed, timer], return_when=asyncio.FIRST_COMPLETED)
                freed.cancel()
                timer.cancel()
                seat = self._take_seat(d.id, d.lead.agent)
        finally:
            self.waiting -= 1
        if seat is None:  # a preview dial whose agent's session ended while the number rang
            await self._abandon(d, chan, greeting_end + wall)
            return
        connected = clock.monotonic()
        seat.last = d
        self.pacer.on(Connected(connected - mono), self._t())
        await self.notify.connect(d.id, seat.agent.id, connected - greeting_end, connected + wall)
        if self.recorder is not None and self.c.record:
            # MixMonitor (bridged audio only) on the customer's channel, keyed by this call: started alongside
            # the bridge, never before it, so a slow AMI answer cannot push the connect past the 2-s window
            self.spawner.spawn(self.recorder.start(d.id, chan.channel), f"dial-record:{d.id}")
        try:
            # Bridge() answers only when the conversation ends: no command timeout of minutes applies to it
            await chan.command("EXEC", "Bridge", f"{seat.channel},{bridge_return(AGENT_CONTEXT)}", timeout=24 * 3600)
        except AgiHangup:
            pass
        talk = clock.monotonic() - connected
        self.pacer.on(TalkEnded(talk), self._t())
        await self.notify.talk_end(d.id, seat.agent.id, talk)
        self.counts["connected"] = self.counts.get("connected", 0) + 1
        await self._finish_lead(d, "connected")
        if seat.state == "talking":
            self.spawner.spawn(self._wrap(seat), f"dialer-wrap:{seat.agent.id}")
        if not chan.hung_up:
            try:
                await chan.command("HANGUP")
            except AgiHangup:
                pass

    async def _abandon(self, d: Dial, chan: AgiChannel, greeting_end: float) -> None:
        self.pacer.on(Abandoned(d.extra.get("rang", -1.0)), self._t())
        self.counts["abandoned"] = self.counts.get("abandoned", 0) + 1
        await self.notify.abandon(d.id, self.rule.name, greeting_end)
        await self._finish_lead(d, "abandoned")
        try:
            await chan.stream(self.c.abandon_prompt)
            await chan.command("HANGUP")
        except AgiHangup:
            pass

    # ---- the first seconds of an AMD call (MixMonitor from the answer, dialplan ``amd``) ---------------------
    def _sample_file(self, d: Dial) -> Path:
        assert self.recorder is not None
        return Path(amd_sample_path(str(self.recorder.local_dir), d.id))

    async def _drop_sample(self, d: Dial) -> None:
        """A person's first seconds: deleted once Asterisk has closed the file after the stop."""
        path = await self._closed_sample(d)
        if path is not None:
            await asyncio.to_thread(path.unlink, True)

    async def _keep_sample(self, d: Dial) -> None:
        """A machine's first seconds, once Asterisk has closed the file at the hang-up: on record for QA."""
        path = await self._closed_sample(d)
        if path is None:
            log.warning("campaign %s: call %s: no AMD sample at %s", self.c.name, d.id, self._sample_file(d))
            return
        await self.notify.amd_sample(d.id, str(path), round((path.stat().st_size - 44) / 16000, 2))

    async def _closed_sample(self, d: Dial) -> Path | None:
        """The sample file once it exists and stops growing; None if it never comes."""
        path, last = self._sample_file(d), -1
        for _ in range(SAMPLE_WAIT):
            await self.clock.sleep(SAMPLE_SETTLE)
            size = path.stat().st_size if path.exists() else -1
            if size >= 44 and size == last:
                return path
            last = size
        return None
