"""Campaign definitions in the store (real SQLite): the engine stores each campaign's definition when it
starts, once per distinct version, never updating or deleting a row; the campaign report names them."""

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from dialer.definitions import definition, definition_hash
from engine.asterisk.fastagi import FastAgiServer
from engine.clock import VirtualClock
from engine.config import load_site
from engine.store.store import Store, migrate
from sim import world
from sim.pbx.model import VirtualPbx
from sim.vtime import MemoryAgiTransport, virtual_link

ROOT = Path(__file__).resolve().parent.parent


def _site(tmp: Path, target: str = "0.03"):  # type: ignore[no-untyped-def]
    secret = tmp / "ami_secret"
    secret.write_text("virtual\n")
    text = world.site_text(ami_port=5038, agi_port=4573, secret_file=secret,
                           store_url=f"sqlite+aiosqlite:///{tmp / 'h.db'}", recordings=tmp / "rec",
                           queue_log=tmp / "queue_log", outbound_agents=2)  # fmt: skip
    f = tmp / "site.toml"
    f.write_text(text.replace("target = 0.03", f"target = {target}"))
    return load_site(f)


async def _start_engine(site, at: float) -> None:  # type: ignore[no-untyped-def]
    """Start the engine as the composition root builds it (virtual PBX, real SQLite) until it has stored the
    campaign definitions, then stop it."""
    import composition

    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    clock = VirtualClock(at)
    pbx = VirtualPbx(clock)
    store = Store(url)
    agi = FastAgiServer(transport=MemoryAgiTransport())
    eng = composition.build(site, clock, link=virtual_link(pbx, clock), agi=agi, store=store, finish_recordings=False)
    before = _rows(url)
    task = asyncio.create_task(eng.run(), name="engine")
    try:
        # the engine's own clock is virtual and stands still: wait for the start-up write in real time
        for _ in range(100):
            await asyncio.sleep(0.02)
            if _rows(url) != before or task.done():
                break
        await asyncio.sleep(0.1)  # a second, unwanted write would land here
    finally:
        await eng.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pbx.close()
        await store.close()


def _rows(url: str) -> list[tuple]:  # type: ignore[type-arg]
    db = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"))
    try:
        return db.execute("select campaign, hash, definition, first_seen from campaign_versions order by id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_a_definition_is_stored_once_per_version(tmp_path):
    site = _site(tmp_path)
    url = site["store"]["url"]
    asyncio.run(_start_engine(site, 1_800_000_000.0))
    (first,) = _rows(url)
    (campaign,) = site.campaigns
    assert first[0] == "renewals" and first[1] == definition_hash(definition(campaign))
    assert json.loads(first[2])["target"] == 0.03 and json.loads(first[2])["agents"] == ["2001", "2002"]
    assert first[3] == 1_800_000_000.0

    # a restart with the same definition (file rewritten, same content) adds nothing
    site = _site(tmp_path)
    asyncio.run(_start_engine(site, 1_800_003_600.0))
    assert _rows(url) == [first]

    # a changed target is a second version; the first stays exactly as it was
    changed = _site(tmp_path, target="0.02")
    asyncio.run(_start_engine(changed, 1_800_007_200.0))
    rows = _rows(url)
    assert len(rows) == 2 and rows[0] == first
    assert rows[1][1] != first[1] and json.loads(rows[1][2])["target"] == 0.02 and rows[1][3] == 1_800_007_200.0

    # going back to the old target is the old version again: no new row
    asyncio.run(_start_engine(_site(tmp_path), 1_800_010_800.0))
    assert len(_rows(url)) == 2

    # the report names the versions (hash, first seen) and keeps its other keys
    r = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "--site", str(changed.path),
                        "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)["renewals"]
    assert rep["definitions"] == [{"hash": first[1], "first_seen": 1_800_000_000.0},
                                  {"hash": rows[1][1], "first_seen": 1_800_007_200.0}]  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "--site", str(changed.path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"renewals: definition {first[1][:12]} in force from 2027-01-15 16:00:00" in r.stdout
    assert f"renewals: definition {rows[1][1][:12]} in force from 2027-01-15 18:00:00" in r.stdout
    assert "renewals: no dials yet" in r.stdout


def test_the_hash_is_the_definition_not_the_file_layout():
    from engine.config import Campaign

    a = Campaign("x", ("1", "2"), retries={"busy": 600.0, "no_answer": 3600.0})
    b = Campaign("x", ("1", "2"), retries={"no_answer": 3600.0, "busy": 600.0})
    assert definition_hash(definition(a)) == definition_hash(definition(b))
    assert definition_hash(definition(a)) != definition_hash(definition(Campaign("x", ("1", "2"), wrap_up=5)))
