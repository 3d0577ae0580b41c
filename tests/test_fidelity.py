"""The virtual PBX against the transcripts recorded from the real Asterisk (tests/fixtures/ami)."""

import asyncio
from pathlib import Path

from sim import fidelity
from sim.flows import FLOWS

SITE = Path(__file__).resolve().parent.parent / "examples" / "lab-site.toml"


def test_every_flow_has_recorded_runs():
    for fl in FLOWS:
        assert len(fidelity.recorded_runs(fl.name)) >= 1, fl.name


def test_fidelity_score(capsys):
    scores = asyncio.run(fidelity.score_all(SITE))
    with capsys.disabled():
        print("\n" + fidelity.table(scores))
    assert {s.flow for s in scores} == {f.name for f in FLOWS}
    assert fidelity.overall(scores) >= 0.95
    assert min(s.ratio for s in scores) >= 0.85, [(s.flow, round(s.ratio, 3)) for s in scores]


def test_scoring_is_not_blind():
    """A replay that differs must score lower: the comparison can fail."""
    real = fidelity.recorded_runs("inbound_to_agent")[0]
    broken = [f for f in real if f.event != "BridgeEnter"]
    assert fidelity.compare("x", real, broken).ratio < 0.95
    assert fidelity.compare("x", real, real).ratio == 1.0
