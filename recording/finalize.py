"""Start MixMonitor at connect; after the call, merge the legs into one stereo file (Ogg Opus by default)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import BrokenExecutor
from pathlib import Path

from engine.asterisk.ami_link import AmiDisconnected, AmiError
from engine.model.facts import fact_key
from engine.ports import Actions, Calls, Ledger, Records
from recording.encoder import EncoderPool, Merged, merge_and_store
from recording.mixmonitor import RecordingPaths
from recording.opus_lib import DEFAULT_COMPLEXITY

log = logging.getLogger("hotline.recording")


class Recorder:
    def __init__(self, *, actions: Actions, calls: Calls, ledger: Ledger, records: Records, asterisk_dir: str,
                 local_dir: Path, settle: float = 0.5, wait: float = 10.0, format: str = "opus",
                 bitrate: float = 16.0, complexity: int = DEFAULT_COMPLEXITY,
                 pool: EncoderPool | None = None) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.ledger = ledger
        self.records = records
        self.asterisk_dir = asterisk_dir  # [recording] asterisk_dir: the folder as Asterisk sees it
        self.local_dir = local_dir
        self.settle = settle
        self.wait = wait
        self.format = format  # [recording] format: opus or wav
        self.bitrate = bitrate  # [recording] bitrate, kbit/s of the whole Opus file
        self.complexity = complexity  # [recording] complexity, the Opus encoder's 0-10
        self.pool = pool  # [recording] encoders: worker processes for the merges; None: a thread of this process
        self.active: set[str] = set()
        self._finishing: set[str] = set()  # calls whose legs are being merged (a restart can ask twice)

    def busy(self) -> bool:
        """A recording still running or its legs still being merged: its ``recording.saved`` is yet to come."""
        return bool(self.active or self._finishing)

    def pending(self) -> int:
        """Calls whose ``recording.saved`` is yet to come (running or being merged)."""
        return len(self.active | self._finishing)

    async def start(self, call_id: str, channel: str) -> None:
        if call_id in self.active:
            return
        paths = RecordingPaths(call_id, self.asterisk_dir, self.local_dir)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while True:
            try:
                await self.actions.action(paths.mixmonitor_action(channel))
                break
            except AmiDisconnected as exc:
                # the link dropped around the action: once it is back and resynced, start it if the caller is
                # still there (an AMI cut must not leave a conversation unrecorded)
                if not await self._link_back(deadline):
                    log.error("call %s: recording could not start on %s: %s (link not back in %.0f s)",
                              call_id, channel, exc, self.wait)  # fmt: skip
                    return
                if self.calls.model.by_name(channel) is None:
                    log.info("call %s: caller left before the recording started", call_id)
                    return
                if await self._running(channel):  # the lost action had reached Asterisk
                    break
                log.warning("call %s: recording start retried on %s after the AMI link came back", call_id, channel)
            except AmiError as exc:
                if self.calls.model.by_name(channel) is None:
                    log.info("call %s: caller left before the recording started", call_id)
                else:
                    log.error("call %s: recording could not start on %s: %s", call_id, channel, exc)
                return
        self.active.add(call_id)
        await self.ledger.fact("recording.started", call_id, "", fact_key("recording.started", call_id),
                               file=paths.asterisk())  # fmt: skip

    async def _link_back(self, deadline: float) -> bool:
        # the link fails pending actions before it clears ``ready``: give it a moment to notice, then wait
        await asyncio.sleep(self.settle)
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(self.actions.ready.wait(), remaining)
        except TimeoutError:
            return False
        return True

    async def _running(self, channel: str) -> bool:
        """Whether MixMonitor already runs on ``channel`` (it sets MIXMONITOR_FILENAME when it starts)."""
        try:
            reply = await self.actions.action({"Action": "Getvar", "Channel": channel,
                                               "Variable": "MIXMONITOR_FILENAME"})  # fmt: skip
        except AmiError:
            return False
        value = str(reply.get("Value", ""))
        return bool(value) and value != "(null)"

    async def on_call_end(self, call_id: str) -> None:
        if call_id in self._finishing:
            return
        self._finishing.add(call_id)
        try:
            await self._finish(call_id)
        finally:
            self._finishing.discard(call_id)

    async def _finish(self, call_id: str) -> None:
        # ask the ledger, not memory: a recording started before an engine restart is finished too
        self.active.discard(call_id)
        kinds = {f.kind for f in await self.ledger.facts(call_id)}
        paths = RecordingPaths(call_id, self.asterisk_dir, self.local_dir)
        legs = [paths.local("-in"), paths.local("-out")]
        if kinds & {"recording.saved", "recording.empty"}:
            return
        if "recording.started" not in kinds:
            if not all(p.exists() for p in legs):
                return
            # MixMonitor started, then the engine died before writing so: the legs on disk say it did
            await self.ledger.fact("recording.started", call_id, "", fact_key("recording.started", call_id),
                                   file=paths.asterisk(), reconstructed=True)  # fmt: skip
        # Asterisk closes the files after the hang-up; wait until both exist and stop growing
        deadline = asyncio.get_running_loop().time() + self.wait
        last: tuple[int, ...] = ()
        while True:
            sizes = tuple(p.stat().st_size if p.exists() else -1 for p in legs)
            # both legs written and no longer growing (a call without media gives header-only files)
            if min(sizes) >= 44 and sizes == last:
                break
            if asyncio.get_running_loop().time() > deadline:
                log.error("call %s: recording legs not complete after %.0f s: %s", call_id, self.wait, sizes)
                await self._failed(call_id, f"legs not complete after {self.wait:.0f} s: sizes {sizes}")
                return
            last = sizes
            await asyncio.sleep(self.settle)
        try:
            if self.pool is not None:
                got = await self.pool.merge(legs, paths.stored(self.format), self.format, self.bitrate,
                                            self.complexity)  # fmt: skip
            else:
                got = await asyncio.to_thread(self._store, legs, paths.stored(self.format))
        except BrokenExecutor as exc:
            # a worker died (killed, out of memory): not this recording's fault; its legs stay for the next start
            log.error("call %s: the recording's encoder process died (%s); merged again at the next start",
                      call_id, exc)  # fmt: skip
            if self.pool is not None:
                self.pool.close()  # a fresh pool for the next merge
            return
        except (OSError, ValueError, RuntimeError) as exc:  # libsndfile's errors are RuntimeErrors
            log.error("call %s: could not store the recording: %s", call_id, exc)
            await self._failed(call_id, f"could not merge and encode the legs: {exc}")
            return
        if got is None:
            # MixMonitor records bridged audio only: started while the agent's phone rang, it heard nothing if the
            # caller left before the answer. No file, no index row: nobody could listen to silence of 0 s.
            for p in [*legs, paths.local("-mix")]:
                p.unlink(missing_ok=True)
            await self.ledger.fact("recording.empty", call_id, "", fact_key("recording.empty", call_id),
                                   reason="no bridged audio: the call ended before an agent answered")  # fmt: skip
            log.info("call %s: no bridged audio, nothing kept", call_id)
            return
        kept, talk = got
        # the legs go only once the stored file decoded back whole
        for p in [*legs, paths.local("-mix")]:
            p.unlink(missing_ok=True)
        await self.ledger.fact("recording.saved", call_id, "", fact_key("recording.saved", call_id),
                               path=str(kept.path), seconds=round(kept.seconds, 3), channels=kept.channels,
                               format=kept.format, bytes=kept.bytes, sha256=kept.sha256, talk=talk)  # fmt: skip
        await self.records.update_record(call_id)
        log.info("call %s: recording %s (%.1f s, stereo %s, %d bytes)", call_id, kept.path, kept.seconds,
                 kept.format, kept.bytes)  # fmt: skip

    def _store(self, legs: list[Path], out: Path) -> Merged:
        return merge_and_store(legs, out, self.format, self.bitrate, self.complexity)

    async def _failed(self, call_id: str, reason: str) -> None:
        # on the record so a restart does not wait on the same missing files again (the legs, if any, stay)
        await self.ledger.fact("recording.failed", call_id, "", fact_key("recording.failed", call_id),
                               reason=reason[:200])  # fmt: skip
