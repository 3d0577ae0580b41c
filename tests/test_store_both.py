"""The store suite on both real stores, SQLite and PostgreSQL 15 (a private server, tests/postgres.py): the
ledger (idempotent appends, reads by call, kind and time), call records derived and rebuilt, the users, leads
and their purge, the recordings index, grades the database refuses to change, and a backup restored by
`hotline db` into a new store giving the same records, facts and recordings."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dialer.lead_file import LeadRow
from dialer.leads import LeadStore
from engine.model.facts import Fact
from engine.policy import Actor, Role
from engine.store.store import Store, migrate
from engine.store.users import UserStore
from engine.users import User
from recording.index import RecordingIndex

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0


def call_facts(call_id: str, at: float) -> list[Fact]:
    """An answered call: arrival, menu digit, queue, ring, connect, hang-up, end."""
    caller, agent = call_id, f"{call_id}-a"
    return [
        Fact("channel.new", at, call_id, caller, f"channel.new:{caller}", {"role": "caller", "caller": "13800000001",
                                                                          "exten": "4001234567"}),
        Fact("channel.up", at + 1, call_id, caller, f"channel.up:{caller}", {}),
        Fact("call.queued", at + 5, call_id, caller, f"call.queued:{call_id}", {"service": "hotline", "digit": "1"}),
        Fact("agent.offer", at + 6, call_id, agent, f"agent.offer:{agent}", {"agent": "1001", "leg": agent}),
        Fact("channel.up", at + 9, call_id, agent, f"channel.up:{agent}", {}),
        Fact("bridge.enter", at + 9.5, call_id, caller, f"bridge.enter:{caller}", {"bridge": "b1"}),
        Fact("bridge.enter", at + 9.6, call_id, agent, f"bridge.enter:{agent}", {"bridge": "b1"}),
        Fact("channel.hangup", at + 70, call_id, caller, f"channel.hangup:{caller}", {"cause": "16"}),
        Fact("call.end", at + 71, call_id, caller, f"call.end:{call_id}", {}),
    ]  # fmt: skip


async def _suite(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    await asyncio.to_thread(migrate, url)  # a second run changes nothing
    st = Store(url)
    try:
        facts = call_facts("c1", T0) + call_facts("c2", T0 + 100)
        assert await st.append(facts, T0) == len(facts)
        assert await st.append(facts[:3], T0) == 0, "a fact whose key is there already is skipped"
        assert [f.kind for f in await st.facts("c1")] == [f.kind for f in facts[:9]]
        assert len(await st.facts(None, ("call.end",))) == 2 and len(await st.facts(None, (), T0 + 100)) == 9
        for c in ("c1", "c2"):
            await st.update_record(c)
        rows = await st.records()
        talk = pytest.approx(60.5, abs=0.2)  # connect (both bridged) to the caller's hang-up
        assert [(r["call_id"], r["outcome"], r["agent_id"], r["talk_time"]) for r in rows] == [
            ("c1", "answered", "1001", talk), ("c2", "answered", "1001", talk)]
        assert await st.rebuild_records() == 2 and await st.records() == rows
        assert await st.open_calls(T0 - 10) == [] and await st.unrecorded_calls(T0 - 10) == []

        users = UserStore(st)
        await users.add(User("lead1", "teamlead", team="front", created_at=T0, changed_at=T0), "hash",
                        Actor("root", Role.ADMIN, via="cli"), T0)  # fmt: skip
        got = await users.get("lead1")
        assert got is not None and got[0].team == "front" and got[1] == "hash"

        leads = LeadStore(st.engine)
        rows_in = [LeadRow(1, "+8613900000001", "mobile", "A"), LeadRow(2, "+8613900000002", "mobile", "B")]
        assert await leads.import_leads("spring", rows_in, T0) == (2, 0)
        assert await leads.purge("spring", T0 + 10) == 2
        assert (await leads.totals("spring")).status == {"new": 2}

        index = RecordingIndex(st.engine)
        row = {"id": "c1", "call_id": "c1", "kind": "inbound", "direction": "inbound", "service": "hotline",
               "campaign": "", "agent": "1001", "team": "front", "started_at": T0 + 9.5, "seconds": 60.5, "channels": 2,
               "format": "opus", "bytes": 1000, "sha256": "ab" * 32, "path": "/r/c1.opus", "purged_at": None,
               "purge_rule": "", "talk": {"talk_over": 1.5}}  # fmt: skip
        await asyncio.gather(index.put([row]), index.put([row]))  # the fact hook and a purge at once
        await index.put([{**row, "bytes": 1001}])  # derived again: replaces
        assert [(r["id"], r["bytes"], r["talk"]) for r in await index.rows()] == [("c1", 1001, {"talk_over": 1.5})]

        async with st.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO grades (id, recording, call_id, agent, form, form_hash, grader, grader_role, version, "
                "reason, answers, comments, marks, score, critical_failed, blind, created_at) VALUES ('g1', 'c1', "
                "'c1', '1001', 'inbound', 'h', 'qa1', 'qa', 1, '', '{}', '', '[]', 90, '[]', false, 1)"))  # fmt: skip
        for sql in ("UPDATE grades SET score = 100", "DELETE FROM grades"):
            with pytest.raises(Exception, match="grades are immutable: a correction is a new version"):
                async with st.engine.begin() as conn:
                    await conn.execute(text(sql))
    finally:
        await st.close()


def test_the_store_suite(store_url):
    asyncio.run(_suite(store_url))


async def _snapshot(url: str) -> tuple[list, list, list]:
    st = Store(url)
    try:
        facts = [(f.kind, f.at, f.call_id, f.key, f.data) for f in await st.facts()]
        return facts, await st.records(), await RecordingIndex(st.engine).rows()
    finally:
        await st.close()


def _hotline(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine.cli", "db", *args, "--site", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def _site(folder: Path, url: str) -> Path:
    site = folder / f"site-{abs(hash(url)) % 10000}.toml"
    site.write_text(f'[site]\nname = "t"\n[asterisk]\nlab = true\n[hotline]\nnumber = "400"\nagent = "1001"\n'
                    f'[store]\nurl = "{url}"\n[[agents]]\nid = "1001"\n')  # fmt: skip
    return site


def _reports(site: Path) -> dict[str, dict]:
    """The agents and services reports of the suite's day, as `hotline report --json` writes them."""
    import datetime as dt
    import json
    from zoneinfo import ZoneInfo

    from engine.config import load_site

    day = dt.datetime.fromtimestamp(T0, ZoneInfo(load_site(site)["site"]["timezone"])).date().isoformat()
    out = {}
    for name in ("agents", "services"):
        path = site.parent / f"{site.stem}-{name}.json"
        r = subprocess.run([sys.executable, "-m", "engine.cli", "report", name, "--site", str(site), "--from", day,
                            "--json", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0, r.stderr
        out[name] = json.loads(path.read_text())
    return out


def test_a_backup_restored_into_a_new_store_gives_the_same_records(store_url, tmp_path, request):
    asyncio.run(_suite(store_url))
    site = _site(tmp_path, store_url)
    r = _hotline(site, "backup", str(tmp_path / "backup.bin"))
    assert r.returncode == 0 and "backup written to" in r.stdout, r.stderr
    if store_url.startswith("sqlite"):
        other = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    else:
        other = request.getfixturevalue("postgres").new_database("restored")
    target = _site(tmp_path, other)
    r = _hotline(target, "restore", str(tmp_path / "backup.bin"))
    assert r.returncode == 0 and "restored" in r.stdout, r.stdout + r.stderr
    assert asyncio.run(_snapshot(other)) == asyncio.run(_snapshot(store_url))
    before, after = _reports(site), _reports(target)
    assert before["services"]["total"]["answered"] == 2 and before == after, (before, after)
    # restoring over a store that holds facts needs --force
    r = _hotline(target, "restore", str(tmp_path / "backup.bin"))
    assert r.returncode == 2 and "give --force" in r.stderr
    assert _hotline(target, "restore", str(tmp_path / "backup.bin"), "--force").returncode == 0


def test_a_demo_day_on_postgresql_keeps_every_caller_and_its_recordings(postgres, tmp_path):
    """Half a demo hour at 120x on a PostgreSQL store: every simulated caller has its record, the recordings index
    lists the answered calls, and the store's own statistics match the report."""
    import json

    url = postgres.new_database("demo")
    out = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "--hours", "0.5", "--speed", "120", "--no-live",
                        "--outbound-agents", "2", "--store", url, "--workdir", str(tmp_path / "work"), "--json",
                        str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["call_records"] == report["callers_simulated"] > 0
    records = asyncio.run(_snapshot(url))[1]
    assert len(records) == report["call_records"]
    answered = {rec["call_id"] for rec in records if rec["outcome"] == "answered"}
    assert len(answered) == report["inbound"]["answered"]
    listed = subprocess.run([sys.executable, "-m", "engine.cli", "recordings", "list", "--json", "--site",
                             str(tmp_path / "work" / "site.toml")], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    # the index is the ledger's saved recordings, each with its checksum (a call still ending when the demo
    # stops may have a record older than its recording: the next start derives it again)
    facts = asyncio.run(_snapshot(url))[0]
    saved = {call_id for kind, _, call_id, _, _ in facts if kind == "recording.saved"}
    rows = json.loads(listed.stdout)
    assert saved and {row["call_id"] for row in rows} == saved and all(len(row["sha256"]) == 64 for row in rows)
    # the day's services report on PostgreSQL counts what the records hold
    import datetime as dt
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")  # the demo's site
    days = sorted({dt.datetime.fromtimestamp(rec["queued_at"], zone).date() for rec in records if rec["queued_at"]})
    got = subprocess.run([sys.executable, "-m", "engine.cli", "report", "services", "--site",
                          str(tmp_path / "work" / "site.toml"), "--from", days[0].isoformat(), "--to",
                          days[-1].isoformat(), "--json", str(tmp_path / "services.json")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert got.returncode == 0, got.stderr
    total = json.loads((tmp_path / "services.json").read_text())["total"]
    queued = [rec for rec in records if rec["queued_at"] is not None]
    assert (total["offered"], total["answered"]) == (len(queued), sum(rec["outcome"] == "answered" for rec in queued))
