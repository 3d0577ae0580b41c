"""The rollups as the engine keeps them: a demo quarter hour (the unchanged engine on the virtual PBX, its rollup
task refreshing every minute of its clock and once at its stop) leaves rows equal to a rebuild from its ledger;
`hotline report status` and `hotline report rebuild` say so on the demo's site file."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.config import load_site
from engine.store.store import Store
from engine.store.tables import report_agent_days, report_buckets, report_days
from reports.plugin import rollups_of

ROOT = Path(__file__).resolve().parent.parent
BOUND = 300  # real seconds the demo may take on a busy machine; only keeps a hang from hanging the suite


async def _rows(store: Store) -> list[list[dict[str, Any]]]:
    out = []
    async with store.engine.connect() as conn:
        for t in (report_buckets, report_days, report_agent_days):
            out.append([dict(r) for r in (await conn.execute(select(t).order_by(*t.primary_key.columns))).mappings()])
    return out


async def _kept_equal_rebuilt(site_file: Path) -> tuple[int, int]:
    site = load_site(site_file)
    store = Store(site["store"]["url"])
    try:
        kept = await _rows(store)
        assert kept[2], "the engine kept its agents' day rows too"
        rollups = rollups_of(site, store.engine)
        await rollups.rebuild()
        assert await _rows(store) == kept
        return len(kept[0]), len(kept[1])
    finally:
        await store.close()


def test_the_engine_keeps_rollups_a_rebuild_gives_again(tmp_path: Path) -> None:
    work = tmp_path / "work"
    p = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "--hours", "0.25", "--speed", "120", "--no-live",
                        "--outbound-agents", "2", "--workdir", str(work)],
                       cwd=ROOT, capture_output=True, text=True, timeout=BOUND)  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    site_file = work / "site.toml"

    def cli(*args: str) -> tuple[str, dict[str, Any]]:
        out = tmp_path / "status.json"
        r = subprocess.run([sys.executable, "-m", "engine.cli", "report", *args, "--site", str(site_file), "--json",
                            str(out)], cwd=ROOT, capture_output=True, text=True, timeout=BOUND)  # fmt: skip
        assert r.returncode == 0, r.stderr
        return r.stdout, json.loads(out.read_text())

    text, status = cli("status")
    assert status["facts_behind"] == 0, "the refresh at the engine's stop counted its last facts"
    assert status["rows"] > 0 and status["days"] > 0 and status["timezone"] == "Asia/Shanghai"
    assert f"facts counted up to #{status['ledger_id']} of #{status['newest_fact']} (0 behind)" in text
    rows, days = asyncio.run(_kept_equal_rebuilt(site_file))
    assert (rows, days) == (status["rows"], status["days"])

    text, rebuilt = cli("rebuild")
    assert rebuilt["rebuilt_rows"] == rebuilt["rows"] > 0 and text.startswith("rollups rebuilt from the ledger:")
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "report", "rebuild", "--site", str(site_file), "--team",
                          "front"], cwd=ROOT, capture_output=True, text=True, timeout=BOUND)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip() == "hotline report rebuild: --team is a report's option, not " \
                                                         "the rollups'"
