"""`hotline bench report` at a small size on both stores (SQLite and a private PostgreSQL): every report over the
month and the whole period reads the same from the rollups as counted straight from the ledger; the figures are
written and the goals judged. Bounded: five weeks of a small site, a rep each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOUND = 300  # real seconds; only keeps a hang from hanging the suite


def test_reports_from_the_rollups_equal_the_reports_counted_straight(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    p = subprocess.run([sys.executable, "-m", "engine.cli", "bench", "report", "--calls", "3000", "--days", "35",
                        "--reps", "1", "--ledger-reps", "1", "--json", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=BOUND)  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    got = json.loads(out.read_text())
    assert [s["store"] for s in got["stores"]] == ["sqlite", "postgresql"]
    for s in got["stores"]:
        assert s["loaded"]["calls"] > 2900 and s["rollup_rows"] > 0
        rows = {(r["report"], r["range"]) for r in s["reports"]}
        assert rows == {(n, span) for n in ("agents", "services", "hotline", "campaigns") for span in ("month", "year")}
        assert all(r["same"] for r in s["reports"]), [r for r in s["reports"] if not r["same"]]
    assert got["all_same"] is True
    assert "the same answers both ways: yes" in p.stdout
