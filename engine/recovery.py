"""Nothing lost while the engine was away: at every resync, close what ended meanwhile; at start, finish what
was left unfinished.

Facts are written under keys made from Asterisk's identifiers, so the engine recovers by idempotent replay:
what it missed, or saw but died before writing, is appended again from Asterisk's own records (CEL, then
CDR) and only what the ledger lacks is added. Write-ahead could not cover this: the facts are about what
Asterisk did, which happens whether or not the engine wrote anything first.

At every resync (start, AMI reconnect, Asterisk back), before the model takes the channel listing, each call
the ledger has open whose channels Asterisk no longer has is closed with ``engine/model/reconstruct.py``
(marked reconstructed, or approximate with the reason). At start, recordings whose call ended but which
were never saved (the engine killed between the hang-up and the merge) are finished.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Protocol

from engine.asterisk.ami_link import Resync
from engine.asterisk.call_logs import CdrCall, cel_at, parse_cdr_calls, parse_cel
from engine.clock import Clock
from engine.model.facts import Fact, fact_key
from engine.model.reconstruct import APPROXIMATE, call_channels, close_call, replay
from engine.ports import Actions, Calls, Ledger, Records, Spawner

log = logging.getLogger("hotline.recovery")

LOOKBACK = 7 * 86400.0  # calls older than this are not looked for (a ledger may hold years)
CHUNK = 1 << 20


def read_since(path: Path | None, since: float) -> str:
    """The tail of a CEL file from about ``since`` on: read backwards in chunks until a line older than it, so a
    file of years costs what its last hours do."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        pos = fh.tell()
        data = b""
        while pos > 0:
            step = min(CHUNK, pos)
            pos -= step
            fh.seek(pos)
            data = fh.read(step) + data
            lines = data.split(b"\n", 2)
            if pos > 0 and len(lines) > 2:
                at = cel_at(lines[1].decode("utf-8", "replace"))
                if at is not None and at < since:
                    break
    text = data.decode("utf-8", "replace")
    return text if pos == 0 else text.split("\n", 1)[1]


def read_text(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text("utf-8", "replace")


class CallEnds(Protocol):
    """The runtime's end of a call: its last facts written, its record derived, the end-of-call hooks run."""

    async def call_ended(self, call_id: str, facts: list[Fact]) -> None: ...


class Recovery:
    def __init__(self, *, actions: Actions, calls: Calls, ledger: Ledger, records: Records, ends: CallEnds,
                 spawner: Spawner, clock: Clock, cel_file: Path | None, cdr_file: Path | None,
                 agents_by_endpoint: Mapping[str, str]) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.ledger = ledger
        self.records = records
        self.ends = ends
        self.spawner = spawner
        self.clock = clock
        self.cel_file = cel_file
        self.cdr_file = cdr_file
        self.agents_by_endpoint = dict(agents_by_endpoint)
        self.closed = {"reconstructed": 0, "approximate": 0}

    async def on_resync(self, resync: Resync) -> None:
        """Engine resync hook: close every open call none of whose channels Asterisk still has."""
        ledger, model = self.ledger, self.calls.model
        live = model.live(resync.channels)  # a caller who came while Asterisk listed the channels is live too
        open_: dict[str, list[Fact]] = {}
        for call_id in await self.records.open_calls(self.clock.now() - LOOKBACK):
            open_[call_id] = await ledger.facts(call_id)
        # a call's first channel the ledger has never heard of: a caller who arrived while AMI was down
        firsts = [f.get("Uniqueid") for f in resync.channels if f.get("Linkedid") in ("", f.get("Uniqueid"))]
        unknown = {uid for uid in firsts if uid not in open_
                   and not any(f.kind == "channel.new" for f in await ledger.facts(uid))}  # fmt: skip
        if not open_ and not unknown:
            return
        since = min([f.at for facts in open_.values() for f in facts] + [self.clock.now() - 3600.0]) - 60.0
        try:
            cel = parse_cel(await asyncio.to_thread(read_since, self.cel_file, since))
        except OSError as exc:
            log.warning("could not read Asterisk's CEL file %s: %s", self.cel_file, exc)
            cel = []
        ended_in_cel = {e.uniqueid for e in cel if e.event in ("HANGUP", "CHAN_END")}
        cdr: dict[str, CdrCall] = {}
        if any(not call_channels(c, fs, cel) & live and c not in ended_in_cel for c, fs in open_.items()):
            try:  # the whole CDR file, only when CEL lacks a caller's end
                cdr = parse_cdr_calls(await asyncio.to_thread(read_text, self.cdr_file))
            except OSError as exc:
                log.warning("could not read Asterisk's CDR file %s: %s", self.cdr_file, exc)
        for e in cel:
            if e.event == "CHAN_START" and e.uniqueid in unknown and e.context in model.trunk_contexts:
                # learned from Asterisk's own record, with its times: not as new at the moment of the resync
                new = Fact("channel.new", e.at, e.uniqueid, e.uniqueid, fact_key("channel.new", e.uniqueid),
                           {"channel": e.channel, "role": "caller", "caller": e.caller, "exten": e.exten,
                            "context": e.context, "reconstructed": True})  # fmt: skip
                model.associate(e.uniqueid, e.uniqueid, "caller")
                await ledger.record([new, *replay(e.uniqueid, [new], cel, self.agents_by_endpoint)])
        for call_id, facts in open_.items():
            if call_channels(call_id, facts, cel) & live:
                # still going: what happened during the gap (a bridge entered, a leg hung up) is added now
                await ledger.record(replay(call_id, facts, cel, self.agents_by_endpoint))
                continue
            closing = close_call(call_id, facts, cel, cdr, self.agents_by_endpoint)
            self.closed[closing.closed] += 1
            if closing.closed == APPROXIMATE:
                log.warning("call %s closed approximately: %s", call_id, closing.reason)
            else:
                log.info("call %s ended while the engine was away: closed from Asterisk's records", call_id)
            await self.ends.call_ended(call_id, closing.facts)

    async def finish_recordings(self, finish: Callable[[str], Awaitable[None]]) -> None:
        """At start: records of ended calls that were never derived are derived; recordings started for calls
        that have ended but were neither saved nor given up on (the recorder's ``recording.failed``) within the
        look-back are finished by ``finish`` (the recorder's end-of-call step, which reads the ledger)."""
        await self.actions.ready.wait()
        since = self.clock.now() - LOOKBACK
        for call_id in await self.records.unrecorded_calls(since):
            # killed between the call's end and its record (two transactions): the ledger has all it needs
            if await self.records.update_record(call_id) is not None:
                log.info("call %s: its record, left underived by the last run, is derived now", call_id)
        kinds = ("recording.started", "recording.saved", "recording.failed", "recording.empty", "call.end")
        facts = await self.ledger.facts(None, kinds, since)
        started = {f.call_id for f in facts if f.kind == "recording.started"}
        done = {f.call_id for f in facts if f.kind in ("recording.saved", "recording.failed", "recording.empty")}
        ended = {f.call_id for f in facts if f.kind == "call.end"}
        for call_id in sorted((started & ended) - done):
            log.info("call %s: finishing its recording, left unsaved by the last run", call_id)
            self.spawner.spawn(finish(call_id), f"finish-recording:{call_id}")
