"""One real call end to end: SIPp caller → Asterisk → FastAGI IVR → engine → SIPp agent, recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest

from composition import running
from engine.config import load_site
from recording.encode import probe, read_pcm, sha256_of
from sim.scripted_call import AGENT_HZ, CALLER_HZ, CallScript, wait_records
from sim.scripted_call import place_call as _place
from tests.asterisk.conftest import SITE, AmiProxy

pytestmark = pytest.mark.asterisk

SCRIPT = CallScript()
RING = SCRIPT.ring


async def place_call(tmp: Path, tag: str, during_talk=None, script: CallScript = SCRIPT) -> dict:
    return await _place(tmp, script, tag, during_talk)


def dominant_hz(x, rate: int) -> float:
    import numpy as np

    spec = np.abs(np.fft.rfft(x.astype(float)))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(spec.argmax())])


def lab_site(tmp_path: Path, ami_port: int):
    return load_site(SITE).with_values(
        asterisk={"ami_port": ami_port, "ping_interval": 1.0},
        store={"url": f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"},
    )


@pytest.fixture
async def engine(lab, tmp_path):
    proxy = AmiProxy(("127.0.0.1", 5038))
    async with running(lab_site(tmp_path, await proxy.start())) as eng:
        yield eng, proxy
    proxy.close()


async def test_call_record_and_stereo_recording_match_sipp(engine, tmp_path, caplog):
    eng, proxy = engine
    caplog.set_level(logging.WARNING)
    # a FastAGI client that sends garbage and one that sends nothing must not disturb the call
    r1, w1 = await asyncio.open_connection("127.0.0.1", eng.site["asterisk"]["agi_port"])
    w1.write(b"GET / HTTP/1.0\r\n\r\n")
    r2, w2 = await asyncio.open_connection("127.0.0.1", eng.site["asterisk"]["agi_port"])

    async def inject_bad_frame():
        proxy.pending = b"Event: Newstate\r\nthis line is not a header\r\n\r\n"

    sipp = await place_call(tmp_path, "first", during_talk=inject_bad_frame)
    w1.close()
    w2.close()
    rows = await wait_records(eng.store, 1)
    assert len(rows) == 1
    rec = rows[0]
    assert rec["outcome"] == "answered" and rec["agent_id"] == "1001" and rec["digit"] == "1"
    assert rec["hangup_side"] == "caller"
    assert abs(rec["answered_at"] - sipp["answer"]) <= 1.0
    assert abs(rec["ring_time"] - (sipp["agent_200"] - sipp["agent_invite"])) <= 1.0
    talk = sipp["bye"] - sipp["agent_200"]
    assert abs(rec["talk_time"] - talk) <= 1.0, (rec["talk_time"], talk)
    assert rec["queue_wait"] is not None and 0 < rec["queue_wait"] < RING + 2
    # the stored file: Ogg Opus, decoded back to the talk time, the caller on the left and the agent on the right
    path = Path(rec["recording"])
    assert path.suffix == ".opus"
    pcm, rate = read_pcm(path)
    assert pcm.shape[1] == 2 and abs(len(pcm) / rate - talk) <= 1.0, (len(pcm) / rate, talk)
    assert dominant_hz(pcm[:, 0], rate) == pytest.approx(CALLER_HZ, abs=15)
    assert dominant_hz(pcm[:, 1], rate) == pytest.approx(AGENT_HZ, abs=15)
    for _ in range(50):  # the index row follows the saved fact
        row = await eng.features["recordings"].index.get(rec["call_id"])
        if row is not None:
            break
        await asyncio.sleep(0.1)
    assert row is not None and row["sha256"] == sha256_of(path) and row["bytes"] == path.stat().st_size
    assert (row["kind"], row["agent"], row["format"]) == ("inbound", "1001", "opus")
    # the malformed AMI frame was logged and skipped, the engine kept working
    assert proxy.injected == 1 and eng.link.stats.malformed >= 1
    assert any("skipped malformed frame" in r.getMessage() for r in caplog.records)
    assert eng.agi.rejected >= 1 and eng.agi.malformed >= 1


async def test_ami_cut_mid_call_completes_record_once(engine, tmp_path):
    eng, proxy = engine

    async def cut():
        proxy.cut()

    sipp = await place_call(tmp_path, "cut", during_talk=cut)
    rows = await wait_records(eng.store, 1)
    assert proxy.connections >= 2, "the engine reconnected"
    assert eng.link.stats.resyncs >= 2
    assert len(rows) == 1, rows
    rec = rows[0]
    assert rec["outcome"] == "answered"
    talk = sipp["bye"] - sipp["agent_200"]
    assert abs(rec["talk_time"] - talk) <= 1.0, (rec["talk_time"], talk)
    facts = await eng.store.facts(rec["call_id"])
    keys = [f.key for f in facts]
    assert len(keys) == len(set(keys))
    assert sum(1 for f in facts if f.kind == "call.end") == 1


async def test_hold_is_measured_from_hold_and_unhold(engine, tmp_path):
    eng, _ = engine
    script = dataclasses.replace(SCRIPT, hold_at=4.0, hold_for=3.0, hangup_after=10.0)
    sipp = await place_call(tmp_path, "hold", script=script)
    (rec,) = await wait_records(eng.store, 1)
    hold_start, hold_end = sipp["reinvites"]
    assert abs(rec["hold_time"] - (hold_end - hold_start)) <= 1.0, rec
    connected = sipp["bye"] - sipp["agent_200"]
    assert abs(rec["talk_time"] - (connected - (hold_end - hold_start))) <= 1.0, rec
    assert abs(rec["handle_time"] - connected) <= 1.0


async def test_engine_restart_mid_call_loses_nothing(lab, tmp_path):
    site = lab_site(tmp_path, 5038)
    first = running(site)
    second = running(site)
    engines = [await first.__aenter__()]

    async def restart():
        await first.__aexit__(None, None, None)
        engines.append(await second.__aenter__())

    sipp = await place_call(tmp_path, "restart", during_talk=restart)
    eng = engines[-1]
    assert eng is not engines[0]
    try:
        rows = await wait_records(eng.store, 1)
        assert len(rows) == 1
        rec = rows[0]
        assert rec["outcome"] == "answered" and rec["agent_id"] == "1001"
        talk = sipp["bye"] - sipp["agent_200"]
        assert abs(rec["talk_time"] - talk) <= 1.0, (rec["talk_time"], talk)
        channels, seconds = probe(Path(rec["recording"]))
        assert channels == 2 and abs(seconds - talk) <= 1.0
        facts = await eng.store.facts(rec["call_id"])
        assert sum(1 for f in facts if f.kind == "channel.new") == 2, "restart learned no channel twice"
    finally:
        await second.__aexit__(None, None, None)


async def test_asterisk_restart_engine_reconnects_and_takes_calls(engine, tmp_path):
    from engine import lab as labmod

    eng, proxy = engine
    lab = labmod.Lab(labmod.default_lab_dir())
    site = load_site(SITE)
    await asyncio.to_thread(labmod.stop, lab)
    await asyncio.sleep(1.0)
    assert not eng.link.ready.is_set(), "the engine noticed Asterisk going away"
    await asyncio.to_thread(labmod.start, lab, site)
    await asyncio.wait_for(eng.link.ready.wait(), 30)
    assert eng.link.stats.connects >= 2
    sipp = await place_call(tmp_path, "after-restart")
    (rec,) = await wait_records(eng.store, 1)
    assert rec["outcome"] == "answered"
    assert abs(rec["talk_time"] - (sipp["bye"] - sipp["agent_200"])) <= 1.0
