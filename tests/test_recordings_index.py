"""The recordings index on real SQLite with real files: rows derived from the ledger, checked against the disk
(`recordings verify`), and the engine's retention pass in virtual time removing exactly what the rules say."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from engine.cli.recordings import StoreLedger
from engine.clock import VirtualClock
from engine.config import ConfigError, load_site
from engine.model.facts import Fact
from engine.store.store import Store, migrate
from engine.store.tables import lead_aggregates
from recording.encode import store as store_file
from recording.index import RecordingIndex
from recording.plugin import retention_loop
from recording.retention import Rule, due, rules_of
from recording.services import Recordings

DAY = 86400.0
T0 = 1_800_000_000.0
AST = "/var/spool/asterisk/monitor"


def row(kind: str, started: float, service: str = "", campaign: str = "") -> dict[str, object]:
    return {"id": f"{kind}-{started}", "kind": kind, "service": service, "campaign": campaign, "started_at": started,
            "purged_at": None}  # fmt: skip


def test_the_most_specific_rule_decides_and_a_kind_without_rule_is_kept():
    rules = rules_of([{"kind": "inbound", "days": 30}, {"kind": "inbound", "days": 365, "service": "vip"},
                      {"kind": "complaint", "days": 0}])  # fmt: skip
    rows = [row("inbound", T0, "hotline"), row("inbound", T0, "vip"), row("complaint", T0 + 10 * DAY),
            row("voicemail", T0)]  # fmt: skip
    got = {r["id"]: why for r, why in due(rows, rules, T0 + 31 * DAY, {})}
    assert got == {f"inbound-{T0}": "inbound: 30 days", f"complaint-{T0 + 10 * DAY}": "complaint: 0 days"}
    # 29 days on nothing inbound is due; the vip service's keeps its year
    assert [r["id"] for r, _ in due(rows, rules, T0 + 29 * DAY, {})] == [f"complaint-{T0 + 10 * DAY}"]


def test_a_campaigns_recordings_go_with_its_lead_data_unless_a_rule_keeps_them():
    rows = [row("outbound", T0, campaign="spring"), row("outbound", T0, campaign="renew"),
            row("outbound", T0 + 5 * DAY, campaign="spring")]  # fmt: skip
    rules = [Rule("outbound", 90), Rule("outbound", 400, campaign="renew", keep_after_lead_purge=True)]
    destroyed = {"spring": T0 + 2 * DAY, "renew": T0 + 2 * DAY}
    got = due(rows, rules, T0 + 6 * DAY, destroyed)
    # spring's recording made before its leads were destroyed goes; one of a later list under the same name stays
    assert [(r["id"], why) for r, why in got] == [(f"outbound-{T0}", "campaign spring: lead data destroyed")]


def test_a_bad_retention_rule_is_named_with_its_line(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[asterisk]\nlab = true\n\n[[recording.retention]]\nkind = "inbound"\ndays = 30\n\n'
                    '[[recording.retention]]\nkind = "fax"\ndays = -1\ncampaign = "x"\n')  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_site(site)
    text = str(err.value)
    assert "site.toml:9: recording.retention[1].kind: must be one of inbound, outbound, complaint, voicemail" in text
    assert "recording.retention[1].days: must be 0" in text


def tone_file(path: Path, seconds: float) -> dict[str, object]:
    t = np.arange(int(seconds * 8000)) / 8000
    pcm = (6000 * np.sin(2 * np.pi * 400 * t)).astype(np.int16)
    kept = store_file(np.stack([pcm, pcm // 2], axis=1), 8000, path)
    return {"path": str(kept.path), "seconds": kept.seconds, "channels": 2, "format": "opus", "bytes": kept.bytes,
            "sha256": kept.sha256}  # fmt: skip


def facts_of_calls(folder: Path) -> list[Fact]:
    """Three calls a day apart and more: an inbound call, a campaign's call, a complaint left in the menu."""
    (folder / "messages").mkdir()
    msg = folder / "messages" / "case-c3.wav"
    import wave

    with wave.open(str(msg), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x10\x00" * 16000)
    f = [
        Fact("call.queued", T0, "c1", "c1", "q:c1", {"service": "hotline"}),
        Fact("recording.started", T0 + 5, "c1", "", "recording.started:c1", {}),
        Fact("recording.saved", T0 + 65, "c1", "", "recording.saved:c1", tone_file(folder / "c1.opus", 3.0)),
        Fact("outbound.placed", T0 + 2 * DAY, "c2", "c2", "outbound.placed:c2", {"campaign": "spring", "lead": 1}),
        Fact("outbound.connect", T0 + 2 * DAY + 9, "c2", "c2", "outbound.connect:c2", {"campaign": "spring",
                                                                                       "agent": "1001"}),
        Fact("recording.started", T0 + 2 * DAY + 9, "c2", "", "recording.started:c2", {}),
        Fact("recording.saved", T0 + 2 * DAY + 70, "c2", "", "recording.saved:c2", tone_file(folder / "c2.opus", 2.0)),
        Fact("ivr.message", T0 + 3 * DAY, "c3", "c3", "ivr.message:c3", {"kind": "complaint", "case": "case-c3",
             "file": f"{AST}/messages/case-c3.wav", "seconds": 2.0, "ok": True}),
    ]  # fmt: skip
    return f


async def _retention_in_virtual_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rec.db'}"
    await asyncio.to_thread(migrate, url)
    st = Store(url)
    try:
        ledger = StoreLedger(st)
        await ledger.record(facts_of_calls(tmp_path))
        rules = rules_of([{"kind": "inbound", "days": 7}, {"kind": "complaint", "days": 30}])
        svc = Recordings(ledger=ledger, index=RecordingIndex(st.engine), store=st.engine, teams={"1001": "front"},
                         asterisk_dir=AST, local_dir=tmp_path, rules=rules)  # fmt: skip
        assert await svc.catch_up() == 3
        rows = {r["id"]: r for r in await svc.index.rows()}
        assert set(rows) == {"c1", "c2", "case-c3"}
        assert (rows["c1"]["kind"], rows["c1"]["service"], rows["c1"]["format"]) == ("inbound", "hotline", "opus")
        assert (rows["c2"]["kind"], rows["c2"]["campaign"], rows["c2"]["agent"], rows["c2"]["team"]) == (
            "outbound", "spring", "1001", "front")
        assert rows["case-c3"]["kind"] == "complaint" and rows["case-c3"]["bytes"] == 44 + 32000
        assert (await svc.verify()).problems == []

        clock = VirtualClock(start=T0)
        loop = asyncio.create_task(retention_loop(svc, clock), name="recordings-retention")

        async def at(day: float) -> set[str]:
            clock.advance_to(day * DAY)
            for _ in range(200):  # until the pass is done and the loop sleeps on the clock again
                await asyncio.sleep(0.01)
                if clock.next_deadline() is not None and clock.next_deadline() > clock.monotonic():
                    break
            return {r["id"] for r in await svc.index.rows(purged=False)}

        assert await at(6) == {"c1", "c2", "case-c3"}
        assert await at(8) == {"c2", "case-c3"}  # the inbound call's 7 days are over
        # the campaign's leads are destroyed on day 9: its recording goes at the next pass
        async with st.engine.begin() as conn:
            await conn.execute(lead_aggregates.insert().values(campaign="spring", key="leads", value=1,
                                                               purged_at=T0 + 9 * DAY))  # fmt: skip
        assert await at(9.5) == {"case-c3"}
        assert await at(32) == {"case-c3"}  # the complaint was made on day 3: kept to day 33
        assert await at(33.5) == set()
        loop.cancel()
        assert sorted(p.name for p in tmp_path.rglob("*") if p.suffix in (".opus", ".wav")) == []
        check = await svc.verify()
        assert check.problems == [] and check.checked == 3
        purged = await st.facts(None, ("recording.purged",))
        assert [(f.data["id"], f.data["rule"]) for f in purged] == [
            ("c1", "inbound: 7 days"), ("c2", "campaign spring: lead data destroyed"),
            ("case-c3", "complaint: 30 days")]  # fmt: skip

        # the disk and the index disagree: each difference is named
        (tmp_path / "stray.opus").write_bytes(b"x")
        c1 = await svc.index.get("c1")
        assert c1 is not None and c1["purged_at"] is not None and c1["purge_rule"] == "inbound: 7 days"
        problems = (await svc.verify()).problems
        assert [p["problem"] for p in problems] == ["on disk but not in the index"]
    finally:
        await st.close()


def test_retention_in_virtual_time_removes_what_the_rules_say_and_verify_agrees(tmp_path):
    asyncio.run(_retention_in_virtual_time(tmp_path))


async def _verify_names_each_difference(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rec.db'}"
    await asyncio.to_thread(migrate, url)
    st = Store(url)
    try:
        ledger = StoreLedger(st)
        await ledger.record(facts_of_calls(tmp_path))
        svc = Recordings(ledger=ledger, index=RecordingIndex(st.engine), store=st.engine, teams={},
                         asterisk_dir=AST, local_dir=tmp_path, rules=[])  # fmt: skip
        await svc.catch_up()
        data = (tmp_path / "c1.opus").read_bytes()
        (tmp_path / "c1.opus").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped
        (tmp_path / "c2.opus").unlink()
        got = {p["id"]: p["problem"] for p in (await svc.verify()).problems}
        assert got == {"c1": "checksum differs from the index", "c2": "missing from disk"}
    finally:
        await st.close()


def test_verify_names_a_changed_and_a_missing_file(tmp_path):
    asyncio.run(_verify_names_each_difference(tmp_path))


async def _sweep(tmp_path: Path) -> None:
    import os

    url = f"sqlite+aiosqlite:///{tmp_path / 'rec.db'}"
    await asyncio.to_thread(migrate, url)
    st = Store(url)
    try:
        svc = Recordings(ledger=StoreLedger(st), index=RecordingIndex(st.engine), store=st.engine, teams={},
                         asterisk_dir=AST, local_dir=tmp_path, rules=[])  # fmt: skip
        (tmp_path / "amd").mkdir()
        old, new = tmp_path / "amd" / "dl-1.wav", tmp_path / "amd" / "dl-2.wav"
        for p in (old, new):
            p.write_bytes(b"RIFF" + b"\0" * 100)
        os.utime(old, (T0 - 8 * DAY, T0 - 8 * DAY))
        os.utime(new, (T0 - 6 * DAY, T0 - 6 * DAY))
        assert await svc.sweep_amd_samples(T0) == 1
        assert not old.exists() and new.exists()
        (gone,) = await st.facts(None, ("outbound.amd_sample_expired",))
        assert gone.call_id == "dl-1" and gone.data["days"] == 7.0
    finally:
        await st.close()


def test_amd_samples_nobody_labelled_in_a_week_are_removed(tmp_path):
    asyncio.run(_sweep(tmp_path))


async def _stale_record(tmp_path: Path) -> None:
    from tests.test_store_both import call_facts

    url = f"sqlite+aiosqlite:///{tmp_path / 'rec.db'}"
    await asyncio.to_thread(migrate, url)
    st = Store(url)
    try:
        ledger = StoreLedger(st)
        await ledger.record(call_facts("c9", T0))
        await st.update_record("c9")  # derived before the recording was saved
        saved = tone_file(tmp_path / "c9.opus", 2.0)
        await ledger.record([Fact("recording.saved", T0 + 80, "c9", "", "recording.saved:c9", saved)])
        assert (await st.records())[0]["recording"] == "", "the engine stopped before deriving it again"
        svc = Recordings(ledger=ledger, index=RecordingIndex(st.engine), store=st.engine, teams={},
                         asterisk_dir=AST, local_dir=tmp_path, rules=[], records=st)  # fmt: skip
        await svc.catch_up()
        assert (await st.records())[0]["recording"] == saved["path"]
    finally:
        await st.close()


def test_a_record_derived_before_its_recording_was_saved_gets_it_at_the_next_start(tmp_path):
    asyncio.run(_stale_record(tmp_path))
