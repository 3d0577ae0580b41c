"""A call's legs stored as stereo Ogg Opus: decoded back to the right length, each side on its own channel, its
size within the storage goal; the recorder's end-of-call step writes the file, the fact with its checksum and
removes the legs."""

from __future__ import annotations

import asyncio
import os
import threading
import wave
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from engine.model.facts import Fact
from recording.encode import probe, read_pcm, sha256_of, store
from recording.encoder import NICE, EncoderPool
from recording.finalize import Recorder
from recording.mixmonitor import merge_legs
from recording.opus_lib import OpusError

RATE = 8000


def speechlike(seconds: float, seed: int) -> np.ndarray:
    """Noise shaped like speech (bursts of voiced sound and pauses, 300-3400 Hz): harder to compress than a tone."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = rng.normal(0, 1, n)
    spec = np.fft.rfft(noise)
    f = np.fft.rfftfreq(n, 1 / RATE)
    spec[(f < 300) | (f > 3400)] = 0
    band = np.fft.irfft(spec, n)
    bursts = (np.sin(2 * np.pi * 0.4 * np.arange(n) / RATE) > -0.2).astype(float)  # talk, pause, talk
    return (band / np.abs(band).max() * 12000 * bursts).astype(np.int16)


def tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def write_leg(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def dominant_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float)))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[int(spec.argmax())])


def test_opus_keeps_each_side_on_its_channel_and_its_length(tmp_path):
    write_leg(tmp_path / "in.wav", tone(20.0, 300.0))  # the caller: left
    write_leg(tmp_path / "out.wav", tone(17.5, 500.0))  # the agent: right, shorter (padded with silence)
    frames, rate = merge_legs(tmp_path / "in.wav", tmp_path / "out.wav")
    kept = store(frames, rate, tmp_path / "call.opus")
    assert kept.format == "opus" and kept.channels == 2
    assert kept.seconds == 20.0  # every sample that went in, no more (the pre-skip and the end are in the file)
    assert probe(kept.path) == (2, 20.0)
    back, back_rate = read_pcm(kept.path)
    assert back_rate == RATE
    assert dominant_hz(back[RATE:2 * RATE, 0]) == pytest.approx(300.0, abs=5)
    assert dominant_hz(back[RATE:2 * RATE, 1]) == pytest.approx(500.0, abs=5)
    # the agent's leg ended at 17.5 s: its side is silent after, the caller's is not
    assert np.abs(back[18 * RATE:, 1]).max() < 100 < np.abs(back[18 * RATE:, 0]).max()
    assert kept.bytes == kept.path.stat().st_size and kept.sha256 == sha256_of(kept.path)
    assert not list(tmp_path.glob("*.part"))


def sides_apart_db(frames: np.ndarray, path: Path, kbit_s: float) -> tuple[float, int]:
    """How far below the talker the silent side is, in dB, after a round trip through Opus; and the bytes."""
    kept = store(frames, RATE, path, kbit_s=kbit_s)
    back = read_pcm(kept.path)[0].astype(float)
    talk_left = np.abs(frames[:, 0]) > 0
    rms = lambda x: float(np.sqrt((x**2).mean()))  # noqa: E731
    return 20 * np.log10(rms(back[talk_left, 0]) / max(rms(back[talk_left, 1]), 1.0)), kept.bytes


def test_opus_of_a_speechlike_minute_keeps_the_sides_apart_within_the_storage_goal(tmp_path):
    # the caller talks 5 s, then the agent 5 s, and so on: the other side is silent meanwhile
    n = 60 * RATE
    turn = (np.arange(n) // (5 * RATE)) % 2
    frames = np.stack([speechlike(60.0, 1) * (turn == 0), speechlike(60.0, 2) * (turn == 1)], axis=1)
    frames = frames.astype(np.int16)
    apart, size = sides_apart_db(frames, tmp_path / "minute.opus", 16)
    assert size / 1e6 <= 0.12, f"{size / 1e6:.3f} MB for a minute"
    assert apart >= 25, f"the silent side is only {apart:.1f} dB below the talker"
    wav = store(frames, RATE, tmp_path / "minute.wav", fmt="wav")
    assert wav.bytes > 15 * size  # 16-bit stereo at 8 kHz: 1.92 MB a minute


def test_a_file_that_does_not_decode_back_whole_is_refused_and_not_left(tmp_path, monkeypatch):
    import recording.encode as enc

    def short_read(path: Any) -> tuple[np.ndarray, int]:
        data, rate = enc.sf.read(str(path), dtype="int16", always_2d=True)
        return data[: len(data) // 2], rate  # as a truncated stream decodes

    monkeypatch.setattr(enc, "read_pcm", short_read)
    frames = np.stack([tone(5.0, 300.0), tone(5.0, 500.0)], axis=1)
    with pytest.raises(ValueError, match="decoded 2 ch / 20000 frames"):
        store(frames, RATE, tmp_path / "x.opus")
    assert list(tmp_path.iterdir()) == []


class Ledger:
    def __init__(self) -> None:
        self.facts_: list[Fact] = [Fact("recording.started", 1.0, "c1", "", "recording.started:c1", {})]

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        self.facts_.append(Fact(kind, 2.0, call_id, uniqueid, key, data))

    async def facts(self, call_id: str | None = None, *_: Any) -> list[Fact]:
        return [f for f in self.facts_ if call_id is None or f.call_id == call_id]


def test_the_recorder_stores_opus_with_its_checksum_and_removes_the_legs(tmp_path):
    write_leg(tmp_path / "c1-in.wav", tone(3.0, 300.0))
    write_leg(tmp_path / "c1-out.wav", tone(3.0, 500.0))
    ledger = Ledger()
    updated: list[str] = []

    async def update_record(call_id: str) -> None:
        updated.append(call_id)

    rec = Recorder(actions=SimpleNamespace(), calls=SimpleNamespace(), ledger=ledger,  # type: ignore[arg-type]
                   records=SimpleNamespace(update_record=update_record), asterisk_dir="/var/spool/asterisk/monitor",
                   local_dir=tmp_path, settle=0.01, wait=2.0)  # fmt: skip
    asyncio.run(rec.on_call_end("c1"))
    saved = [f for f in ledger.facts_ if f.kind == "recording.saved"]
    assert len(saved) == 1
    d = saved[0].data
    out = tmp_path / "c1.opus"
    assert d["path"] == str(out) and d["format"] == "opus" and d["channels"] == 2
    assert d["bytes"] == out.stat().st_size and d["sha256"] == sha256_of(out)
    assert d["seconds"] == pytest.approx(3.0, abs=0.02)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1.opus"]  # the legs are gone
    assert updated == ["c1"]


def test_a_call_that_never_reached_an_answer_leaves_no_empty_recording(tmp_path):
    """MixMonitor records bridged audio only: started while the agent's phone rang, its legs are empty when the
    caller leaves first. No file and no index row; a fact says why."""
    write_leg(tmp_path / "c1-in.wav", np.zeros(0, np.int16))
    write_leg(tmp_path / "c1-out.wav", np.zeros(0, np.int16))
    ledger = Ledger()
    rec = Recorder(actions=SimpleNamespace(), calls=SimpleNamespace(), ledger=ledger,  # type: ignore[arg-type]
                   records=SimpleNamespace(), asterisk_dir="/var/spool/asterisk/monitor", local_dir=tmp_path,
                   settle=0.01, wait=2.0)  # fmt: skip
    asyncio.run(rec.on_call_end("c1"))
    assert [f.kind for f in ledger.facts_][1:] == ["recording.empty"]
    assert list(tmp_path.iterdir()) == []


def test_the_recorder_is_busy_until_a_finished_calls_merge_is_saved(tmp_path, monkeypatch):
    """A call that ended is no longer recording, but its file is not saved until the merge is done: a reader that
    waits for the saved facts (the site bench) must see the recorder busy until then."""
    write_leg(tmp_path / "c1-in.wav", tone(2.0, 300.0))
    write_leg(tmp_path / "c1-out.wav", tone(2.0, 500.0))
    ledger = Ledger()

    async def update_record(call_id: str) -> None:
        pass

    rec = Recorder(actions=SimpleNamespace(), calls=SimpleNamespace(), ledger=ledger,  # type: ignore[arg-type]
                   records=SimpleNamespace(update_record=update_record), asterisk_dir="/var/spool/asterisk/monitor",
                   local_dir=tmp_path, settle=0.01, wait=2.0)  # fmt: skip
    rec.active.add("c1")
    merging = threading.Event()
    release = threading.Event()
    real_store = rec._store

    def slow_store(legs: list[Path], out: Path) -> Any:
        merging.set()
        release.wait(5.0)
        return real_store(legs, out)

    monkeypatch.setattr(rec, "_store", slow_store)

    async def run() -> list[bool]:
        seen = [rec.busy(), rec.pending()]
        task = asyncio.create_task(rec.on_call_end("c1"))
        while not merging.is_set():
            await asyncio.sleep(0.01)
        seen += [rec.busy(), rec.pending()]  # no longer in ``active``: the merge is what is left
        seen.append("c1" in rec.active)
        release.set()
        await task
        seen += [rec.busy(), rec.pending()]
        return seen

    assert asyncio.run(run()) == [True, 1, True, 1, False, False, 0]
    assert [f.kind for f in ledger.facts_][1:] == ["recording.saved"]


def test_the_encoders_complexity_reaches_libopus_and_both_ends_decode_whole(tmp_path):
    """``[recording] complexity`` is libopus's own knob: another setting codes the same audio to other bytes,
    each decoding back to every sample with the sides kept apart."""
    n = 20 * RATE
    turn = (np.arange(n) // (5 * RATE)) % 2
    frames = np.stack([speechlike(20.0, 3) * (turn == 0), speechlike(20.0, 4) * (turn == 1)], axis=1)
    frames = frames.astype(np.int16)
    low = store(frames, RATE, tmp_path / "low.opus", complexity=0)
    high = store(frames, RATE, tmp_path / "high.opus", complexity=10)
    assert low.sha256 != high.sha256
    for kept in (low, high):
        assert probe(kept.path) == (2, 20.0)
    with pytest.raises(OpusError, match="complexity"):
        store(frames, RATE, tmp_path / "bad.opus", complexity=11)
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "bad.opus").exists()


def test_the_encoder_pool_merges_in_a_worker_below_the_engines_priority(tmp_path):
    """``[recording] encoders``: the merge runs in another process at nice 10, the file and its fact are the same
    as from a thread, and the workers' CPU is counted for the site bench."""
    write_leg(tmp_path / "c1-in.wav", tone(3.0, 300.0))
    write_leg(tmp_path / "c1-out.wav", tone(3.0, 500.0))
    ledger = Ledger()

    async def update_record(call_id: str) -> None:
        pass

    pool = EncoderPool(1)
    rec = Recorder(actions=SimpleNamespace(), calls=SimpleNamespace(), ledger=ledger,  # type: ignore[arg-type]
                   records=SimpleNamespace(update_record=update_record), asterisk_dir="/var/spool/asterisk/monitor",
                   local_dir=tmp_path, settle=0.01, wait=2.0, pool=pool)  # fmt: skip

    threads: list[int] = []
    groups: dict[str, str] = {}

    async def run() -> None:
        task = asyncio.create_task(pool.run(), name="recording-encoders")
        try:
            for _ in range(600):  # Python starting in the worker: a slow machine takes seconds
                if pool.started is not None:
                    break
                await asyncio.sleep(0.05)
            await rec.on_call_end("c1")
            # each thread's nice, as the kernel has it (field 19 of /proc/PID/task/TID/stat)
            for stat in Path(f"/proc/{pool.started[0]}/task").glob("*/stat"):
                threads.append(int(stat.read_text().rsplit(")", 1)[1].split()[16]))
            for who, at in (("worker", pool.started[0]), ("engine", os.getpid())):
                groups[who + " session"] = Path(f"/proc/{at}/stat").read_text().rsplit(")", 1)[1].split()[3]
                if Path(f"/proc/{at}/autogroup").exists():
                    groups[who] = Path(f"/proc/{at}/autogroup").read_text().strip()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    assert pool.started is not None
    pid, nice = pool.started
    assert pid != os.getpid() and nice == min(os.nice(0) + NICE, 19)  # a niced test run: the kernel stops at 19
    # every thread of the worker, not only its first (numpy's BLAS thread stayed at the engine's priority)
    assert threads and set(threads) == {nice}
    # and in a session of its own, whose autogroup is niced: with autogroups the kernel weighs sessions against
    # each other first, so a worker in the engine's session weighed as much as Asterisk's whole session
    assert groups["worker session"] == str(pid) != groups["engine session"], groups
    # the kernel prints nothing for a process in init's own session (a test run started by a service without a
    # session of its own, as on a CI runner): that is no autogroup, and the worker's is still its own
    if groups.get("engine") or groups.get("worker"):
        assert groups["worker"].endswith(f"nice {NICE}"), groups
        assert groups["worker"].split()[0] != (groups["engine"].split() or [""])[0], groups
    saved = [f for f in ledger.facts_ if f.kind == "recording.saved"]
    assert len(saved) == 1 and saved[0].data["channels"] == 2
    assert saved[0].data["seconds"] == pytest.approx(3.0, abs=0.02)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1.opus"]
    assert pool.cpu_s > 0
    assert pool._pool is None  # shut down with its task


def test_a_dead_encoder_process_leaves_the_legs_for_the_next_start_not_a_failed_recording(tmp_path):
    write_leg(tmp_path / "c1-in.wav", tone(2.0, 300.0))
    write_leg(tmp_path / "c1-out.wav", tone(2.0, 500.0))
    ledger = Ledger()

    class DeadPool:
        closed = 0

        async def merge(self, *_: Any) -> Any:
            raise BrokenProcessPool("a child process terminated abruptly")

        def close(self) -> None:
            self.closed += 1

    dead = DeadPool()
    rec = Recorder(actions=SimpleNamespace(), calls=SimpleNamespace(), ledger=ledger,  # type: ignore[arg-type]
                   records=SimpleNamespace(), asterisk_dir="/var/spool/asterisk/monitor", local_dir=tmp_path,
                   settle=0.01, wait=2.0, pool=dead)  # type: ignore[arg-type]  # fmt: skip
    asyncio.run(rec.on_call_end("c1"))
    assert [f.kind for f in ledger.facts_] == ["recording.started"]  # neither saved nor failed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1-in.wav", "c1-out.wav"]
    assert dead.closed == 1 and not rec.busy()
