"""The daily sample: every agent who worked is sampled, a new hire twice as much, graded calls count, the same
sample however often it is asked for, and risky calls picked far more often than plain ones."""

from __future__ import annotations

import datetime as dt

from qa.sampling import CallFacts, daily_sample, risks_of
from qa.settings import QaSettings

S = QaSettings(sample_per_agent=2, new_hire_days=30, short_call=30, long_call=900, low_survey=2)
DAY = dt.date(2026, 12, 2)


def row(i: int, agent: str, seconds: float = 200.0, talk: dict | None = None) -> dict:
    return {"id": f"r{i}", "call_id": f"c{i}", "agent": agent, "started_at": 1000.0 + i, "seconds": seconds,
            "talk": talk, "purged_at": None, "kind": "inbound"}  # fmt: skip


def test_every_agent_who_worked_gets_its_quota_a_new_hire_twice_and_graded_calls_count():
    rows = [row(i, "1001") for i in range(10)] + [row(10 + i, "1002") for i in range(10)] + [row(30, "1003")]
    sample = daily_sample(DAY, rows, {}, {"1002": "2026-11-20", "1001": "2025-01-01"}, {"r3"}, S)
    assert sorted(sample) == ["1001", "1002", "1003"]
    assert len(sample["1001"]) == 2 and len(sample["1002"]) == 4 and len(sample["1003"]) == 1
    assert "r3" in {p.recording for p in sample["1001"]}, "a call graded today stays in the sample"
    assert all(p.new_hire for p in sample["1002"]) and not any(p.new_hire for p in sample["1001"])
    again = daily_sample(DAY, list(reversed(rows)), {}, {"1002": "2026-11-20"}, {"r3"}, S)
    assert {a: [p.recording for p in ps] for a, ps in again.items()} == {
        a: [p.recording for p in ps] for a, ps in sample.items()}, "the same sample, whatever the order"


def test_risks_are_read_from_the_call_and_its_recording():
    r = row(1, "1001", seconds=12, talk={"silence_longest": 14.0, "talk_over": 6.0})
    got = risks_of(r, CallFacts(transferred=True, survey=1, complaint=True), S)
    assert got == ("short", "transfer", "low_survey", "complaint", "silence", "talk_over")
    assert risks_of(row(2, "1001", seconds=1200), CallFacts(survey=4), S) == ("long",)


def test_risky_calls_are_picked_far_more_often_than_plain_ones():
    """One agent, 2 risky calls (weight 1 + 3 + 3 = 7) among 18 plain ones, over 300 days: a plain call is picked
    about 2 / 20 of the time by a uniform draw; a risky one should be picked several times as often."""
    risky = {"c0": CallFacts(survey=1, complaint=True), "c1": CallFacts(survey=1, complaint=True)}
    picked_risky = picked_plain = 0
    for d in range(300):
        day = DAY + dt.timedelta(days=d)
        picks = daily_sample(day, [row(i, "1001") for i in range(20)], risky, {}, set(), S)["1001"]
        picked_risky += sum(p.recording in ("r0", "r1") for p in picks)
        picked_plain += sum(p.recording not in ("r0", "r1") for p in picks)
    per_risky, per_plain = picked_risky / (2 * 300), picked_plain / (18 * 300)
    assert per_risky > 3 * per_plain, (per_risky, per_plain)
