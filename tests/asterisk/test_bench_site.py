"""`hotline bench site` on the real Asterisk, small: four campaign seats in always-on sessions, one SIPp far end
answering each dialed lead as the virtual day's carrier does, hotline callers through the menu beside. The
engine's view of the dials and the far ends' own log agree, nothing is left up, and every conversation is
recorded in stereo at its length."""

import json
import subprocess
import sys

import pytest

from tests.asterisk.conftest import ROOT, SITE
from tests.asterisk.test_load import _lab_up

# alone: a recording's length is the media that reached Asterisk, which falls short of the wall clock when the
# machine is busy (two busy loops beside: 36 s recorded of a 64-s conversation; alone, every one within 1 s)
pytestmark = [pytest.mark.asterisk, pytest.mark.alone]


def test_the_campaign_and_the_hotline_together_agree_with_the_far_ends_and_are_recorded(lab, tmp_path):
    out = tmp_path / "site.json"
    try:
        r = subprocess.run(
            [sys.executable, "-m", "engine.cli", "bench", "site", "--agents", "4", "--minutes", "1",
             "--hotline-talk", "10", "--inbound-rate", "4", "--drain", "40", "--seed", "3",
             "--workdir", str(tmp_path / "work"), "--json", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    finally:
        _lab_up(SITE)  # the bench brought the lab up with its own site's phones
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "the lab lacks" in r.stdout or "the lab has every agent" in r.stdout
    rep = json.loads(out.read_text())
    c, h, fe = rep["campaign"], rep["hotline"], rep["campaign"]["far_ends"]
    assert rep["sipp_problems"] == [] and h["problems"] == []
    assert c["dials"] > 0 and c["conversations"] > 0 and h["answered"] > 0, (c, h)
    # every call a far end answered was seen ending from its side: none was left up
    assert fe["unresolved"] == 0, fe
    # the engine classified exactly the answers the far ends logged, and Asterisk's AMD heard each greeting as
    # its row meant it: the long messages as machines, the short hellos as people
    assert c["outcomes"].get("answered", 0) == sum(fe["greetings"].values()) > 0, (c["outcomes"], fe)
    assert c["machines"] == fe["greetings"].get("machine", 0), (c["machines"], fe)
    # a conversation is a far end the engine took for a person and bridged; it abandoned the rest of those
    assert c["conversations"] + c["abandoned"] == fe["greetings"].get("person", 0), (c, fe)
    # every conversation of both kinds recorded: two channels, its file there, its length the conversation's
    rec = rep["recordings"]
    assert rec["conversations"] == c["conversations"] + h["answered"], rec
    assert rec["problem_count"] == 0, rec["problems"]
    assert rep["usage"]["engine_process"]["cpu_s"] > 0 and rep["usage"]["asterisk"]["cpu_s"] > 0
    assert rep["virtual_day"]["conversations"] > 0 and set(rep["verdict"]) >= {"every_conversation_recorded"}
