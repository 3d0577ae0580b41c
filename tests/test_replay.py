"""`hotline replay`: recorded calls through the virtual-time PBX, with the site's rules and with other ones."""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConfigError, load_rules
from engine.model.records import derive
from sim import traffic, world
from sim.day import run_day, scratch_site
from sim.replay import recorded_callers, replay

ROOT = Path(__file__).resolve().parent.parent
STRICT = """
[[services]]
name = "hotline"
skills = { hotline = 80 }
wrap_up = 10
"""


def _site(tmp_path: Path):  # type: ignore[no-untyped-def]
    return scratch_site(tmp_path, lambda secret: world.site_text(
        ami_port=5038, agi_port=4573, secret_file=secret, store_url="sqlite+aiosqlite:///unused.db",
        recordings=tmp_path / "rec", queue_log=tmp_path / "queue_log"))  # fmt: skip


def test_replay_reproduces_the_day_and_shows_what_a_rule_is_worth(tmp_path):
    facts: list = []
    busy = traffic.InboundModel(calls_per_day=500)  # a busy hour, so that the overflow step matters
    asyncio.run(run_day(hours=1.0, seed=6, outbound_agents=0, inbound=busy, facts_out=facts))
    rows = [r.as_row() for r in derive(facts)]
    site = _site(tmp_path)
    rules_file = tmp_path / "strict.toml"
    rules_file.write_text(STRICT)  # no overflow step: only the hotline agent (level 100) qualifies
    t0, t1 = min(r["arrived_at"] for r in rows), max(r["arrived_at"] for r in rows) + 1

    rec = recorded_callers(facts, rows, t0, t1)
    assert len(rec.callers) == len(rows) > 30
    digits = [s.digits for _, s in rec.callers if s.digits]
    assert digits and all(d[0][1] in "129" for d in digits), "the menu digits come back from the ivr.step facts"

    r = asyncio.run(replay(site, load_rules(rules_file, site), facts, rows, t0, t1, seed=6))
    actual, same, strict = r["actual"], r["replay_current_rules"], r["replay_new_rules"]
    assert actual["offered"] == same["offered"] == strict["offered"] > 0
    # the same engine, callers and phones: the site's own rules give back what happened, near enough
    assert abs(same["answered"] - actual["answered"]) <= 0.1 * actual["offered"] + 1
    assert abs(same["asa"] - actual["asa"]) <= 0.25 * actual["asa"] + 2
    # without the overflow agents callers wait longer and more give up
    assert strict["asa"] > same["asa"] and strict["abandoned"] >= same["abandoned"]


def test_a_late_menu_start_does_not_move_the_callers_hangup_past_the_greeting():
    """A loaded engine began the greeting 6.5 s after the answer and the caller hung up in it: the replayed
    caller hangs up 0.6 s into the greeting, not 7.1 s after the answer (past a short greeting, into the queue)."""
    from engine.model.facts import Fact

    t = 1000.0
    row = {"call_id": "c1", "arrived_at": t, "answered_at": t + 0.4, "queued_at": None, "connected_at": None,
           "ended_at": t + 7.1, "outcome": "ivr_hangup", "talk_time": None, "hold_time": None,
           "caller": "13800000001", "dialed": "4001234567"}  # fmt: skip
    steps = [
        Fact("ivr.step", t + 6.5, "c1", "u1", "s1", {"node": "greeting", "step": "enter", "seq": 1}),
        Fact("ivr.step", t + 6.85, "c1", "u1", "s2", {"node": "greeting", "step": "hangup", "seq": 2}),
    ]
    rec = recorded_callers(steps, [row], t, t + 10)
    (_, script), = rec.callers
    assert script.hangup_at == pytest.approx(0.6)

    # the caller hung up 0.5 s into the greeting; the menu ran on to the queue before the teardown ended at 11.7 s
    row = dict(row, answered_at=t, ended_at=t + 11.7)
    steps = [
        Fact("ivr.step", t + 0.03, "c1", "u1", "s1", {"node": "greeting", "step": "enter", "seq": 1}),
        Fact("hangup.request", t + 0.53, "c1", "u1", "h1", {"cause": ""}),
        Fact("ivr.step", t + 0.75, "c1", "u1", "s2", {"node": "queue", "step": "enter", "seq": 2}),
    ]
    (_, script), = recorded_callers(steps, [row], t, t + 10).callers
    assert script.hangup_at == pytest.approx(0.5)


def test_rules_file_errors_name_file_and_line(tmp_path):
    site = _site(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[services]]\nname = "sales"\nskills = { hotline = 80 }\nstrategy = "random"\n')
    with pytest.raises(ConfigError) as e:
        load_rules(bad, site)
    text = "\n".join(e.value.problems)
    assert f"{bad}:4: services[0].strategy" in text
    assert "the hotline's service 'hotline' is missing" in text


def test_replay_command_names_a_bad_date(tmp_path):
    site = _site(tmp_path)
    rules = tmp_path / "r.toml"
    rules.write_text(STRICT)
    r = subprocess.run([sys.executable, "-m", "engine.cli", "replay", "--site", str(site.path), "--rules",
                        str(rules), "--from", "yesterday", "--to", "2026-11-02"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "'yesterday': not a date" in r.stdout
