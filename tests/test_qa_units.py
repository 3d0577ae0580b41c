"""QA's pure parts: who may hear a recording, what the replay's timeline shows, and the talk figures read off a
call's two sides."""

from __future__ import annotations

import numpy as np
import pytest

from engine.model.facts import Fact
from engine.policy import Actor, Policy, Role
from qa.timeline import timeline
from recording.analysis import analyse, peaks

RATE = 8000
POLICY = Policy(lambda agent: frozenset({"front"}) if agent in ("1001", "1002") else frozenset({"back"}))


@pytest.mark.parametrize(("actor", "agent", "why"), [
    (Actor("qa1", Role.QA), "1003", None),
    (Actor("boss", Role.MANAGER), "", None),
    (Actor("lead", Role.TEAM_LEAD, teams=frozenset({"front"})), "1002", None),
    (Actor("lead", Role.TEAM_LEAD, teams=frozenset({"front"})), "1003", "1003 is not in a team lead leads"),
    (Actor("1001", Role.AGENT), "1001", None),
    (Actor("1001", Role.AGENT), "1002", "1001 may hear its own calls only, not 1002's"),
    (Actor("1001", Role.AGENT), "", "no agent is on this recording: only QA staff and managers may hear it"),
    (Actor("root", Role.ADMIN), "1001", "an admin manages the console; recordings are for QA staff, managers and "
                                        "team leads"),
])  # fmt: skip
def test_who_may_hear_a_recording(actor, agent, why):
    assert POLICY.view_refusal(actor, "recording", agent) == why


def test_the_timeline_puts_the_menu_queue_and_ring_before_the_recording_and_the_rest_in_it():
    t0 = 1000.0
    facts = [
        Fact("channel.new", t0, "c", "c", "k1", {"role": "caller", "caller": "13800000001"}),
        Fact("ivr.step", t0 + 2, "c", "c", "k2", {"node": "lang", "step": "digit"}),
        Fact("ivr.step", t0 + 4, "c", "c", "k3", {"node": "lang", "step": "digit"}),  # the same again: one marker
        Fact("call.queued", t0 + 9, "c", "c", "k4", {"service": "hotline"}),
        Fact("agent.offer", t0 + 12, "c", "l", "k5", {"agent": "1001"}),
        Fact("hold", t0 + 40, "c", "c", "k6", {}),
        Fact("unhold", t0 + 55, "c", "c", "k7", {}),
        Fact("ivr.survey", t0 + 90, "c", "c", "k8", {"score": 5}),
        Fact("call.end", t0 + 95, "c", "c", "k9", {}),
    ]
    got = [(m.at, m.kind) for m in timeline(facts, started_at=t0 + 15)]
    assert got == [(-15, "arrival"), (-13, "menu"), (-6, "queue"), (-3, "ring"), (0, "connect"), (25, "hold"),
                   (40, "unhold"), (75, "survey"), (80, "end")]  # fmt: skip


def voice(seconds: float, hz: float, level: float = 8000) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_talk_figures_of_a_call_with_a_known_script():
    """The caller talks 0-10 s, the agent 8-20 s (2 s over each other), nobody 20-27 s, the caller 27-30 s; the
    silent side carries a faint leak of the other (-40 dB), as a recording does."""
    n = 30 * RATE
    left, right = np.zeros(n, np.int16), np.zeros(n, np.int16)
    left[: 10 * RATE] = voice(10, 300)
    right[8 * RATE : 20 * RATE] = voice(12, 500)
    left[27 * RATE :] = voice(3, 300)
    left += (right // 100).astype(np.int16)
    right += (left // 100).astype(np.int16)
    talk = analyse(np.stack([left, right], axis=1), RATE)
    assert talk.caller_talk == pytest.approx(13.0, abs=0.1)
    assert talk.agent_talk == pytest.approx(12.0, abs=0.1)
    assert talk.talk_over == pytest.approx(2.0, abs=0.1)
    assert talk.silences == [(pytest.approx(20.0, abs=0.1), pytest.approx(7.0, abs=0.1))]
    d = talk.as_dict()
    assert d["caller_ratio"] == pytest.approx(13 / 25, abs=0.01) and d["silence_total"] == pytest.approx(7, abs=0.1)


def test_peaks_follow_each_side():
    pcm = np.zeros((8000, 2), np.int16)
    pcm[:4000, 0] = 16384
    lanes = peaks(pcm, buckets=4)
    assert lanes == [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]


@pytest.mark.parametrize(("span", "seek"), [
    ("", False), ("bytes=0-", False), ("bytes=0-99", False), ("bytes=-999999", False), ("Bytes=00-", False),
    ("bytes=0-9,100-199", False), ("bytes=100-199,0-9", False), ("items=100-", False), ("bytes=x-", False),
    ("bytes=100-", True), ("bytes=100-199", True), (" BYTES = 5000- ", True),
])  # fmt: skip
def test_only_a_single_range_past_the_first_byte_is_a_seek_and_not_a_new_playback(span, seek):
    from engine.web.qa.routes import is_seek

    assert is_seek(span) is seek
