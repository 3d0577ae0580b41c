"""`hotline report` on what a demo hour leaves (`--site <work folder>/site.toml`): the services report matches the
store's call records field by field (counted here from the rows themselves), the agents report adds up to the
services report, the hotline sheet's 3-ring share is the records' share of ring times within 15 s, and the
CSV, xlsx and PNG files are written and readable. One demo hour (about 40 s) serves every test."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.config import load_site

ROOT = Path(__file__).resolve().parent.parent
BOUND = 300  # real seconds a demo hour may take on a busy machine; only keeps a hang from hanging the suite
SHORT = 5.0  # the short-abandon threshold (docs/metrics.md#abandoned)


@dataclass
class Day:
    work: Path
    records: list[dict[str, Any]]
    facts: list[tuple[str, dict[str, Any]]]
    first: str
    last: str
    tz: ZoneInfo


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Day:
    tmp = tmp_path_factory.mktemp("reports")
    work = tmp / "work"
    p = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "--hours", "1", "--speed", "120", "--no-live",
                        "--outbound-agents", "2", "--workdir", str(work), "--json", str(tmp / "out.json")],
                       cwd=ROOT, capture_output=True, text=True, timeout=BOUND)  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    db = sqlite3.connect(work / "hotline-demo.db")
    db.row_factory = sqlite3.Row
    records = [dict(r) for r in db.execute("SELECT * FROM call_records")]
    facts = [(r["kind"], json.loads(r["data"])) for r in db.execute("SELECT kind, data FROM ledger")]
    db.close()
    tz = ZoneInfo(load_site(work / "site.toml")["site"]["timezone"])
    days = sorted({dt.datetime.fromtimestamp(r["arrived_at"], tz).date().isoformat() for r in records})
    assert records and any(r["outcome"] == "answered" for r in records), "the demo hour had answered calls"
    return Day(work, records, facts, days[0], days[-1], tz)


def report(d: Day, name: str, tmp: Path, *extra: str) -> tuple[dict[str, Any], str]:
    out = tmp / f"{name}.json"
    p = subprocess.run([sys.executable, "-m", "engine.cli", "report", name, "--site", str(d.work / "site.toml"),
                        "--from", d.first, "--to", d.last, "--json", str(out), *extra],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr
    return json.loads(out.read_text()), p.stdout


def test_services_report_matches_the_call_records(day, tmp_path):
    got, printed = report(day, "services", tmp_path)
    targets = {sv.name: sv.sl_target for sv in load_site(day.work / "site.toml").services}
    queued = [r for r in day.records if r["queued_at"] is not None]
    # the demo's calls: answered ones and abandons at least, and one service with a target
    assert queued and set(targets) >= {r["service"] for r in queued}

    def waited(r: dict[str, Any]) -> float:
        return r["queue_wait"] if r["outcome"] == "answered" else r["ended_at"] - r["queued_at"]

    by_hour: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in queued:
        hour = dt.datetime.fromtimestamp(r["queued_at"], day.tz).strftime("%Y-%m-%d %H:00")
        by_hour[(hour, r["service"])].append(r)
    rows = {(row["period"], row["service"]): row for row in got["rows"]}
    assert set(rows) == set(by_hour), "one row per hour and service that had calls"
    for k, recs in [*by_hour.items(), (("total", ""), queued)]:
        row = rows[k] if k[0] != "total" else got["total"]
        answered = [r for r in recs if r["outcome"] == "answered"]
        gone = [r for r in recs if r["outcome"] == "abandoned"]
        late = [r for r in gone if waited(r) > SHORT]
        assert row["offered"] == len(recs), k
        assert row["answered"] == len(answered), k
        assert row["abandoned"] == len(late), k
        assert row["short_abandoned"] == len(gone) - len(late), k
        assert row["other"] == len(recs) - len(answered) - len(gone), k
        assert row["callbacks"] == sum(r["outcome"] == "callback" for r in recs), k
        assert row["voicemails"] == sum(r["outcome"] == "voicemail" for r in recs), k
        assert row["longest_wait"] == pytest.approx(max(waited(r) for r in recs), abs=0.06), k
        if answered:
            asa = sum(r["queue_wait"] for r in answered) / len(answered)
            assert row["asa"] == pytest.approx(asa, abs=0.006), k
            aht = sum(r["talk_time"] + r["hold_time"] + r["wrap_up_time"] for r in answered) / len(answered)
            assert row["aht"] == pytest.approx(aht, abs=0.06), k
            ok = sum(r["queue_wait"] <= targets[r["service"]] for r in answered)
            against = len(answered) + sum(waited(r) > targets[r["service"]] for r in late)
            assert row["service_level"] == pytest.approx(ok / against, abs=1e-4), k
            assert row["abandon_rate"] == pytest.approx(len(late) / (len(answered) + len(late)), abs=1e-4), k
    # the abandoned calls, listed with their callers masked
    assert sorted(a["call_id"] for a in got["abandoned_calls"]) == sorted(r["call_id"] for r in queued
                                                                          if r["outcome"] == "abandoned")  # fmt: skip
    for r in queued:
        if r["outcome"] == "abandoned":
            assert r["caller"] not in printed and r["caller"] not in json.dumps(got)
    # every figure has its formula under the table
    for col in got["columns"][2:]:
        assert f"  {col}: " in printed.split("formulas:")[1], col


def test_agents_report_reconciles_with_the_services_report(day, tmp_path):
    services, _ = report(day, "services", tmp_path)
    agents, printed = report(day, "agents", tmp_path)
    rows = agents["rows"]
    assert {r["agent"] for r in rows} >= {r["agent_id"] for r in day.records if r["outcome"] == "answered"}
    t = services["total"]
    assert sum(r["inbound_calls"] for r in rows) == t["answered"]
    for fig in ("talk", "hold", "wrap_up"):
        assert sum(r[fig] for r in rows) == pytest.approx(t[fig], abs=0.05 * len(rows)), fig
    # outbound conversations are the ledger's connects, each to one agent
    connects = [data for kind, data in day.facts if kind == "outbound.connect"]
    assert connects, "the demo's campaign talked to somebody"
    assert sum(r["outbound_conversations"] for r in rows) == len(connects)
    per_agent = defaultdict(int)
    for c in connects:
        per_agent[c["agent"]] += 1
    assert {r["agent"]: r["outbound_conversations"] for r in rows if r["outbound_conversations"]} == per_agent
    for r in rows:
        assert r["occupancy"] is None or 0 < r["occupancy"] <= 1, r
        # busy time fits in the time logged in
        assert r["talk"] + r["hold"] + r["wrap_up"] + r["outbound_talk"] <= r["logged_in"] + 1, r


def test_hotline_sheet_three_rings_is_the_records_ring_times(day, tmp_path):
    got, _ = report(day, "hotline", tmp_path)
    site = load_site(day.work / "site.toml")
    mine = [r for r in day.records if r["service"] == site["hotline"]["service"] and r["queued_at"] is not None]
    rung = [r for r in mine if r["outcome"] == "answered" and r["ring_time"] is not None]
    assert rung
    assert got["total"]["ring_3"] == pytest.approx(sum(r["ring_time"] <= 15 for r in rung) / len(rung), abs=1e-4)
    assert got["total"]["offered"] == len(mine)


def test_files_are_written_and_readable(day, tmp_path):
    from openpyxl import load_workbook

    for name in ("services", "agents", "campaigns"):
        paths = {ext: tmp_path / f"{name}.{ext}" for ext in ("csv", "xlsx", "png")}
        extra = ["--csv", str(paths["csv"]), "--xlsx", str(paths["xlsx"])]
        if name != "campaigns":
            extra += ["--plot", str(paths["png"])]
        got, _ = report(day, name, tmp_path, *extra)
        with paths["csv"].open() as fh:
            lines = list(csv.reader(fh))
        assert lines[0] == got["columns"]
        assert len(lines) == 1 + len(got["rows"]) + len(got.get("teams", [])) + 1  # header, rows, total
        sheet = load_workbook(paths["xlsx"])[name]
        values = list(sheet.values)
        assert list(values[0]) == got["columns"] and len(values) == 1 + len(got["rows"]) + 1
        if name != "campaigns":
            assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert paths["png"].stat().st_size > 1000


def test_mistakes_are_one_line_and_exit_2(day, tmp_path):
    site = str(day.work / "site.toml")
    cases = [
        (["agents", "--agent", "9999"], "--agent 9999"),
        (["agents", "--team", "nobody"], "--team nobody"),
        (["services", "--service", "nope"], "--service nope"),
        (["services", "--agent", "1001"], "--agent does not apply"),
        (["agents", "--from", "yesterday"], "--from yesterday"),
        (["services", "--csv", str(tmp_path / "no-such-folder" / "x.csv")], "--csv"),
        (["campaigns", "--plot", str(tmp_path / "c.png")], "--plot"),
        (["hotline", "--from", "2027-01-02", "--to", "2027-01-01"], "--to 2027-01-01 is before --from"),
    ]
    for args, says in cases:
        p = subprocess.run([sys.executable, "-m", "engine.cli", "report", *args, "--site", site], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
        assert p.returncode == 2, (args, p.stderr)
        assert says in p.stderr and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
    p = subprocess.run([sys.executable, "-m", "engine.cli", "report", "agents", "--agent", "9999", "--site", site],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "1001" in p.stderr, "the known agents are named"
