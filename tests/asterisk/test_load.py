"""`hotline sim load` through the real Asterisk: 50 SIPp callers, up to 20 at once, mixed DTMF digits."""

import json
import subprocess
import sys

import pytest

from tests.asterisk.conftest import ROOT, SITE

pytestmark = pytest.mark.asterisk


def test_load_50_callers_records_match_sipp(lab, tmp_path):
    out = tmp_path / "load.json"
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "sim", "load", "--site", str(SITE), "--calls", "50",
         "--concurrency", "20", "--seconds", "240", "--json", str(out), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads(out.read_text())
    sipp, eng = rep["sipp"], rep["engine"]
    assert sipp["caller_exit_codes"] == [0] * len(sipp["caller_exit_codes"])
    assert sipp["callers_placed"] == 50
    assert eng["records"] == 50 and eng["joined"] == 50, eng
    answered_by_agents = sum(sipp["agents_answered"].values())
    assert eng["outcomes"].get("answered", 0) == answered_by_agents > 0
    assert eng["outcomes"].get("answered", 0) + eng["outcomes"].get("abandoned", 0) == 50, eng["outcomes"]
    # every call the engine saw answered ended with the agent's BYE or the caller's; none is left open
    assert sipp["callers_ended_by_far_end"] + sipp["callers_gave_up"] == 50
    # every caller's DTMF digit (a mix of 1, 2 and 3) reached the engine's IVR as sent, except for callers
    # over the IVR's 8-session limit, who skip the menu by design and are counted
    assert eng["digits_as_sent"] + eng["ivr_over_limit"] == 50, eng
    assert rep["post_dial_delay"]["n"] == 50 and rep["time_to_agent"]["n"] == answered_by_agents
