"""The engine killed (SIGKILL) on the real Asterisk: what ended while it was away is closed from Asterisk's records.

The engine runs as its own process (`hotline run`) so the kill is real: no clean-up, no last write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.store.store import Store, migrate
from recording.encode import probe
from sim.ami_proxy import AmiProxy
from sim.chaos import EngineProcess
from sim.derived_site import derive
from sim.scripted_call import CallScript, wait_records
from sim.scripted_call import place_call as _place
from tests.asterisk.conftest import SITE

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def engine_process(lab, tmp_path):
    """``hotline run`` as its own process (``sim.chaos``'s), on a copy of the lab site with a fresh store."""
    db = tmp_path / "engine.db"
    proxy = AmiProxy(("127.0.0.1", 5038))
    port = await proxy.start()
    site = derive(SITE, tmp_path / "site.toml", store={"url": f"sqlite+aiosqlite:///{db}"},
                  asterisk={"ami_port": port})  # fmt: skip
    p = EngineProcess(site, tmp_path, 4573, proxy)
    await asyncio.to_thread(migrate, f"sqlite+aiosqlite:///{db}")
    store = Store(f"sqlite+aiosqlite:///{db}")
    try:
        yield p, store
    finally:
        await p.stop()
        await store.close()
        proxy.close()


async def test_a_call_that_ends_while_the_engine_is_dead_is_closed_from_cel(engine_process, tmp_path):
    proc, store = engine_process
    await proc.start()

    async def kill() -> None:
        await proc.kill()

    sipp = await _place(tmp_path, CallScript(), "killed", during_talk=kill)
    facts = await store.facts()
    assert any(f.kind == "bridge.enter" for f in facts), "the call was bridged before the kill"
    assert not any(f.kind == "call.end" for f in facts), "the call ended after the kill"
    await asyncio.sleep(1.0)
    await proc.start()
    (rec,) = await wait_records(store, 1)
    assert rec["closed"] == "reconstructed" and rec["closed_reason"] == ""
    assert rec["outcome"] == "answered" and rec["agent_id"] == "1001" and rec["hangup_side"] == "caller"
    talk = sipp["bye"] - sipp["agent_200"]
    assert abs(rec["talk_time"] - talk) <= 1.0, (rec["talk_time"], talk)
    assert abs(rec["ended_at"] - sipp["bye"]) <= 1.0
    assert abs(rec["answered_at"] - sipp["answer"]) <= 1.0
    for _ in range(60):  # the recording is merged after the record is closed
        (rec,) = await store.records()
        if rec["recording"]:
            break
        await asyncio.sleep(0.25)
    channels, seconds = probe(Path(rec["recording"]))
    assert channels == 2 and abs(seconds - talk) <= 1.0, (seconds, talk)
    synced = [f for f in await store.facts(None, ("acd.agents_synced",))]
    assert synced and synced[-1].data["agents"]["1001"] == "idle"
    assert 0 <= synced[-1].at - synced[-1].data["link_up_at"] <= 2.0


async def test_a_recording_left_unsaved_by_a_kill_is_finished_at_start(engine_process, tmp_path):
    proc, store = engine_process
    await proc.start()
    killed: list[bool] = []

    async def kill_at_the_end() -> None:
        # the kill lands between the call's end (written at once) and its recording's merge (after the legs settle)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 40
        while loop.time() < deadline:
            kinds = {f.kind for f in await store.facts()}
            if "call.end" in kinds:
                await proc.kill()
                killed.append("recording.saved" not in kinds)
                return
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(kill_at_the_end())
    sipp = await _place(tmp_path, CallScript(), "ended")
    await asyncio.wait_for(watcher, 45)
    assert killed == [True], "killed after the call's end, before its recording was saved"
    # the kill may also beat the record's own derivation (a transaction after the end's): none has a recording
    assert all(not r["recording"] for r in await store.records())
    await proc.start()
    rows: list[dict] = []
    for _ in range(80):
        rows = await store.records()
        if rows and rows[0]["recording"]:
            break
        await asyncio.sleep(0.25)
    (rec,) = rows
    talk = sipp["bye"] - sipp["agent_200"]
    channels, seconds = probe(Path(rec["recording"]))
    assert channels == 2 and abs(seconds - talk) <= 1.0, (seconds, talk)
    assert rec["closed"] == "" and rec["outcome"] == "answered"
