"""`hotline sim load` through the real Asterisk: 50 SIPp callers, up to 20 at once, mixed DTMF digits, on the lab's
site and on one with fourteen phones (more than ten once made the agents' media ports reach the callers')."""

import json
import subprocess
import sys

import pytest

from tests.asterisk.conftest import ROOT, SITE

pytestmark = pytest.mark.asterisk


def _site_with_more_phones(tmp_path):
    """The lab site with fourteen phones sharing the hotline's calls (a service, every phone with its skill)."""
    base = SITE.read_text().split("[[agents]]")[0]
    store = f'url = "sqlite+aiosqlite:///{tmp_path / "l.db"}"'
    base = base.replace('url = "sqlite+aiosqlite:///hotline-lab.db"', store)
    base = base.replace("ring_timeout = 15", 'ring_timeout = 15\nservice = "hotline"')
    phones = [("1001", 5071), ("1002", 5072)] + [(str(1100 + i), 5100 + i) for i in range(12)]
    more = "".join(f'\n[[agents]]\nid = "{a}"\ncontact = "sip:agent{a}@127.0.0.1:{port}"\nskills = {{ hotline = 50 }}\n'
                   for a, port in phones)  # fmt: skip
    site = tmp_path / "site.toml"
    site.write_text(base + more + '\n[[services]]\nname = "hotline"\nskills = { hotline = 10 }\nwrap_up = 1\n')
    return site


def _lab_up(site) -> None:
    r = subprocess.run([sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(site)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_site_with_phones_the_lab_lacks_is_refused_before_any_call(lab, tmp_path):
    site = _site_with_more_phones(tmp_path)
    r = subprocess.run([sys.executable, "-m", "engine.cli", "sim", "load", "--site", str(site), "--calls", "2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2
    assert "the lab's Asterisk was set up without 12 of this site's agents (agent 1100 (endpoint agent1100" in r.stderr
    assert "run `hotline lab up --site" in r.stderr and not r.stdout


def _load(site, tmp_path) -> dict:
    """Run `sim load` (50 callers, up to 20 at once) and check what holds for any site: SIPp's and the engine's
    view of every call agree, and nothing went wrong with any SIPp."""
    out = tmp_path / "load.json"
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "sim", "load", "--site", str(site), "--calls", "50",
         "--concurrency", "20", "--seconds", "240", "--json", str(out), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads(out.read_text())
    sipp, eng = rep["sipp"], rep["engine"]
    assert sipp["caller_exit_codes"] == [0] * len(sipp["caller_exit_codes"])
    assert rep["problems"] == []
    assert sipp["callers_placed"] == 50
    assert eng["records"] == 50 and eng["joined"] == 50, eng
    answered_by_agents = sum(sipp["agents_answered"].values())
    assert eng["outcomes"].get("answered", 0) == answered_by_agents > 0
    assert eng["outcomes"].get("answered", 0) + eng["outcomes"].get("abandoned", 0) == 50, eng["outcomes"]
    # every call the engine saw answered ended with the agent's BYE or the caller's; none is left open
    assert sipp["callers_ended_by_far_end"] + sipp["callers_gave_up"] == 50
    assert rep["post_dial_delay"]["n"] == 50 and rep["time_to_agent"]["n"] == answered_by_agents
    # every answered call's recording was read back once the recorder's merges were done
    rec = rep["recordings"]
    assert rec["conversations"] == answered_by_agents == rec["checked_ok"], rec
    return rep


def test_fourteen_phones_each_with_their_own_ports_share_the_calls(lab, tmp_path):
    site = _site_with_more_phones(tmp_path)
    _lab_up(site)  # the lab's Asterisk with an endpoint for each phone; the lab site's own is put back after
    try:
        rep = _load(site, tmp_path)
    finally:
        _lab_up(SITE)
    sipp = rep["sipp"]
    procs = {p["name"]: p for p in sipp["processes"]}
    assert len(procs) == 2 + 14  # both caller classes and every phone, each with its own ports
    assert all(p["failed_calls"] == 0 and p["asked_to_stop"] for n, p in procs.items() if n.startswith("agent-"))
    assert sum(p["successful_calls"] for n, p in procs.items() if n.startswith("caller-")) == 50
    # the phones past the tenth (whose media ports once met the callers') took calls too
    assert sum(sipp["agents_answered"][str(1100 + i)] for i in range(8, 12)) > 0, sipp["agents_answered"]
    assert rep["usage"]["engine_process"]["cpu_s"] > 0 and rep["usage"]["asterisk"]["cpu_s"] > 0


def test_load_50_callers_records_match_sipp(lab, tmp_path):
    eng = _load(SITE, tmp_path)["engine"]
    # every caller's DTMF digit (a mix of 1, 2 and 3) reached the engine's IVR as sent, except for callers
    # over the IVR's 8-session limit, who skip the menu by design and are counted
    assert eng["digits_as_sent"] + eng["ivr_over_limit"] == 50, eng
