"""`hotline demo` on a fresh machine: no Asterisk, no root, no network; the report adds up."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_one_hour_report_is_consistent(tmp_path):
    out = tmp_path / "out.json"
    work = tmp_path / "work"
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "demo", "--hours", "1", "--speed", "120", "--json", str(out),
         "--workdir", str(work), "--no-live"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(out.read_text())
    s = report["inbound"]
    assert s["offered"] > 0
    assert s["answered"] + s["abandoned"] + s["short_abandoned"] + s["other"] == s["offered"]
    assert report["call_records"] == report["callers_simulated"], "every simulated caller has exactly one record"

    # ASA again, straight from the append-only ledger: connect (both parties bridged) minus queue entry
    db = sqlite3.connect(work / "hotline-demo.db")
    facts = db.execute("select call_id, kind, uniqueid, at, data from ledger").fetchall()
    queued = {c: at for c, k, _, at, _ in facts if k == "call.queued"}
    answered_legs = {(c, u) for c, k, u, _, _ in facts if k == "channel.up"}
    waits = []
    for call in queued:
        offers = [json.loads(d)["leg"] for c, k, _, _, d in facts if c == call and k == "agent.offer"]
        leg = next((o for o in offers if (call, o) in answered_legs), None)
        if leg is None:
            continue
        caller = next(
            u for c, k, u, _, d in facts if c == call and k == "channel.new" and json.loads(d)["role"] == "caller"
        )
        enters = [at for c, k, u, at, _ in facts if c == call and k == "bridge.enter" and u in (leg, caller)]
        if len(enters) >= 2:
            waits.append(max(enters) - queued[call])
    assert len(waits) == s["answered"]
    assert abs(sum(waits) / len(waits) - s["asa"]) < 0.01

    # answered calls have their stereo recording
    recs = db.execute("select recording from call_records where outcome = 'answered'").fetchall()
    assert recs and all(Path(p).exists() for (p,) in recs)

    # the recorded day replayed from the demo's SQL store with the site's rules and with a stricter one
    import datetime as dt
    from zoneinfo import ZoneInfo

    day = dt.datetime.fromtimestamp(min(at for _, _, _, at, _ in facts), ZoneInfo("Asia/Shanghai")).date()
    rules = tmp_path / "rules.toml"
    rules.write_text('[[services]]\nname = "hotline"\nskills = { hotline = 80 }\nwrap_up = 10\n')
    replay_json = tmp_path / "replay.json"
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "replay", "--site", str(work / "site.toml"), "--rules", str(rules),
         "--from", day.isoformat(), "--to", day.isoformat(), "--json", str(replay_json)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads(replay_json.read_text())
    assert rep["actual"]["offered"] == s["offered"] == rep["replay_current_rules"]["offered"]
    assert "replay, rules.toml" in r.stdout

    # the outbound campaign ran on the same engine: its report adds up
    o = report["outbound"]
    assert o["dials"] > 0 and o["conversations"] > 0
    assert sum(o["outcomes"].values()) == o["dials"]
