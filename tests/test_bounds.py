"""`hotline bench bounds` on one small world: telling the pacer nothing changes nothing, telling it which dials will
turn live buys R and shortens the idle gap, an agent about to be free is counted on and one busy for minutes is
not, and a wrong --told is named."""

from __future__ import annotations

import json
from types import SimpleNamespace

from dialer.pacing import Floor
from sim.pacebench.floor import Told, run_floor
from sim.pacebench.frontier import pacer_at
from sim.pacebench.suite import _raw, cells_for
from sim.pacebench.told import ToldPacer, bounds, main, told_pacer
from sim.pacebench.world import World


def test_a_pacer_told_nothing_dials_as_the_pacer_does():
    cell = cells_for("N8-p30")[0]
    world = World(cell, 3)
    plain = _raw(run_floor(cell, world, pacer_at(cell, 0.03), 3), "p")
    told = _raw(run_floor(cell, world, ToldPacer(frozenset(), target=0.03, amd=True), 3), "p")
    assert plain == told


def test_knowing_which_dials_turn_live_buys_talk():
    rows = bounds(cells_for("N8-p30"), [1], ("fates",), workers=1)
    plain, fates = rows
    assert (plain["told"], fates["told"]) == ("nothing", "fates")
    assert fates["R_raw"] > plain["R_raw"] + 0.03, (plain, fates)
    assert fates["idle_gap_mean"] < plain["idle_gap_mean"] and fates["compliant"]


def test_told_agents_count_the_one_about_to_be_free():
    pacer = told_pacer(cells_for("N8-p30")[0], frozenset({"agents"}))
    assert isinstance(pacer, ToldPacer)
    pacer.tell(Told(talking=[0.0, 900.0], wrapping=[], ringing=[]))
    floor = Floor(now=0.0, idle=0, talking=[100.0, 30.0], wrapping=[], ringing=[], waiting=0, logged_in=2,
                  line_limit=12, seconds_left=1000.0)  # fmt: skip
    assert pacer.agent_chances(floor) == [1.0, 0.0]


def test_the_command_names_a_wrong_truth_and_writes_its_figures(tmp_path, capsys):
    args = SimpleNamespace(cells="N8-p30", seeds="2", told="agents,minds", json=None, workers=1)
    assert main(args) == 2 and "--told takes truths" in capsys.readouterr().out
    out = tmp_path / "b.json"
    assert main(SimpleNamespace(**{**vars(args), "told": "agents+answers", "json": str(out)})) == 0
    got = json.loads(out.read_text())
    assert got["told"] == ["nothing", "agents+answers"]
    assert [(r["cell"], r["told"]) for r in got["table"]] == [("N8-p30", "nothing"), ("N8-p30", "agents+answers")]
    assert "agents+answers" in capsys.readouterr().out
