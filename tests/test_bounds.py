"""`hotline bench bounds` on one small world: telling the pacer nothing changes nothing, telling it which dials will
turn live buys R and shortens the idle gap, a told agent counts by the share of live calls coming after it is
free, the floor tells the truth it later shows, and a wrong --told is named."""

from __future__ import annotations

import json
from collections import deque
from types import SimpleNamespace

from dialer.pacing import Floor, WrapEnded
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


def test_told_agents_count_each_by_the_share_of_live_calls_coming_after_it_is_free():
    pacer = told_pacer(cells_for("N8-p30")[0], frozenset({"agents"}))
    assert isinstance(pacer, ToldPacer) and pacer.window == 0.7
    pacer.delays["live"] = deque([5.0, 10.0, 15.0, 20.0])  # dial to live verdict, as learned
    pacer.tell(Told(talking=[0.0, 10.7, 900.0], wrapping=[15.7], ringing=[]))
    floor = Floor(now=0.0, idle=0, talking=[100.0, 30.0, 4.0], wrapping=[3.0], ringing=[], waiting=0, logged_in=4,
                  line_limit=24, seconds_left=1000.0)  # fmt: skip
    # free now: any call finds it; in 10.7 s: those coming at 10 s or later (the 0.7-s window); in 900 s: none
    assert pacer.agent_chances(floor) == [1.0, 0.75, 0.0, 0.5]
    pacer.controls.amd, pacer.fell_back = False, True  # AMD switched off: the no-AMD window, as the pacer's own
    pacer.tell(Told(talking=[11.5], wrapping=[], ringing=[]))
    assert pacer.agent_chances(Floor(**{**vars(floor), "talking": [1.0], "wrapping": []})) == [0.75]


class _Recording(ToldPacer):
    """Keeps what the floor told it and when wrap-ups ended."""

    def __init__(self) -> None:
        super().__init__(frozenset(), target=0.03, amd=True)
        self.free_times: set[float] = set()
        self.ended: set[float] = set()
        self.flagged = 0  # dials seen one second after their placing, told to turn live
        self.last = 0

    def on(self, ev, now):
        super().on(ev, now)
        if isinstance(ev, WrapEnded):
            self.ended.add(round(now, 6))

    def dials(self, f: Floor) -> int:
        for x in self.told.talking + self.told.wrapping:
            if f.now + x < 7 * 3600:
                self.free_times.add(round(f.now + x, 6))
        self.flagged += sum(live for r, (_, live) in zip(f.ringing, self.told.ringing, strict=True) if r == 1.0)
        self.last = super().dials(f)
        return self.last


def test_the_floor_tells_the_truth_it_later_shows():
    cell = cells_for("N8-p30")[0]
    pacer = _Recording()
    res = run_floor(cell, World(cell, 4), pacer, 4)
    # every time an agent was told to be free at is a wrap-up's end
    assert pacer.free_times and pacer.free_times <= pacer.ended
    # every dial was told live or not a second after its placing (none is answered sooner); the live ones are the
    # lives the floor saw, but for those of the last second's dials
    assert 0 <= res.measured_lives - pacer.flagged <= pacer.last


def test_the_command_names_a_wrong_truth_and_writes_its_figures(tmp_path, capsys):
    args = SimpleNamespace(cells="N8-p30", seeds="2", told="agents,minds", json=None, workers=1)
    assert main(args) == 2 and "--told takes truths" in capsys.readouterr().out
    out = tmp_path / "b.json"
    assert main(SimpleNamespace(**{**vars(args), "told": "agents+answers", "json": str(out)})) == 0
    got = json.loads(out.read_text())
    assert got["told"] == ["nothing", "agents+answers"]
    assert [(r["cell"], r["told"]) for r in got["table"]] == [("N8-p30", "nothing"), ("N8-p30", "agents+answers")]
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines() if ln.startswith("N8-p30")]
    assert [r[:2] for r in rows] == [["N8-p30", "nothing"], ["N8-p30", "agents+answers"]]
