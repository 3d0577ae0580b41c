"""The virtual PBX against the transcripts recorded from the real Asterisk (tests/fixtures/ami)."""

import asyncio
from pathlib import Path

import pytest

from sim import fidelity
from sim.agi_transcript import AgiFrame
from sim.flows import FLOWS

SITE = Path(__file__).resolve().parent.parent / "examples" / "lab-site.toml"


def test_every_flow_has_recorded_runs():
    for fl in FLOWS:
        assert len(fidelity.recorded_runs(fl.name)) >= 1, fl.name


@pytest.fixture(scope="module")
def replays() -> dict[str, fidelity.Timed]:
    """Every flow replayed once through the virtual PBX (real time, about 50 s), read by each test of a replay:
    replaying a flow again for another test would prove nothing more."""
    return asyncio.run(fidelity.replay_all(SITE))


def test_fidelity_score(replays, summary):
    scores = fidelity.score_replays(replays)
    summary.append(fidelity.table(scores))
    assert {s.flow for s in scores} == {f.name for f in FLOWS}
    assert fidelity.overall(scores) >= 0.95
    inbound = [s for s in scores if next(f for f in FLOWS if f.name == s.flow).kind == "inbound"]
    assert inbound and all(s.agi_rows > 0 for s in inbound), "the AGI exchange is compared for every inbound flow"
    assert min(s.ratio for s in scores) >= 0.85, [(s.flow, round(s.ratio, 3)) for s in scores]


def test_scoring_is_not_blind():
    """A replay that differs must score lower: the comparison can fail."""
    real = fidelity.recorded_runs("inbound_to_agent")[0]
    broken = fidelity.Transcript([f for f in real.ami if f.event != "BridgeEnter"], real.agi)
    assert fidelity.compare("x", real, broken).ratio < 0.95
    assert fidelity.compare("x", real, real).ratio == 1.0


UID, CHAN = "1700000000.5", "PJSIP/trunk-000000ff"  # not the recorded run's ids
ENV = {"agi_network_script": "ivr", "agi_channel": CHAN, "agi_uniqueid": UID, "agi_context": "from-trunk",
       "agi_extension": "4001234567", "agi_priority": "3", "agi_callerid": "13800138000", "agi_dnid": "4001234567",
       "agi_arg_1": "4001234567", "agi_request": "agi://127.0.0.1:4573/ivr", "agi_threadid": "1401"}  # fmt: skip


def _agi(*exchange: tuple[str, str]) -> list[AgiFrame]:
    return [AgiFrame("env", UID, CHAN, "ivr", ENV)] + [AgiFrame(k, UID, CHAN, t) for k, t in exchange]


GET_OPTION = _agi(("command", "ANSWER"), ("reply", "200 result=0"),
                  ("command", "GET OPTION hello-world 0123456789*# 5000"), ("reply", "200 result=49 endpos=9960"),
                  ("command", f"SET VARIABLE HOTLINE_CALL {UID}"), ("reply", "200 result=1"))  # fmt: skip


def test_agi_exchange_survives_the_transcript_file(tmp_path):
    real = fidelity.recorded_runs("inbound_to_agent")[0]
    path = tmp_path / "run1.jsonl"
    fidelity.save(path, [(0.1 * i, f) for i, f in enumerate(real.ami)], [(0.05 + 0.1 * i, a) for i, a in
                                                                         enumerate(GET_OPTION)])  # fmt: skip
    back = fidelity.load(path)
    assert back.agi == GET_OPTION and [f.headers for f in back.ami] == [f.headers for f in real.ami]


def test_agi_comparison_can_fail():
    """A transcript whose AGI commands or replies differ from the replay's scores lower and shows in the diff,
    with the AMI side equal."""
    ami = fidelity.recorded_runs("inbound_to_agent")[0].ami
    real = fidelity.Transcript(ami, GET_OPTION)
    assert fidelity.compare("x", real, real).ratio == 1.0
    # the IVR before GET OPTION: a prompt, then a separate wait for the digit
    old_ivr = _agi(("command", "ANSWER"), ("reply", "200 result=0"),
                   ("command", "STREAM FILE hello-world 0123456789*#"), ("reply", "200 result=0 endpos=9960"),
                   ("command", "WAIT FOR DIGIT 5000"), ("reply", "200 result=49"),
                   ("command", f"SET VARIABLE HOTLINE_CALL {UID}"), ("reply", "200 result=1"))  # fmt: skip
    score = fidelity.compare("x", real, fidelity.Transcript(ami, old_ivr))
    assert score.ami_ratio == 1.0 and score.agi_ratio < 0.8 and score.ratio < 1.0
    shown = fidelity.diff(real, fidelity.Transcript(ami, old_ivr))
    assert "-GET OPTION arg1=hello-world" in shown and "+WAIT FOR DIGIT arg1=5000" in shown
    # same commands, another digit in Asterisk's reply
    other_digit = [AgiFrame(a.kind, a.uniqueid, a.channel, a.text.replace("result=49", "result=50")) if a.kind ==
                   "reply" else a for a in GET_OPTION]  # fmt: skip
    score = fidelity.compare("x", real, fidelity.Transcript(ami, other_digit))
    assert score.matched_agi_rows == score.agi_rows and score.agi_ratio < 1.0
    assert "+GET OPTION arg1=hello-world arg2=0123456789*# more=5000 code=200 result=50" in fidelity.diff(
        real, fidelity.Transcript(ami, other_digit))
    # a session the replay never opened loses all its points
    assert fidelity.compare("x", real, fidelity.Transcript(ami, [])).agi_ratio == 0.0


def test_agi_identifiers_are_normalised_like_the_ami_side():
    """The uniqueid in an AGI argument is named as in the AMI events, so two runs with other ids agree."""
    ami = fidelity.recorded_runs("inbound_to_agent")[0].ami
    first_uid = next(f.get("Uniqueid") for f in ami if f.get("Uniqueid"))
    first_chan = next(f.get("Channel") for f in ami if f.get("Channel"))
    mine = [AgiFrame(a.kind, first_uid, first_chan, a.text.replace(UID, first_uid),
                     {**a.env, "agi_uniqueid": first_uid, "agi_channel": first_chan} if a.env else None)
            for a in GET_OPTION]  # fmt: skip
    assert fidelity.compare("x", fidelity.Transcript(ami, GET_OPTION), fidelity.Transcript(ami, mine)).ratio < 1.0
    assert fidelity.compare("x", fidelity.Transcript(ami, mine), fidelity.Transcript(ami, mine)).ratio == 1.0
    text = fidelity.diff(fidelity.Transcript(ami, []), fidelity.Transcript(ami, mine))
    assert "channel=PJSIP/trunk-#1 uniqueid=U1" in text and "arg2=U1" in text


def test_recorded_inbound_runs_hold_the_agi_exchange():
    """The transcripts are recorded with the IVR's current commands (GET OPTION for the menu's digit)."""
    for fl in FLOWS:
        for run in fidelity.recorded_runs(fl.name):
            commands = [a.text.split()[0:2] for a in run.agi if a.kind == "command"]
            if fl.kind == "inbound":
                assert any(a.kind == "env" and a.text == "ivr" for a in run.agi), fl.name
                assert ["GET", "OPTION"] in commands, fl.name
                assert sum(a.kind == "reply" for a in run.agi) == len(commands), fl.name
            else:
                assert run.agi == [], fl.name


@pytest.mark.parametrize("flow", ["ivr_hangup", "inbound_to_agent"])
def test_virtual_pbx_answers_the_ivr_as_asterisk_did(flow, replays):
    """Through the virtual PBX the engine gets Asterisk's AGI replies: GET FULL VARIABLE of an absent header is
    result=1 with empty data, a whole hello-world ends at the sound file's endpos, and a hang-up during GET OPTION
    is result=-1 with the HANGUP line after it (seen with the next command)."""
    frames, agi = replays[flow]
    replay = fidelity.Transcript([f for _, f in frames], [a for _, a in agi])
    runs = fidelity.recorded_runs(flow)
    best = max(runs, key=lambda r: fidelity.compare(flow, r, replay).agi_ratio)
    assert fidelity.compare(flow, best, replay).agi_ratio == 1.0, fidelity.diff(best, replay)
    if flow == "inbound_to_agent":
        assert "200 result=49 endpos=11234" in [a.text for _, a in agi]  # the lab's hello-world: 11234 samples


def test_agent_rings_before_the_recording_starts(replays):
    """On the lab a loopback phone answers the INVITE with 180 within a millisecond, before the engine's
    MixMonitor lands: in every recorded run the agent rings first. The virtual PBX rang 10 ms late."""

    def order(frames: list) -> list[str]:
        return [f.event for f in frames if f.event in ("DialState", "MixMonitorStart")]

    for run in fidelity.recorded_runs("abandon_waiting"):
        assert order(run.ami) == ["DialState", "MixMonitorStart"]
    frames, _ = replays["abandon_waiting"]
    assert order([f for _, f in frames]) == ["DialState", "MixMonitorStart"]
