"""An answered dial while AMD still listens: a person or a machine, told apart by when the far end picked up and how
long AMD has listened since (``dialer.answered``), learned from resolved dials, and used by the pacer for the
lines still ringing; the engine's floor says which of its dials are answered."""

from __future__ import annotations

import pytest

from dialer.answered import AnswerModel
from dialer.pacer import ForecastPacer
from dialer.pacing import DialResolved, Floor
from dialer.state import Dial


def _model() -> AnswerModel:
    # people pick up after 6-14 s and are named 1.8-2.6 s later; machines after 12-24 s, named 3-5 s later
    return AnswerModel({"live": [6.0, 8.0, 10.0, 12.0, 14.0], "machine": [12.0, 15.0, 18.0, 21.0, 24.0]},
                       {"live": [1.8, 2.0, 2.2, 2.4, 2.6], "machine": [3.0, 3.5, 4.0, 4.5, 5.0]})  # fmt: skip


def test_when_it_was_answered_and_how_long_amd_listened_tell_a_person_from_a_machine():
    m = _model()
    # (each count has a twentieth of a sample added: unseen is unlikely, not impossible)
    assert m.p_live(0.3, 0.2, pick=8.0, listened=1.0) > 0.95  # no machine picked up so soon
    assert m.p_live(0.3, 0.2, pick=18.0, listened=1.0) < 0.1  # nor a person so late
    # at 13 s either may have: two people's pickups near it, one machine's, by the shares 0.3 and 0.2
    assert m.p_live(0.3, 0.2, 13.0, 1.0) == pytest.approx(0.75, abs=0.01)
    # 2.3 s later AMD has named three of the five people, none of the machines
    assert m.p_live(0.3, 0.2, 13.0, 2.3) == pytest.approx(0.3 * 0.4 * 0.4 / (0.3 * 0.4 * 0.4 + 0.2 * 0.2), abs=0.01)
    assert m.p_live(0.3, 0.2, 13.0, 2.7) < 0.05  # later than any person's verdict
    m.add("live", 13.0, 0.0)  # an answer that was its own verdict (no AMD) teaches nothing
    m.add("machine", 13.0, 4.0)
    m.refit()
    assert len(m.pick["live"]) == 5 and m.p_live(0.3, 0.2, 13.0, 1.0) < 0.65  # a second machine near 13 s


def _floor(ringing: list[float], answered: list[float | None], now: float = 60.0) -> Floor:
    return Floor(now=now, idle=4, talking=[], wrapping=[], ringing=ringing, waiting=0, logged_in=4,
                 line_limit=24, seconds_left=3600.0, answered=answered)  # fmt: skip


def test_the_pacer_counts_an_answered_dial_by_who_answers_then():
    p = ForecastPacer()
    p.dials(_floor([], []))
    share = {o: x / sum(p.mix.values()) for o, x in p.mix.items()}
    # by when it was answered, not how long it has rung: rung 14.5 s, answered 1.5 s ago, so at 13 s (where two
    # people picked up and one machine; at 14.5 s one of each)
    p.answers = _model()
    assert p.ringing_chances(_floor([14.5], [1.5]), share) == [pytest.approx(0.75, abs=0.01)]
    p = ForecastPacer()
    p.dials(_floor([], []))
    ringing = [9.0, 9.0, 16.0, 16.0]
    q = p.ringing_chances(_floor(ringing, [1.0, None, 1.0, None]), share)
    assert q[0] > 0.9 > 0.5 > q[1]  # answered at 8 s: a person, most likely; still ringing: more likely nobody
    # answered at 15 s: a late person or an early machine (in PaceBench's world about 0.3 a person), where a line still
    # ringing then is most likely nobody's
    assert 0.2 < q[2] < 0.45 and q[3] < 0.1
    assert p.ringing_chances(_floor(ringing, []), share) == [q[1], q[1], q[3], q[3]]  # unsaid: as before


def test_the_pacer_learns_who_answers_when_from_resolved_dials():
    p = ForecastPacer()
    p.dials(_floor([], []))
    assert p.answers.p_live(0.3, 0.2, 8.0, 1.0) > 0.98  # by the prior no machine answers after 8 s
    for i in range(60):  # a list whose machines pick up after 8 s, named 3 s later
        p.on(DialResolved("machine", 11.0, 8.0), 20.0 + i)
    p.dials(_floor([], [], now=200.0))  # the cohort complete and the model refitted
    assert p.answers.p_live(0.3, 0.2, 8.0, 1.0) < 0.5


def test_a_dial_knows_when_its_far_end_answered():
    d = Dial("c1", None, placed=100.0, amd=True)  # type: ignore[arg-type]
    assert d.picked is None
    d.answered_at = 108.5
    assert d.picked == 8.5
