"""One dial's path, the runner's part from Originate to its result (an answered one goes on in
``dialer.answer``: verdict, bridge or abandon).

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

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from acd.board import Board
from dialer.compliance import Rule
from dialer.lead_source import LeadRef, Leads
from dialer.notifier import Notifier
from dialer.outcomes import PACER_OUTCOME, RETRY_RULE, classify
from dialer.pacing import DialResolved, Pacer
from dialer.settings import Campaign
from dialer.state import Dial, Seat
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.dialplan import AMD_EXTEN, FIRST, LIVE_EXTEN, OUTBOUND_CONTEXT
from engine.ports import Actions, Calls, Spawner
from engine.privacy import mask_number
from recording.mixmonitor import safe_name

log = logging.getLogger("hotline.dialer")


class Recording(Protocol):
    """What the dialer needs of the recorder (``recording.finalize.Recorder``): MixMonitor on a channel, the
    recording keyed by the call id and finished by the recorder's end-of-call hook."""

    asterisk_dir: str  # the recordings folder as Asterisk sees it
    local_dir: Path  # the same folder as the engine sees it

    async def start(self, call_id: str, channel: str) -> None: ...


class DialPath:
    actions: Actions
    calls: Calls
    spawner: Spawner
    clock: Clock
    notify: Notifier
    c: Campaign
    leads: Leads
    pacer: Pacer
    rule: Rule
    seats: dict[str, Seat]
    board: Board
    dials: dict[str, Dial]
    counts: dict[str, int]
    _ids: Iterator[int]
    _t: Callable[[], float]
    window_left: Callable[..., float]
    next_opening: Callable[..., float]
    wake: Callable[[], None]

    def _new_id(self, now: float) -> str:
        return f"dl-{self.c.name}-{next(self._ids)}-{int(now)}"[:149]

    async def _dial(self, lead: LeadRef, agent: str = "", did: str = "") -> None:
        """Originate one dial; ``agent`` (preview mode) is the agent reserved for its answer, ``did`` the id
        its preview already carries."""
        now = self.clock.now()
        if lead.tz and self.window_left(now, lead.tz) <= 0:
            # the lead's own clock says it is too early or too late: back to the list, no attempt counted
            await self.leads.finish(lead, "outside_window", now, self.next_opening(now, lead.tz), attempted=False)
            return
        # a preview dial needs no AMD: its agent is waiting for it and hears who answers
        amd = self.c.amd and self.pacer.controls.amd and not agent
        did = did or self._new_id(now)
        d = Dial(did, lead, self.clock.monotonic(), amd, agent=agent)
        self.dials[did] = d
        self.calls.model.associate(did, did, "lead")
        await self.notify.placed(did, lead, amd, self.rule.name, agent)
        action: dict[str, Any] = {
            "Action": "Originate", "Channel": f"PJSIP/{lead.phone}@{self.c.trunk}", "Context": OUTBOUND_CONTEXT,
            "Exten": AMD_EXTEN if amd else LIVE_EXTEN, "Priority": FIRST, "Timeout": str(self.c.ring_timeout * 1000),
            "ChannelId": did, "Async": "true", "CallerID": self.c.caller_id or "",
        }  # fmt: skip
        variables = []
        if amd and self.c.amd_params:
            variables.append(f"HOTLINE_AMD={self.c.amd_params}")  # AMD()'s arguments in the dialplan
        if amd and self.c.amd_sample and self.recorder is not None:
            # MixMonitor from the answer, before AMD listens: a machine's first seconds are kept for QA's check
            variables.append(f"HOTLINE_AMD_REC={amd_sample_path(self.recorder.asterisk_dir, did)}")
        if variables:
            action["Variable"] = variables
        try:
            await self.actions.action(action)
        except AmiError as exc:
            log.warning("campaign %s: originate to %s failed: %s", self.c.name, mask_number(lead.phone), exc)
            await self._resolve(d, "failed", cause=None)

    # ---- what Asterisk says --------------------------------------------------------------------------------
    EVENTS = frozenset({"DialEnd", "OriginateResponse", "Newstate", "Hangup"})  # what on_frame reads

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
                    self.spawner.spawn(self._failed_without_channel(d), f"dial-check:{d.id}")
        elif ev == "Newstate":
            d = self.dials.get(frame.get("Uniqueid"))
            if d is not None and frame.get("ChannelState") == "6" and d.answered_at is None:
                d.answered_at = self.clock.monotonic()
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
            self.spawner.spawn(self._resolve(d, outcome, cause), f"dial-resolve:{d.id}")

    async def _failed_without_channel(self, d: Dial) -> None:
        """An Originate that failed before any channel existed (no Hangup will come): free its line."""
        await self.clock.sleep(2.0)
        if not d.resolved and d.id not in self.calls.model.channels and d.answered_at is None:
            await self._resolve(d, classify(d.dial_status, None, d.reason), None)

    async def _resolve(self, d: Dial, outcome: str, cause: int | None) -> None:
        if d.resolved:
            return
        d.resolved = True
        self.dials.pop(d.id, None)
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self.pacer.on(DialResolved(PACER_OUTCOME.get(outcome, "fail"), self.clock.monotonic() - d.placed, d.picked),
                      self._t())  # fmt: skip
        await self.notify.result(d.id, d.lead, outcome, cause, d.dial_status, d.reason,
                                 self.clock.monotonic() - d.placed)  # fmt: skip
        await self._finish_lead(d, outcome if outcome != "hangup_before_verdict" else "no_answer")
        self._preview_over(d)

    def _preview_over(self, d: Dial) -> None:
        """A preview dial that reached nobody gives its agent back, ready for the next lead."""
        if d.agent in self.seats and self.board.preview_over(d.agent):
            self.wake()

    async def _finish_lead(self, d: Dial, outcome: str) -> None:
        now = self.clock.now()
        rule = RETRY_RULE.get(outcome, "no_answer")
        again = rule is not None and d.lead.attempts + 1 < self.c.max_attempts
        await self.leads.finish(d.lead, outcome, now, now + self.c.retry_after(rule) if again and rule else None)


def amd_sample_path(folder: str, call_id: str) -> str:
    """Where an AMD call's first seconds go: ``amd/<call id>.wav`` in the recordings folder (Asterisk's name of
    it, or this machine's)."""
    return f"{str(folder).rstrip('/')}/amd/{safe_name(call_id)}.wav"
