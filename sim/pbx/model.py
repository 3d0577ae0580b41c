"""The virtual PBX: channels, bridges and dialplan outcomes that behave like Asterisk 22 as recorded.

Event names, field order and sequences follow the transcripts in tests/fixtures/ami (recorded from the
lab) and docs/asterisk.md#ami-events. Time comes from the injected clock, so the same model runs in real time
behind the AMI/FastAGI faces or sped up under a scaled or virtual clock.

What it models: the engine's dialplan (from-trunk → FastAGI ivr → engine-wait music → bridged by an
originated agent leg; engine-degraded when the engine is unreachable), Originate to agent endpoints
and to the trunk with answer/busy/congestion/no-answer outcomes, Hangup, Hold/Unhold, MixMonitor
(real WAV legs of synthetic audio), CoreShowChannels.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import dialplan as dp
from engine.clock import Clock
from engine.tasks import TaskSet

log = logging.getLogger("hotline.vpbx")

Headers = list[tuple[str, str]]

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
PART_SECONDS = 1.0  # one spoken number or sound of a position / wait announcement
# seconds each prompt plays (measured on the lab's en_US_f_Allison files)
# the lab's sound files (asterisk-core-sounds-en-wav): 11234 and 9962 samples at 8 kHz
PROMPT_SECONDS = {"hello-world": 11234 / 8000, "please-try-again": 9962 / 8000}
DEFAULT_PROMPT_SECONDS = 2.0


@dataclass
class CalleeBehavior:
    """What a called party does: ``answer`` after ``answer_after`` s (then hangs up after ``talk`` s if
    set), ``never`` answers, is ``busy`` (486), ``congestion`` (503), or ``unavailable`` (no contact)."""

    kind: str = "answer"
    answer_after: float = 2.0
    talk: float | None = None
    # an outbound call's far end, as AMD hears it: the verdict, and when it comes (s after the answer)
    amd: str = "HUMAN"
    amd_cause: str = "HUMAN-800-800"
    amd_after: float = 2.0


@dataclass
class CallerScript:
    """An inbound caller. Times in seconds from the answer unless said otherwise."""

    caller: str = "13800138000"
    did: str = "4001234567"
    digits: list[tuple[float, str]] = field(default_factory=list)
    hangup_at: float | None = None  # absolute, from the answer
    talk: float | None = None  # from the connect to an agent
    patience: float | None = None  # from entering the wait for an agent
    holds: list[tuple[float, float]] = field(default_factory=list)  # (at, seconds), at from the answer
    talk_holds: list[tuple[float, float]] = field(default_factory=list)  # (at, seconds), at from the connect


@dataclass
class VChannel:
    uniqueid: str
    linkedid: str
    name: str
    endpoint: str
    state: int = 0
    context: str = ""
    exten: str = dp.START
    priority: int = 1
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    created: float = 0.0
    bridge: VBridge | None = None
    app: str = ""
    app_data: str = ""
    alive: bool = True
    in_agi: bool = False
    agi_dead: bool = False
    on_moh: bool = False
    answered: float | None = None
    events: asyncio.Event = field(default_factory=asyncio.Event)  # poked on any change (digits, hangup, yank)
    digits: list[str] = field(default_factory=list)
    monitor: MonitorState | None = None
    amd_sample: tuple[Path, float] | None = None  # MixMonitor from the answer of an AMD call: (file, since)
    agi_goto: tuple[str, str, str] | None = None
    redirect: tuple[str, str] | None = None
    after_bridge: tuple[str, str] | None = None  # Bridge()'s F(): where this channel goes when the bridger leaves
    variables: dict[str, str] = field(default_factory=dict)

    def poke(self) -> None:
        self.events.set()


@dataclass
class VBridge:
    id: str
    members: list[VChannel] = field(default_factory=list)
    since: float = 0.0


@dataclass
class MonitorState:
    files: tuple[Path, Path, Path]  # mix, in (read), out (write)
    bridged: float = 0.0
    bridged_since: float | None = None


def channel_block(ch: VChannel, prefix: str = "") -> Headers:
    def unk(v: str) -> str:
        return v or "<unknown>"

    return [
        (prefix + "Channel", ch.name),
        (prefix + "ChannelState", str(ch.state)),
        (prefix + "ChannelStateDesc", STATE_DESC.get(ch.state, "Unknown")),
        (prefix + "CallerIDNum", unk(ch.caller_num)),
        (prefix + "CallerIDName", unk(ch.caller_name)),
        (prefix + "ConnectedLineNum", unk(ch.connected_num)),
        (prefix + "ConnectedLineName", unk(ch.connected_name)),
        (prefix + "Language", "en"),
        (prefix + "AccountCode", ""),
        (prefix + "Context", ch.context),
        (prefix + "Exten", ch.exten),
        (prefix + "Priority", str(ch.priority)),
        (prefix + "Uniqueid", ch.uniqueid),
        (prefix + "Linkedid", ch.linkedid),
    ]


def bridge_block(b: VBridge) -> Headers:
    return [
        ("BridgeUniqueid", b.id),
        ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", str(len(b.members))),
        ("BridgeVideoSourceMode", "none"),
    ]


def _tone(seconds: float, freq: float, rate: int = 8000) -> bytes:
    """Synthetic speech stand-in: a sine tone (numpy, so an hour-long call does not stall the loop)."""
    import numpy as np

    n = max(0, int(round(seconds * rate)))
    samples = 6000 * np.sin(np.arange(n, dtype=np.float64) * (2 * math.pi * freq / rate))
    return samples.astype("<i2").tobytes()


def _write_wav(path: Path, pcm: bytes) -> None:
    import os
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)
    os.replace(tmp, path)  # Asterisk's file appears complete to a reader only at the end, as here


def _write_legs(files: tuple[Path, Path, Path], seconds: float) -> None:
    mix, inbound, outbound = files
    try:
        _write_wav(inbound, _tone(seconds, 300.0))
        _write_wav(outbound, _tone(seconds, 500.0))
        _write_wav(mix, _tone(seconds, 400.0))
    except OSError as exc:
        log.error("virtual MixMonitor could not write %s: %s", inbound, exc)


class VirtualPbx:
    def __init__(
        self,
        clock: Clock,
        *,
        agi_connect: Callable[[VChannel, str, list[str]], Any] | None = None,
        trunk: str = "trunk",
        monitor_dirs: tuple[str, Path] = ("/var/spool/asterisk/monitor", Path("recordings")),
        epoch: int | None = None,
    ) -> None:
        self.clock = clock
        self.trunk = trunk
        self.monitor_dirs = monitor_dirs
        self.agi_connect = agi_connect  # set by the FastAGI face: runs one AGI session, returns when it ends
        self.channels: dict[str, VChannel] = {}
        self.bridges: dict[str, VBridge] = {}
        self.endpoints: dict[str, CalleeBehavior] = {}
        self.trunk_callee: Callable[[str], CalleeBehavior] = lambda number: CalleeBehavior()
        # endpoints not in ``endpoints``: asked per offer (endpoint, how many offers it had before)
        self.endpoint_callee: Callable[[str, int], CalleeBehavior] | None = None
        self.offers: dict[str, int] = {}
        self.listeners: list[Callable[[Headers], None]] = []
        self._seq = itertools.count()
        self._hex = itertools.count(1)
        self._epoch = epoch if epoch is not None else int(clock.now())
        self._tasks = TaskSet(log, "virtual PBX")
        self.booted = clock.now()
        # MixMonitor legs as real WAV files; off in virtual time, where a day of audio would be gigabytes
        self.write_audio = True

    # ---- plumbing ---------------------------------------------------------------------------------
    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name)

    async def close(self) -> None:
        await self._tasks.cancel_all()

    def emit(self, event: str, privilege: str, body: Headers) -> None:
        headers: Headers = [("Event", event), ("Privilege", f"{privilege},all"),
                            ("Timestamp", f"{self.clock.now():.6f}"), *body]  # fmt: skip
        for listener in list(self.listeners):
            listener(headers)

    def ev(self, event: str, ch: VChannel, *extra: tuple[str, str], privilege: str = "call") -> None:
        self.emit(event, privilege, [*channel_block(ch), *extra])

    def _uid(self) -> str:
        return f"{self._epoch}.{next(self._seq)}"

    def _new_channel(self, endpoint: str, context: str, exten: str, state: int, uniqueid: str | None = None,
                     caller_num: str = "", caller_name: str = "", linkedid: str = "") -> VChannel:  # fmt: skip
        uid = uniqueid or self._uid()
        name = f"PJSIP/{endpoint}-{next(self._hex):08x}"
        ch = VChannel(uid, linkedid or uid, name, endpoint, state=state, context=context, exten=exten,
                      caller_num=caller_num, caller_name=caller_name, created=self.clock.now())  # fmt: skip
        self.channels[uid] = ch
        self.ev("Newchannel", ch)
        return ch

    def _set_state(self, ch: VChannel, state: int) -> None:
        if ch.state != state:
            ch.state = state
            self.ev("Newstate", ch)
            if state == 6 and ch.answered is None:
                ch.answered = self.clock.now()
            ch.poke()  # the caller's phone (and anything else waiting on this channel) reacts at once

    def _exten(self, ch: VChannel, context: str, exten: str, priority: int, app: str, data: str = "") -> None:
        ch.context, ch.exten, ch.priority, ch.app, ch.app_data = context, exten, priority, app, data
        self.ev("Newexten", ch, ("Extension", exten), ("Application", app), ("AppData", data), privilege="dialplan")

    def _varset(self, ch: VChannel | None, name: str, value: str) -> None:
        if ch is None:
            self.emit("VarSet", "dialplan", [("Channel", "none"), ("Uniqueid", "none"), ("Variable", name),
                                             ("Value", value)])  # fmt: skip
        else:
            self.ev("VarSet", ch, ("Variable", name), ("Value", value), privilege="dialplan")

    async def _wait(self, ch: VChannel, seconds: float | None, until: Callable[[], bool]) -> bool:
        """Sleep up to ``seconds`` (None = forever) or until ``until()``; True if the condition came true."""
        deadline = None if seconds is None else self.clock.monotonic() + seconds
        while not until():
            ch.events.clear()
            remaining = None if deadline is None else deadline - self.clock.monotonic()
            if remaining is not None and remaining <= 1e-9:  # float remainders: close enough is there
                return False
            waiter = asyncio.ensure_future(ch.events.wait())
            sleeper = asyncio.ensure_future(self.clock.sleep(remaining)) if remaining is not None else None
            pending = [waiter, *([sleeper] if sleeper else [])]
            try:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for p in pending:
                    p.cancel()
        return True

    # ---- inbound calls ------------------------------------------------------------------------------
    def inbound(self, script: CallerScript) -> VChannel:
        """A call from the carrier: runs the caller's side and the dialplan in a task; returns the channel."""
        ch = self._new_channel(self.trunk, dp.TRUNK_CONTEXT, script.did, 4, caller_num=script.caller)
        self._spawn(self._inbound(ch, script), f"inbound:{ch.uniqueid}")
        return ch

    async def _inbound(self, ch: VChannel, script: CallerScript) -> None:
        self._spawn(self._caller_side(ch, script), f"caller:{ch.uniqueid}")
        self._exten(ch, dp.TRUNK_CONTEXT, script.did, 1, "NoOp", f"hotline inbound to {script.did}")
        self._exten(ch, dp.TRUNK_CONTEXT, script.did, 2, "Set", "AGISIGHUP=yes")
        self._exten(ch, dp.TRUNK_CONTEXT, script.did, 3, "AGI", dp.agi_app_data(dp.IVR_ROUTE, script.did))
        if not ch.alive:
            return
        status = await self._agi(ch, dp.IVR_ROUTE, [script.did])
        if not ch.alive:
            return  # hung up during the AGI (fixture ivr_hangup): _agi reported it as Asterisk does
        if status == "SUCCESS" and ch.agi_goto is not None:
            context, exten, _ = ch.agi_goto
        else:
            self._exten(ch, dp.TRUNK_CONTEXT, script.did, 4, "NoOp", f"AGISTATUS={status}")
            self._exten(ch, dp.TRUNK_CONTEXT, script.did, 5, "Goto", f"{dp.DEGRADED_CONTEXT},{dp.START},{dp.FIRST}")
            context, exten = dp.DEGRADED_CONTEXT, dp.START
        await self._run_context(ch, context, exten)

    async def _run_context(self, ch: VChannel, context: str, exten: str) -> None:
        if context == dp.CONNECT_CONTEXT:
            target = ch.variables.get("HOTLINE_SESSION", "")
            self._exten(ch, context, exten, 1, "NoOp", f"into the session {target}")
            self._exten(ch, context, exten, 2, "Bridge", f"{target},{dp.bridge_return(dp.AGENT_CONTEXT)}")
            await self.exec_bridge(ch, f"{target},{dp.bridge_return(dp.AGENT_CONTEXT)}")
            if ch.alive:  # the agent ended the call: the caller goes on to Hangup()
                self._exten(ch, context, exten, 3, "Hangup", "")
                self._hangup(ch, 16, requested_by_far_end=False)
            return
        if context == dp.AGENT_CONTEXT:
            self._exten(ch, context, exten, 1, "NoOp", "always-on agent session")
            self._exten(ch, context, exten, 2, "MusicOnHold", "default")
            ch.on_moh = True
            self.ev("MusicOnHoldStart", ch, ("Class", "default"))
            # a bridged customer takes the agent out of the music; F() brings it back here afterwards
            await self._wait(ch, None, lambda: not ch.alive or ch.bridge is not None)
            return
        if context == dp.WAIT_CONTEXT:
            self._exten(ch, context, exten, 1, "NoOp", "waiting for an agent")
            self._exten(ch, context, exten, 2, "MusicOnHold", "default,3600")
            ch.on_moh = True
            self.ev("MusicOnHoldStart", ch, ("Class", "default"))
            ch.poke()
            await self._wait(ch, 3600, lambda: not ch.alive or ch.bridge is not None or ch.redirect is not None)
            if ch.alive and ch.redirect is not None and ch.bridge is None:
                target, ch.redirect = ch.redirect, None
                ch.on_moh = False
                self.ev("MusicOnHoldStop", ch)
                await self._run_context(ch, *target)
                return
            if ch.alive and ch.bridge is None:
                self._hangup(ch, 16, requested_by_far_end=False)
            return
        if context == dp.ANNOUNCE_CONTEXT:
            await self._announce(ch, exten)
            return
        if context == dp.VOICEMAIL_CONTEXT:
            self._exten(ch, context, exten, 1, "NoOp", "voicemail")
            self._exten(ch, context, exten, 2, "AGI", dp.agi_app_data(dp.VOICEMAIL_ROUTE))
            await self._agi(ch, dp.VOICEMAIL_ROUTE, [])
            if ch.alive:
                self._exten(ch, context, exten, 3, "Hangup", "")
                self._hangup(ch, 16, requested_by_far_end=False)
            return
        # engine-degraded, engine-timeout (and anything unknown): apology, then hang up
        self._exten(ch, context, exten, 1, "NoOp", f"{context}: apology")
        self._exten(ch, context, exten, 3, "Playback", "please-try-again")
        await self._wait(ch, PROMPT_SECONDS["please-try-again"], lambda: not ch.alive)
        if ch.alive:
            self._hangup(ch, 16, requested_by_far_end=False)

    async def _agi(self, ch: VChannel, script: str, args: list[str]) -> str:
        """Run one FastAGI session on ``ch`` from the dialplan; the status (SUCCESS, FAILURE, HANGUP)."""
        status = "FAILURE"
        if self.agi_connect is not None:
            ch.in_agi = True
            try:
                status = await self.agi_connect(ch, script, args)
            finally:
                ch.in_agi = False
        self._varset(ch, "AGISTATUS", status if ch.alive else "HANGUP")
        if not ch.alive:
            self.ev("SoftHangupRequest", ch, ("Cause", "16"))
            self._finish_hangup(ch, 0)
        return status

    async def _listen(self, ch: VChannel, seconds: float, digits: bool = False) -> bool:
        """The caller hears ``seconds`` of sound. False if it was taken away meanwhile: hung up, pulled into a
        bridge (an agent answered), or redirected (whose target then runs here)."""
        await self._wait(ch, seconds, lambda: not ch.alive or ch.bridge is not None or ch.redirect is not None
                         or (digits and bool(ch.digits)))  # fmt: skip
        if not ch.alive or ch.bridge is not None:
            return False
        if ch.redirect is not None:
            target, ch.redirect = ch.redirect, None
            await self._run_context(ch, *target)
            return False
        return True

    async def _announce(self, ch: VChannel, exten: str) -> None:
        """engine-announce (asterisk-conf/extensions.conf): ``s`` plays the prompt, the position and the wait,
        ``offer`` reads one digit after the call-back offer; then back to engine-wait."""
        ctx = dp.ANNOUNCE_CONTEXT
        prompt = ch.variables.get("HOTLINE_ANNOUNCE", "")
        if exten == dp.OFFER_EXTEN:
            self._exten(ch, ctx, exten, 1, "NoOp", "call-back offer")
            self._exten(ch, ctx, exten, 2, "Read", f"HOTLINE_KEY,{prompt},1,,1,5")
            ch.digits.clear()  # Read() hears only what is pressed from now on
            if not await self._listen(ch, PROMPT_SECONDS.get(prompt, DEFAULT_PROMPT_SECONDS) + 5.0, digits=True):
                return
            key = ch.digits.pop(0) if ch.digits else ""
            self._varset(ch, "HOTLINE_KEY", key)
            if key == "1":
                self._exten(ch, ctx, exten, 5, "AGI", dp.agi_app_data(dp.QUEUE_CALLBACK_ROUTE))
                ch.agi_goto = None
                status = await self._agi(ch, dp.QUEUE_CALLBACK_ROUTE, [])
                if not ch.alive:
                    return
                if status == "SUCCESS" and ch.agi_goto is not None:
                    target, ch.agi_goto = ch.agi_goto, None
                    await self._run_context(ch, target[0], target[1])
                    return
                self._exten(ch, ctx, exten, 6, "Hangup", "")
                self._hangup(ch, 16, requested_by_far_end=False)
                return
        else:
            self._exten(ch, ctx, exten, 1, "NoOp", "announcement")
            parts = PROMPT_SECONDS.get(prompt, DEFAULT_PROMPT_SECONDS) if prompt else 0.0
            parts += 3 * PART_SECONDS if ch.variables.get("HOTLINE_POS") else 0.0
            parts += 3 * PART_SECONDS if ch.variables.get("HOTLINE_EWT") else 0.0
            self._exten(ch, ctx, exten, 2, "Playback", prompt or "queue-thereare")
            if not await self._listen(ch, parts):
                return
        self._exten(ch, ctx, exten, 9, "Goto", f"{dp.WAIT_CONTEXT},{dp.START},{dp.FIRST}")
        await self._run_context(ch, dp.WAIT_CONTEXT, dp.START)

    async def _caller_side(self, ch: VChannel, script: CallerScript) -> None:
        """What the caller's phone does, on its own clock: digits, holds, giving up, hanging up."""
        await self.clock.sleep(0.05)  # the carrier's 200 OK comes right after the AGI's ANSWER
        await self._wait(ch, None, lambda: ch.answered is not None or not ch.alive)
        if not ch.alive:
            return
        t0 = ch.answered or self.clock.now()
        plan: list[tuple[float, str, Any]] = [(t, "digit", d) for t, d in script.digits]
        for at, secs in script.holds:
            plan += [(at, "hold", None), (at + secs, "unhold", None)]
        if script.hangup_at is not None:
            plan.append((script.hangup_at, "hangup", None))
        plan.sort(key=lambda x: x[0])
        talk_task = None
        if script.talk is not None or script.patience is not None or script.talk_holds:
            talk_task = self._spawn(self._caller_patience(ch, script), f"patience:{ch.uniqueid}")
        for at, what, arg in plan:
            delay = t0 + at - self.clock.now()
            if delay > 0:
                await self._wait(ch, delay, lambda: not ch.alive)
            if not ch.alive:
                break
            if what == "digit":
                ch.digits.append(arg)
                ch.poke()
            elif what == "hold":
                self.ev("Hold", ch)
            elif what == "unhold":
                self.ev("Unhold", ch)
            elif what == "hangup":
                self._hangup(ch, 16, requested_by_far_end=True)
        if talk_task is not None:
            await talk_task

    async def _caller_patience(self, ch: VChannel, script: CallerScript) -> None:
        if script.patience is not None:
            await self._wait(ch, None, lambda: not ch.alive or ch.on_moh or ch.bridge is not None)
            if not ch.alive:
                return
            if ch.bridge is None:
                got = await self._wait(ch, script.patience, lambda: not ch.alive or ch.bridge is not None)
                if not got and ch.alive:
                    self._hangup(ch, 16, requested_by_far_end=True)  # abandoned
                    return
        if script.talk is not None or script.talk_holds:
            await self._wait(ch, None, lambda: not ch.alive or ch.bridge is not None)
            if not ch.alive:
                return
            connected = self.clock.monotonic()
            plan = sorted([(a, "hold") for a, _ in script.talk_holds]
                          + [(a + d, "unhold") for a, d in script.talk_holds])  # fmt: skip
            if script.talk is not None:
                plan.append((script.talk, "hangup"))
            for at, what in plan:
                await self._wait(ch, max(0.0, connected + at - self.clock.monotonic()), lambda: not ch.alive)
                if not ch.alive:
                    return
                if what == "hold":
                    self.ev("Hold", ch)
                elif what == "unhold":
                    self.ev("Unhold", ch)
                else:
                    self._hangup(ch, 16, requested_by_far_end=True)
                    return

    # ---- hang-up -------------------------------------------------------------------------------------
    def _hangup(self, ch: VChannel, cause: int, requested_by_far_end: bool) -> None:
        """Hang a channel up the way Asterisk reports it for its situation (see the recorded flows)."""
        if not ch.alive:
            return
        if requested_by_far_end:
            self.ev("HangupRequest", ch)
        ch.alive = False
        ch.poke()
        if ch.in_agi:
            return  # the AGI face sends HANGUP; _inbound finishes the channel when the session ends
        if ch.on_moh:
            ch.on_moh = False
            self.ev("MusicOnHoldStop", ch)
        if ch.bridge is not None:
            self._leave_bridge_and_end(ch, cause)
            return
        if requested_by_far_end:
            self.ev("SoftHangupRequest", ch, ("Cause", "16"))
            self._finish_hangup(ch, 0)
        else:
            self._finish_hangup(ch, cause)

    def _finish_hangup(self, ch: VChannel, cause: int) -> None:
        if ch.uniqueid not in self.channels:
            return
        self._stop_monitor(ch)
        self.stop_amd_sample(ch)
        del self.channels[ch.uniqueid]
        self.ev("Hangup", ch, ("Cause", str(cause)), ("Cause-txt", CAUSE_TXT.get(cause, "Unknown")))

    def _leave_bridge_and_end(self, first: VChannel, cause: int, end_first: bool = True) -> None:
        bridge = first.bridge
        assert bridge is not None
        others = [m for m in bridge.members if m is not first]
        self._bridge_leave(first)
        for other in others:
            self._bridge_leave(other)
        self.emit("BridgeDestroy", "call", bridge_block(bridge))
        self.bridges.pop(bridge.id, None)
        if end_first:
            self._finish_hangup(first, cause)
        for other in others:
            if not other.alive:
                continue
            if other.in_agi:
                other.poke()  # its Bridge() returns and the AGI goes on
            elif other.after_bridge is not None:
                target, other.after_bridge = other.after_bridge, None
                self._spawn(self._run_context(other, *target), f"after-bridge:{other.uniqueid}")
            else:
                other.alive = False
                other.poke()
                self._finish_hangup(other, cause)

    def _bridge_leave(self, ch: VChannel) -> None:
        bridge = ch.bridge
        if bridge is None:
            return
        bridge.members.remove(ch)
        ch.bridge = None
        if ch.monitor and ch.monitor.bridged_since is not None:
            ch.monitor.bridged += self.clock.now() - ch.monitor.bridged_since
            ch.monitor.bridged_since = None
        self.emit("BridgeLeave", "call", [*bridge_block(bridge), *channel_block(ch)])

    # ---- originate -----------------------------------------------------------------------------------
    def originate(self, headers: dict[str, str], action_id: str, variables: dict[str, str] | None = None) -> str | None:
        """Start an Originate; returns an error message for the immediate response, or None on success.
        ``variables``: its ``Variable`` headers, set on the channel."""
        target = headers.get("channel", "")
        if not target:
            return "Channel not specified"
        if not target.startswith("PJSIP/"):
            return "Invalid channel"
        if "application" not in headers and "exten" not in headers:
            return "Originate with 'Exten' requires 'Context' and 'Priority'"
        try:
            timeout = int(headers.get("timeout", "30000")) / 1000
        except ValueError:
            return "Invalid timeout"
        uid = headers.get("channelid") or self._uid()
        if len(uid) > 149:
            return "Uniqueid length exceeds maximum of 149"
        self._spawn(self._originate(target, headers, action_id, uid, timeout, dict(variables or {})),
                    f"originate:{uid}")  # fmt: skip
        return None

    async def _originate(self, target: str, h: dict[str, str], action_id: str, uid: str, timeout: float,
                         variables: dict[str, str]) -> None:  # fmt: skip
        dest = target[len("PJSIP/") :]
        number, _, via = dest.partition("@")
        if via:
            behavior = self.trunk_callee(number)
            endpoint, context = via, dp.TRUNK_CONTEXT
        else:
            n = self.offers.get(number, 0)
            self.offers[number] = n + 1
            behavior = self.endpoints.get(number) or (
                self.endpoint_callee(number, n) if self.endpoint_callee else CalleeBehavior("unavailable")
            )
            endpoint, context = number, dp.AGENTS_CONTEXT
        cid_name, cid_num = _parse_callerid(h.get("callerid", ""))
        if behavior.kind == "unavailable":
            self._originate_response(action_id, False, target, uid, 0, h)
            return
        ch = self._new_channel(endpoint, context, dp.START, 0, uniqueid=uid, caller_num=cid_num, caller_name=cid_name)
        ch.connected_num, ch.connected_name = cid_num, cid_name
        ch.variables.update(variables)
        self.ev("NewCallerid", ch, ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"))
        self.ev("NewConnectedLine", ch)
        self.emit("DialBegin", "call", [*channel_block(ch, "Dest"), ("DialString", dest)])
        await self.clock.sleep(0.001)  # a loopback 180 or 486 follows the INVITE within a millisecond (lab)
        if behavior.kind in ("busy", "congestion"):
            cause = 17 if behavior.kind == "busy" else 34
            self.ev("HangupRequest", ch, ("Cause", str(cause)))
            self.emit("DialEnd", "call", [*channel_block(ch, "Dest"), ("DialStatus", behavior.kind.upper())])
            self._originate_response(action_id, False, target, uid, 0, h)
            ch.alive = False
            self._finish_hangup(ch, cause)
            return
        self._set_state(ch, 5)
        self.emit("DialState", "call", [*channel_block(ch, "Dest"), ("DialStatus", "RINGING")])
        answer_in = behavior.answer_after if behavior.kind == "answer" else None
        ring_for = timeout if answer_in is None else min(timeout, answer_in)
        await self._wait(ch, ring_for, lambda: not ch.alive)
        if not ch.alive:  # hung up by AMI while ringing
            self.emit("DialEnd", "call", [*channel_block(ch, "Dest"), ("DialStatus", "NOANSWER")])
            self._originate_response(action_id, False, target, uid, 0, h)
            self._finish_hangup(ch, 0)
            return
        if answer_in is None or answer_in > timeout:
            self._originate_response(action_id, False, target, uid, 3, h)
            ch.alive = False
            self._finish_hangup(ch, 19)
            return
        self._set_state(ch, 6)
        self.emit("DialEnd", "call", [*channel_block(ch, "Dest"), ("DialStatus", "ANSWER")])
        if behavior.talk is not None:
            self._spawn(self._callee_hangs_up(ch, behavior.talk), f"callee:{uid}")
        app = h.get("application", "")

        def respond() -> None:
            self._originate_response(action_id, True, ch.name, uid, 4, h)

        if app.lower() == "bridge":
            # as recorded: the OriginateResponse lands while the bridge is being built
            await self._bridge_app(ch, h.get("data", "").split(",")[0], respond)
            return
        respond()
        if app.lower() == "wait":
            try:
                secs = float(h.get("data", "0") or 0)
            except ValueError:
                secs = 0.0
            await self._wait(ch, secs, lambda: not ch.alive)
            if ch.alive:
                self._hangup(ch, 0, requested_by_far_end=False)
        elif not app and h.get("context") == dp.OUTBOUND_CONTEXT:
            await self._outbound(ch, h.get("exten", ""), behavior)
        elif not app and h.get("context") == dp.AGENT_CONTEXT:
            await self._run_context(ch, dp.AGENT_CONTEXT, h.get("exten", dp.START))
        elif not app and h.get("context") == dp.CALLBACK_CONTEXT:
            await self._dial_back(ch, h.get("exten", ""))
        else:
            await self._wait(ch, None, lambda: not ch.alive)

    async def _outbound(self, ch: VChannel, exten: str, b: CalleeBehavior) -> None:
        """engine-originate: ``amd`` runs AMD() then hands the verdict to the engine's ``outbound`` AGI;
        ``live`` (AMD off) goes to the AGI at once. The channel hangs up when the AGI ends."""
        status = cause = ""
        priority = 1
        if exten == dp.AMD_EXTEN:
            sample = ch.variables.get("HOTLINE_AMD_REC", "")
            self._exten(ch, dp.OUTBOUND_CONTEXT, exten, 1, "ExecIf", f'$["{sample}" != ""]?MixMonitor({sample})')
            if sample:
                ch.amd_sample = (self._local(sample), self.clock.now())
                self.ev("MixMonitorStart", ch)
            self._exten(ch, dp.OUTBOUND_CONTEXT, exten, 2, "AMD", "")
            await self._wait(ch, b.amd_after, lambda: not ch.alive)
            status, cause = (b.amd, b.amd_cause) if ch.alive else ("HANGUP", "")
            self._varset(ch, "AMDSTATUS", status)
            self._varset(ch, "AMDCAUSE", cause)
            priority = 3
            if not ch.alive:
                self._finish_hangup(ch, 16)
                return
        self._exten(ch, dp.OUTBOUND_CONTEXT, exten, priority, "AGI", dp.agi_app_data(dp.OUTBOUND_ROUTE, status, cause))
        result = "FAILURE"
        if self.agi_connect is not None:
            ch.in_agi = True
            try:
                result = await self.agi_connect(ch, dp.OUTBOUND_ROUTE, [status, cause])
            finally:
                ch.in_agi = False
        self._varset(ch, "AGISTATUS", result if ch.alive else "HANGUP")
        if not ch.alive:
            self.ev("SoftHangupRequest", ch, ("Cause", "16"))
            self._finish_hangup(ch, 16)
            return
        self._exten(ch, dp.OUTBOUND_CONTEXT, exten, priority + 1, "Hangup", "")
        self._hangup(ch, 16, requested_by_far_end=False)

    async def _dial_back(self, agent: VChannel, number: str) -> None:
        """engine-callback: the answered agent leg runs Dial(PJSIP/<number>@trunk,30); the two share a bridge
        until one hangs up, and then the other is hung up (no F() here)."""
        ctx = dp.CALLBACK_CONTEXT
        self._exten(agent, ctx, number, 1, "NoOp", f"call back to {number}")
        self._exten(agent, ctx, number, 2, "Dial", f"PJSIP/{number}@trunk,30")
        b = self.trunk_callee(number)
        status = {"busy": "BUSY", "congestion": "CONGESTION", "unavailable": "CHANUNAVAIL"}.get(b.kind, "")
        out: VChannel | None = None
        if b.kind != "unavailable":
            out = self._new_channel(self.trunk, dp.TRUNK_CONTEXT, dp.START, 0, caller_num=agent.caller_num,
                                    caller_name=agent.caller_name, linkedid=agent.linkedid)  # fmt: skip
            self.emit("DialBegin", "call", [*channel_block(agent), *channel_block(out, "Dest"),
                                            ("DialString", f"{number}@trunk")])  # fmt: skip
            await self.clock.sleep(0.01)
        if out is not None and not status:
            self._set_state(out, 5)
            self.emit("DialState", "call", [*channel_block(agent), *channel_block(out, "Dest"),
                                            ("DialStatus", "RINGING")])  # fmt: skip
            answer_in = b.answer_after if b.kind == "answer" else None
            ring_for = 30.0 if answer_in is None else min(30.0, answer_in)
            await self._wait(out, ring_for, lambda: not agent.alive)
            status = "ANSWER" if agent.alive and answer_in is not None and answer_in <= 30.0 else "NOANSWER"
            if not agent.alive:
                status = "CANCEL"
        if out is not None:
            self.emit("DialEnd", "call", [*channel_block(agent), *channel_block(out, "Dest"), ("DialStatus", status)])
        self._varset(agent, "DIALSTATUS", status)
        if out is None or status != "ANSWER":
            if out is not None:
                out.alive = False
                self._finish_hangup(out, {"BUSY": 17, "CONGESTION": 34}.get(status, 0))
            if agent.alive:
                self._exten(agent, ctx, number, 3, "Hangup", "")
                self._hangup(agent, 16, requested_by_far_end=False)
            return
        self._set_state(out, 6)
        if b.talk is not None:
            self._spawn(self._callee_hangs_up(out, b.talk), f"callee:{out.uniqueid}")
        bridge = VBridge(str(uuid.uuid4()), since=self.clock.now())
        self.bridges[bridge.id] = bridge
        self.emit("BridgeCreate", "call", bridge_block(bridge))
        for m in (agent, out):
            bridge.members.append(m)
            m.bridge = bridge
            if m.monitor is not None:
                m.monitor.bridged_since = self.clock.now()
            self.emit("BridgeEnter", "call", [*bridge_block(bridge), *channel_block(m)])
        agent.poke()
        out.poke()
        await self._wait(agent, None, lambda: not agent.alive or agent.bridge is None)

    async def exec_bridge(self, ch: VChannel, data: str) -> int:
        """Bridge(channel[,F(context^exten^priority)]) run by ``ch`` from its AGI: ``ch`` and the other channel
        share a bridge until one leaves; the other goes to F()'s destination when ``ch`` leaves."""
        target_name, _, options = data.partition(",")
        other = next((c for c in self.channels.values() if c.name == target_name and c.alive), None)
        if other is None or other is ch or other.bridge is not None:
            self._varset(ch, "BRIDGERESULT", "NONEXISTENT" if other is None else "FAILURE")
            return 0
        dest = _option_arg(options, "F")
        if dest:
            ctx, exten, *_ = [*dest.split("^"), dp.START, dp.FIRST]
            other.after_bridge = (ctx, exten)
        bridge = VBridge(str(uuid.uuid4()), since=self.clock.now())
        self.bridges[bridge.id] = bridge
        self.emit("BridgeCreate", "call", bridge_block(bridge))
        if other.on_moh:
            other.on_moh = False
            self.ev("MusicOnHoldStop", other)
        for m in (ch, other):
            bridge.members.append(m)
            m.bridge = bridge
            if m.monitor is not None:
                m.monitor.bridged_since = self.clock.now()
            self.emit("BridgeEnter", "call", [*bridge_block(bridge), *channel_block(m)])
        ch.connected_num, ch.connected_name = other.caller_num, other.caller_name
        other.connected_num, other.connected_name = ch.caller_num, ch.caller_name
        self.ev("NewConnectedLine", ch)
        self.ev("NewConnectedLine", other)
        ch.poke()  # the far end's phone starts its talk
        other.poke()
        await self._wait(ch, None, lambda: not ch.alive or ch.bridge is None)
        if ch.bridge is not None:  # ``ch`` hung up while bridged (its hang-up waits for the AGI to end)
            self._leave_bridge_and_end(ch, 16, end_first=False)
        self._varset(ch, "BRIDGERESULT", "SUCCESS")
        return 0 if ch.alive else -1

    async def _callee_hangs_up(self, ch: VChannel, talk: float) -> None:
        await self._wait(ch, None, lambda: not ch.alive or ch.bridge is not None)
        await self._wait(ch, talk, lambda: not ch.alive)
        if ch.alive:
            self._hangup(ch, 16, requested_by_far_end=True)

    def _originate_response(self, action_id: str, ok: bool, channel: str, uid: str, reason: int,
                            h: dict[str, str]) -> None:  # fmt: skip
        cid_name, cid_num = _parse_callerid(h.get("callerid", ""))
        body: Headers = [("ActionID", action_id)] if action_id else []
        body += [("Response", "Success" if ok else "Failure"), ("Channel", channel)]
        if "application" in h:
            body += [("Application", h.get("application", "")), ("Data", h.get("data", ""))]
        else:
            body += [("Context", h.get("context", "")), ("Exten", h.get("exten", ""))]
        body += [("Reason", str(reason)), ("Uniqueid", uid), ("CallerIDNum", cid_num or "<unknown>"),
                 ("CallerIDName", cid_name or "<unknown>")]  # fmt: skip
        self.emit("OriginateResponse", "call", body)

    async def _bridge_app(self, agent: VChannel, target_name: str, respond: Callable[[], None]) -> None:
        caller = next((c for c in self.channels.values() if c.name == target_name and c.alive), None)
        if caller is None:
            respond()
            self._hangup(agent, 16, requested_by_far_end=False)
            return
        if caller.bridge is not None:
            # Bridge() pulls the caller out of the bridge it is in; the leg left behind ends with its Bridge()
            self._leave_bridge_and_end(caller, 16, end_first=False)
        bridge = VBridge(str(uuid.uuid4()), since=self.clock.now())
        self.bridges[bridge.id] = bridge
        self.emit("BridgeCreate", "call", bridge_block(bridge))
        if caller.in_agi:
            caller.agi_dead = True  # a bridge yank sends HANGUP to the AGI session (docs/asterisk.md#agi-hangup)
            caller.poke()
        if caller.on_moh:
            caller.on_moh = False
            self.ev("MusicOnHoldStop", caller)
        respond()
        for ch in (caller, agent):
            bridge.members.append(ch)
            ch.bridge = bridge
            if ch is agent:
                ch.linkedid = caller.linkedid
            if ch.monitor is not None:
                ch.monitor.bridged_since = self.clock.now()
            self.emit("BridgeEnter", "call", [*bridge_block(bridge), *channel_block(ch)])
        agent.connected_num, agent.connected_name = caller.caller_num, caller.caller_name
        caller.connected_num, caller.connected_name = agent.caller_num, agent.caller_name
        self.ev("NewConnectedLine", agent)
        self.ev("NewConnectedLine", caller)
        caller.poke()
        await self._wait(agent, None, lambda: not agent.alive)

    # ---- AMI actions the engine uses -------------------------------------------------------------------
    def hangup_action(self, name: str, cause: int = 16) -> bool:
        ch = next((c for c in self.channels.values() if c.name == name or c.uniqueid == name), None)
        if ch is None:
            return False
        ringing = ch.state != 6 and ch.bridge is None and ch.context in (dp.AGENTS_CONTEXT, dp.TRUNK_CONTEXT)
        if ringing and not ch.in_agi:
            # a ringing originated leg: the originate task reports DialEnd/OriginateResponse/Hangup
            ch.alive = False
            ch.poke()
            return True
        self._hangup(ch, cause, requested_by_far_end=False)
        return True

    def setvar_action(self, name: str, variable: str, value: str) -> bool:
        ch = next((c for c in self.channels.values() if c.name == name and c.alive), None)
        if ch is None:
            return False
        ch.variables[variable] = value
        self._varset(ch, variable, value)
        return True

    def redirect_action(self, name: str, context: str, exten: str) -> bool:
        ch = next((c for c in self.channels.values() if c.name == name and c.alive), None)
        if ch is None:
            return False
        ch.redirect = (context, exten)
        ch.poke()
        return True

    def _local(self, path: str) -> Path:
        """A file Asterisk names in its monitor folder, as this machine sees it."""
        ast_dir, local_dir = self.monitor_dirs
        p = path if path.startswith("/") else f"{ast_dir}/{path}"
        rel = p[len(ast_dir) :].lstrip("/") if p.startswith(ast_dir) else Path(p).name
        return local_dir / rel

    def stop_amd_sample(self, ch: VChannel) -> None:
        """StopMixMonitor on an AMD call (or its hang-up): the mono file of the seconds since the answer."""
        if ch.amd_sample is None:
            return
        path, since = ch.amd_sample
        ch.amd_sample = None
        self.ev("MixMonitorStop", ch)
        if self.write_audio:
            seconds = max(0.0, self.clock.now() - since)
            path.parent.mkdir(parents=True, exist_ok=True)
            # written at once (a few seconds of audio, a few ms): Asterisk's file is complete at the hang-up, and a
            # busy thread pool must not hold it back past the engine's wait for it
            _write_wav(path, _tone(seconds, 350.0))

    def mixmonitor(self, name: str, file: str, options: str) -> bool:
        ch = next((c for c in self.channels.values() if c.name == name), None)
        if ch is None:
            return False
        ast_dir = self.monitor_dirs[0]
        local = self._local

        r = _option_arg(options, "r") or f"{file}-in"
        t = _option_arg(options, "t") or f"{file}-out"
        ch.monitor = MonitorState((local(file), local(r), local(t)))
        if ch.bridge is not None:
            ch.monitor.bridged_since = self.clock.now()
        self.ev("MixMonitorStart", ch)
        self._varset(ch, "MIXMONITOR_FILENAME", file if file.startswith("/") else f"{ast_dir}/{file}")
        return True

    def _stop_monitor(self, ch: VChannel) -> None:
        mon = ch.monitor
        if mon is None:
            return
        ch.monitor = None
        if mon.bridged_since is not None:
            mon.bridged += self.clock.now() - mon.bridged_since
        if not self.write_audio:
            return
        # synthesising an hour of audio takes a moment: off the event loop, like Asterisk's own writer thread
        self._spawn(asyncio.to_thread(_write_legs, mon.files, mon.bridged), f"mixmonitor:{ch.uniqueid}")

    def device_states(self) -> list[tuple[str, str]]:
        """PJSIP device states as DeviceStateList reports them (endpoints with a live channel are in use)."""
        busy: dict[str, str] = {}
        for ch in self.channels.values():
            busy[f"PJSIP/{ch.endpoint}"] = "RINGING" if ch.state == 5 else "INUSE"
        known = {f"PJSIP/{e}" for e in self.endpoints} | set(busy)
        return sorted((d, busy.get(d, "NOT_INUSE")) for d in known)

    def show_channels(self) -> list[Headers]:
        out = []
        now = self.clock.now()
        for ch in self.channels.values():
            secs = int(now - ch.created)
            out.append([
                *channel_block(ch), ("Application", ch.app), ("ApplicationData", ch.app_data),
                ("Duration", f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"),
                ("BridgeId", ch.bridge.id if ch.bridge else ""),
            ])  # fmt: skip
        return out


CAUSE_TXT = {0: "Unknown", 16: "Normal Clearing", 17: "User busy", 19: "User alerting, no answer",
             21: "Call Rejected", 34: "Circuit/channel congestion"}  # fmt: skip


def _parse_callerid(value: str) -> tuple[str, str]:
    value = value.strip()
    if "<" in value and value.endswith(">"):
        name, _, num = value[:-1].partition("<")
        return name.strip().strip('"'), num.strip()
    return "", value


def _option_arg(options: str, letter: str) -> str | None:
    i = 0
    while i < len(options):
        c = options[i]
        if i + 1 < len(options) and options[i + 1] == "(":
            end = options.index(")", i)
            if c == letter:
                return options[i + 2 : end]
            i = end + 1
        else:
            i += 1
    return None
