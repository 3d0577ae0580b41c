"""`hotline bench frontier` on one small world: the pacer aiming at no abandons dials progressively (next to no
abandons, a low R), aiming at 4.5 % it abandons more and keeps agents busier; a wrong target list is named and the
figures are written."""

from __future__ import annotations

import json
from types import SimpleNamespace

from sim.pacebench.frontier import frontier, main
from sim.pacebench.suite import cells_for


def test_a_higher_target_buys_talk_with_abandons_and_is_judged_by_the_limit():
    rows = frontier(cells_for("N8-p30"), [1], (0.0, 0.045), workers=1)
    low, high = rows
    assert (low["cell"], low["target"], high["target"]) == ("N8-p30", 0.0, 0.045)
    assert low["abandon_us_truth"] < 0.015 < high["abandon_us_truth"], (low, high)
    assert low["R_raw"] < high["R_raw"] and low["idle_gap_mean"] > high["idle_gap_mean"]


def test_the_command_names_a_wrong_target_and_writes_its_figures(tmp_path, capsys):
    args = SimpleNamespace(cells="N8-p30", seeds="2", targets="0.03,x", json=None, workers=1)
    assert main(args) == 2 and "--targets must be abandon rates" in capsys.readouterr().out
    out = tmp_path / "f.json"
    assert main(SimpleNamespace(**{**vars(args), "targets": "0.03", "json": str(out)})) == 0
    got = json.loads(out.read_text())
    assert got["targets"] == [0.03] and [r["cell"] for r in got["table"]] == ["N8-p30"]
    assert "N8-p30" in capsys.readouterr().out
