"""`hotline sim chaos` against the lab: SIPp load while the engine is killed, its AMI link cut or Asterisk
restarted; every call must reconcile (one record or one degraded fact, agent answers, recordings, CDR times,
agent states after each recovery)."""

import json
import subprocess
import sys

import pytest

from sim.chaos import ChaosPlan, run_chaos
from tests.asterisk.conftest import ROOT, SITE

pytestmark = pytest.mark.asterisk

# 14 callers, one every 2 s; the lab's hotline agent answers in 1-2.5 s, talks 4 s, wraps up 10 s: at 23 s
# its second call is being talked, callers wait behind it, new ones are in the menu, impatient ones just left
FAULT_AT = 23.0


@pytest.mark.parametrize("kind", ["kill", "ami-cut", "asterisk-restart"])
async def test_one_fault_amid_calls_in_every_phase_reconciles(lab, tmp_path, kind):
    rep = await run_chaos(ChaosPlan(calls=14, faults=(kind,), at=(FAULT_AT,)), SITE, tmp_path / "work")
    (row,) = rep["faults"]
    assert row["kind"] == kind and abs(row["at"] - FAULT_AT) < 2.0, rep["text"]
    assert len(row["phases"]) >= 3, rep["text"]  # the fault hit calls in several phases
    assert rep["summary"]["calls_placed"] == 14, rep["text"]
    assert rep["mismatches"] == [], rep["text"]


def test_mixed_faults_over_60_calls_reconcile(lab, tmp_path):
    out = tmp_path / "chaos.json"
    # seed 3 draws seven faults of all three kinds over the two minutes of arrivals
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "sim", "chaos", "--site", str(SITE), "--calls", "60", "--seed", "3",
         "--every", "20", "--json", str(out), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    rep = json.loads(out.read_text())
    kinds = [row["kind"] for row in rep["faults"]]
    assert len(kinds) >= 5 and len(set(kinds)) >= 2, r.stdout
    assert rep["summary"]["calls_placed"] == 60, r.stdout
    assert rep["mismatches"] == [] and r.returncode == 0, r.stdout + r.stderr
