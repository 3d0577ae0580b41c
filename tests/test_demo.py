"""`hotline demo` on a fresh machine: no Asterisk, no root, no network; the report adds up, and /metrics scraped
while it runs adds up as the report does (offered = answered + abandoned + short abandons + other, per service, at
every scrape), its counters never go back, and a scrape after the day agrees with the demo's JSON report.

One demo hour (the `make run` defaults at 120x, about 40 s) serves both tests: each reads it from its own side."""

from __future__ import annotations

import json
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from recording.encode import probe, sha256_of

ROOT = Path(__file__).resolve().parent.parent
BOUND = 120.0  # the run takes about 40 s; the bound only keeps a hang from hanging the suite
SPLIT = ("answered", "abandoned", "short_abandoned", "other")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(url: str) -> dict[str, dict[tuple, float]] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None  # not listening yet, or no more
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(text):
        out[fam.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in fam.samples}
    return out


def _calls(m: dict) -> dict[str, dict[str, float]]:  # type: ignore[type-arg]
    """service -> figure -> count, from the five call counters."""
    out: dict[str, dict[str, float]] = {}
    for figure in ("offered", *SPLIT):
        for (_, labels), v in m[f"hotline_calls_{figure}"].items():
            out.setdefault(dict(labels)["service"], {})[figure] = v
    return out


@dataclass
class DemoHour:
    rc: int | None
    log: str
    port: int
    scrapes: list[dict]  # type: ignore[type-arg]  # while the day ran
    final: dict | None  # type: ignore[type-arg]  # during the linger, after the report's figures were read
    out: Path  # the JSON report
    work: Path  # the database, recordings and site file


@pytest.fixture(scope="module")
def demo_hour(tmp_path_factory: pytest.TempPathFactory) -> DemoHour:
    tmp = tmp_path_factory.mktemp("demo")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    out, work = tmp / "out.json", tmp / "work"
    p = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "demo", "--hours", "1", "--speed", "120", "--json", str(out),
         "--workdir", str(work), "--no-live", "--http", f"127.0.0.1:{port}", "--linger", "5"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert p.stdout is not None
        for line in p.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    scrapes: list[dict] = []  # type: ignore[type-arg]
    final = None
    deadline = time.monotonic() + BOUND
    rc = None
    try:
        while time.monotonic() < deadline and p.poll() is None and final is None:
            while not lines.empty():
                seen.append(lines.get())
            day_over = any("the day is over" in s for s in seen)
            m = _scrape(url)
            if m is not None:
                if day_over:
                    final = m  # after the report's figures were read, before the listener closes
                else:
                    scrapes.append(m)
            time.sleep(0.5)
        rc = p.wait(BOUND)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    time.sleep(0.2)
    while not lines.empty():
        seen.append(lines.get())
    return DemoHour(rc, "".join(seen), port, scrapes, final, out, work)


def test_demo_one_hour_report_is_consistent(demo_hour, tmp_path):
    assert demo_hour.rc == 0, demo_hour.log
    work = demo_hour.work
    report = json.loads(demo_hour.out.read_text())
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

    # answered calls have their stereo recording, and the recordings index lists each with its checksum
    recs = db.execute("select call_id, recording from call_records where outcome = 'answered'").fetchall()
    assert recs and all(Path(p).exists() for _, p in recs)
    r = subprocess.run([sys.executable, "-m", "engine.cli", "recordings", "list", "--site", str(work / "site.toml"),
                        "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    listed = {row["call_id"]: row for row in json.loads(r.stdout)}
    # the index is the ledger's saved recordings: the answered calls' (the demo's campaign is not recorded); a
    # caller who left while the agent's phone rang has none (`recording.empty`: no bridged audio)
    assert set(listed) == {c for c, k, _, _, _ in facts if k == "recording.saved"}
    assert {c for c, p in recs if p} <= set(listed)
    for call_id, path in (r for r in recs if r[1]):
        row = listed[call_id]
        assert row["path"] == path and row["format"] == "opus" and row["kind"] == "inbound"
        assert row["bytes"] == Path(path).stat().st_size and row["sha256"] == sha256_of(Path(path))
        assert row["seconds"] == pytest.approx(probe(Path(path))[1], abs=0.001) and row["seconds"] > 0
    v = subprocess.run([sys.executable, "-m", "engine.cli", "recordings", "verify", "--site", str(work / "site.toml")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert v.returncode == 0 and f"{len(recs)} indexed recording(s) checked, 0 problem(s)" in v.stdout, v.stdout

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

    # AMD's machines left their first seconds for QA's check; a person's were dropped at the verdict
    verdicts = {c: json.loads(d)["amd"] for c, k, _, _, d in facts if k == "outbound.verdict"}
    kept = {c: json.loads(d) for c, k, _, _, d in facts if k == "outbound.amd_sample"}
    machines = {c for c, v in verdicts.items() if v == "MACHINE"}
    assert machines and set(kept) == machines, "every machine, and only machines, kept a sample"
    assert all(Path(d["path"]).exists() and d["seconds"] > 0 for d in kept.values())
    on_disk = {p.stem for p in (work / "recordings" / "amd").glob("*.wav")}
    # (a dial still in AMD when the demo stopped has a file and no verdict)
    assert on_disk & set(verdicts) == machines, "a person's first seconds are not kept"

    # the outbound campaign ran on the same engine: its report adds up
    o = report["outbound"]
    assert o["dials"] > 0 and o["conversations"] > 0
    assert sum(o["outcomes"].values()) == o["dials"]


def test_demo_metrics_add_up_while_it_runs_and_agree_with_its_report(demo_hour):
    d = demo_hour
    assert d.rc == 0, d.log
    assert f"metrics at http://127.0.0.1:{d.port}/metrics" in d.log
    assert d.final is not None, f"no scrape during the linger:\n{d.log}"
    final = d.final
    assert len(d.scrapes) >= 20, f"only {len(d.scrapes)} scrapes while the demo ran"

    # every scrape adds up, per service, and counters never go back
    last: dict[tuple[str, str], float] = {}
    for m in [*d.scrapes, final]:
        for service, c in _calls(m).items():
            assert c["offered"] == sum(c[k] for k in SPLIT), (service, c)
            for figure, v in c.items():
                assert v >= last.get((service, figure), 0.0), (service, figure, "went back")
                last[(service, figure)] = v
    # the demo's agent took its break from its page: signed in through the form, CSRF token, the service API
    acts = json.loads(d.out.read_text())["web_actions"]
    assert [(a["user"], a["action"], a["agent"], a["status"], a["ok"]) for a in acts] == [
        ("agent1001", "pause", "1001", 200, True), ("agent1001", "resume", "1001", 200, True),
        ("agent1001", "complaint", "1001", 200, True)], acts
    assert json.loads(d.out.read_text())["cases_opened"] == {"complaint": 1}, "the complaint opened its case"
    mid = [m for m in d.scrapes if _calls(m)["hotline"]["offered"] > 0]
    assert mid, "calls were counted while the demo ran, not only at its end"
    assert max(m["hotline_ami_up"][("hotline_ami_up", ())] for m in d.scrapes) == 1
    assert any(m["hotline_dialer_lines"] for m in d.scrapes), "the campaign's lines are shown"
    agents = final["hotline_agents"]
    assert sum(agents.values()) == 3 + 8, "every agent of the demo site in one state: 3 inbound, 8 outbound"
    assert final["hotline_event_lag_seconds"][("hotline_event_lag_seconds_count", ())] > 100

    # the last scrape is the report
    report = json.loads(d.out.read_text())
    services = report["inbound"]["services"]
    assert report["inbound"]["offered"] > 0
    scraped = {s: c for s, c in _calls(final).items() if c["offered"]}
    assert set(scraped) == set(services)
    for service, st in services.items():
        for figure in ("offered", *SPLIT):
            assert scraped[service][figure] == st[figure], (service, figure, scraped[service], st)
