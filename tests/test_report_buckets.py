"""Bucket rows from hand-built call records and facts: every expected figure below is worked out by hand from the
timeline written in the comments, not from the code's formulas."""

from __future__ import annotations

from typing import Any

from engine.model.facts import Fact
from reports.buckets import Bucket, SiteRules, buckets, merge

S = 1_800_000_000  # a multiple of 900: the first interval's start
RULES = SiteRules(sl_targets={"hotline": 15.0, "sales": 20.0}, short_abandon=5.0)


def rec(call_id: str, outcome: str, queued: float | None, service: str = "hotline", agent: str = "",
        wait: float | None = None, ring: float | None = None, talk: float | None = None, hold: float = 0.0,
        wrap: float = 0.0, ended: float | None = None, arrived: float | None = None) -> dict[str, Any]:  # fmt: skip
    connected = None if outcome != "answered" or queued is None or wait is None else queued + wait
    return {"call_id": call_id, "caller": "13800000000", "service": service, "outcome": outcome, "agent_id": agent,
            "arrived_at": arrived if arrived is not None else (queued or 0) - 5, "queued_at": queued,
            "queue_wait": wait, "ring_time": ring, "talk_time": talk, "hold_time": hold, "wrap_up_time": wrap,
            "handle_time": None if talk is None else talk + hold + wrap, "connected_at": connected,
            "ended_at": ended}  # fmt: skip


RECORDS = [
    # answered by A after 12 s (within hotline's 15), rang 8 s, 100 talk + 20 hold + 10 wrap: busy S+22..S+152
    rec("c1", "answered", S + 10, agent="A", wait=12, ring=8, talk=100, hold=20, wrap=10),
    # answered by B after 30 s (late), rang 20 s (over 3 rings): busy S+130..S+185
    rec("c2", "answered", S + 100, agent="B", wait=30, ring=20, talk=50, wrap=5),
    rec("c3", "abandoned", S + 200, ended=S + 203),  # 3 s of waiting: a short abandon
    rec("c4", "abandoned", S + 300, agent="A", ended=S + 340),  # 40 s: abandoned after T; A was rung, did not answer
    rec("c5", "answered", S + 950, service="sales", agent="A", wait=18, ring=3, talk=60),  # busy S+968..S+1028
    rec("c6", "ivr_hangup", None, arrived=S + 400),  # never queued: arrived only
    rec("c7", "callback", S + 500, ended=S + 560),
    rec("c8", "answered", S - 100, agent="A", wait=5, talk=10),  # before the range: not counted
    # queued before the range, so not counted in it; but B talks with it from S-190 to S+60: 60 s busy in the range
    rec("c9", "answered", S - 200, agent="B", wait=10, talk=250),
]


def fact(kind: str, at: float, call_id: str = "", **data: Any) -> Fact:
    return Fact(kind, at, call_id, call_id, f"{kind}:{at}:{call_id}", data)


FACTS = [
    fact("agent.status", S - 600, agent="A", action="login", status="available", reason="", state="idle"),
    fact("agent.status", S + 200, agent="A", action="pause", status="paused", reason="lunch", state="idle"),
    fact("agent.status", S + 500, agent="A", action="resume", status="available", reason="", state="idle"),
    fact("agent.status", S + 1200, agent="A", action="logout", status="logged_out", reason="", state="idle"),
    fact("route.decision", S + 21, "c1", agent="A", step=1, service="hotline"),
    fact("ivr.survey", S + 170, "c1", agent="A", score=5),
    fact("ivr.survey", S + 200, "c2", agent="B", score=3),
    fact("acd.guard", S + 10, agent="C", action="reserve", service="hotline"),
    fact("acd.guard", S + 20, agent="C", action="release", service="hotline"),
    fact("ivr.overflow", S + 30, "c10"),
    fact("dialer.lent", S + 105, "c2", agent="B", campaign="renew"),  # B was lent by the dialer for c2
    # D logs in at S and is paused by the ACD at S+600 after unanswered offers, until the end
    fact("agent.status", S, agent="D", action="login", status="available", reason="", state="idle"),
    fact("agent.paused", S + 600, agent="D", reason="no answer"),
    # C works a campaign: its session is up from S+250; one conversation S+300..S+400, sold
    fact("dialer.session", S + 250, "as-1", agent="C", campaign="renew", state="up"),
    fact("outbound.placed", S + 280, "d1", campaign="renew", lead=1),
    fact("outbound.verdict", S + 295, "d1", campaign="renew", amd="HUMAN"),
    fact("outbound.connect", S + 300, "d1", campaign="renew", agent="C", after_greeting=1.0),
    fact("outbound.talk_end", S + 400, "d1", campaign="renew", agent="C", talk=100.0),
    fact("outbound.disposition", S + 405, "d1", campaign="renew", agent="C", code="1", label="sale"),
    fact("outbound.placed", S + 281, "d2", campaign="renew", lead=2),
    fact("outbound.machine", S + 290, "d2", campaign="renew"),
    fact("outbound.result", S + 291, "d2", campaign="renew", outcome="machine"),
]

GRADES = [
    {"id": "g1", "call_id": "c1", "agent": "A", "score": 80.0, "supersedes": None, "created_at": S + 3000},
    {"id": "g2", "call_id": "c1", "agent": "A", "score": 90.0, "supersedes": "g1", "created_at": S + 3100},
    {"id": "g3", "call_id": "c5", "agent": "A", "score": 70.0, "supersedes": None, "created_at": S + 3200},
]


def rows() -> dict[tuple[int, str, str, str], Bucket]:
    got = buckets(RECORDS, FACTS, RULES, S, S + 1800, GRADES)
    assert len({b.key for b in got}) == len(got), "one bucket per key"
    return {b.key: b for b in got}


def test_calls_count_in_the_interval_they_queued_under_the_answering_agent():
    b = rows()
    a = b[(S, "hotline", "A", "")]
    assert (a.offered, a.answered, a.handled, a.sl_within, a.wait_sum, a.wait_max) == (1, 1, 1, 1, 12, 12)
    assert (a.talk_sum, a.hold_sum, a.wrap_sum, a.handle_sum) == (100, 20, 10, 130)
    assert (a.ring_known, a.ring_within, a.overflowed) == (1, 1, 1)
    bb = b[(S, "hotline", "B", "")]
    assert (bb.answered, bb.sl_within, bb.ring_within, bb.overflowed, bb.handle_sum) == (1, 0, 0, 0, 55)
    assert (bb.lent, a.lent) == (1, 0)
    # unanswered calls are nobody's, even the one A was rung for
    n = b[(S, "hotline", "", "")]
    assert (n.arrived, n.offered, n.answered) == (4, 3, 0)  # c3, c4, c7 offered; c6 only arrived
    # the longest wait of an offered call: c7 waited 60 s before its call back ended the call
    assert (n.abandoned, n.short_abandoned, n.sl_late_abandons, n.wait_max) == (1, 1, 1, 60)
    assert (n.other, n.callbacks, n.voicemails, n.timeouts) == (1, 1, 0, 0)
    sales = b[(S + 900, "sales", "A", "")]
    assert (sales.answered, sales.sl_within) == (1, 1)  # 18 s is within sales' own 20 s
    assert not any(k[0] < S for k in b), "c8 and c9 queued before the range"
    assert sum(x.answered for x in b.values()) == 3


def test_agent_time_is_cut_at_interval_bounds_and_follows_the_last_status_before_the_range():
    b = rows()
    first = b[(S, "", "A", "")]
    # logged in all 900 s (login before the range); lunch S+200..S+500; busy with c1 S+22..S+152
    assert first.logged_in_s == 900
    assert first.pause_s == {"lunch": 300}
    assert first.busy_s == 130
    assert first.available_s == 900 - 300 - 130
    assert first.first_login is None and first.last_logout is None
    second = b[(S + 900, "", "A", "")]
    # logged in S+900..S+1200; busy with c5 S+968..S+1028
    assert (second.logged_in_s, second.busy_s, second.available_s) == (300, 60, 240)
    assert second.last_logout == S + 1200
    # B has no status facts: its calls are busy time (c2's 55 s, and c9's last 60), nothing else is known
    assert (b[(S, "", "B", "")].busy_s, b[(S, "", "B", "")].logged_in_s) == (55 + 60, 0)
    # C's session is up from S+250: 650 s logged in, 100 of them talking
    c = b[(S, "", "C", "")]
    assert (c.logged_in_s, c.busy_s, c.available_s, c.first_login) == (650, 100, 550, S + 250)
    assert b[(S + 900, "", "C", "")].logged_in_s == 900
    d, d2 = b[(S, "", "D", "")], b[(S + 900, "", "D", "")]
    assert (d.first_login, d.logged_in_s, d.available_s, d.pause_s) == (S, 900, 600, {"no answer": 300})
    assert (d2.logged_in_s, d2.available_s, d2.pause_s, d2.first_login) == (900, 0, {"no answer": 900}, None)


def test_surveys_grades_guard_and_outbound():
    b = rows()
    a = b[(S, "hotline", "A", "")]
    assert (a.survey_n, a.survey_sum, a.survey_top2) == (1, 5, 1)
    assert (b[(S, "hotline", "B", "")].survey_top2, b[(S, "hotline", "B", "")].survey_sum) == (0, 3)
    assert (a.qa_n, a.qa_sum) == (1, 90)  # g2 corrects g1: only the correction counts
    assert (b[(S + 900, "sales", "A", "")].qa_n, b[(S + 900, "sales", "A", "")].qa_sum) == (1, 70)
    assert b[(S, "hotline", "C", "")].guard_reserves == 1
    assert b[(S, "", "", "")].over_limit == 1
    talk = b[(S, "", "C", "renew")]
    assert (talk.out_connected, talk.out_late, talk.out_talk_s, talk.dispositions) == (1, 0, 100, {"sale": 1})
    dials = b[(S, "", "", "renew")]
    assert (dials.dials, dials.out_machines, dials.out_outcomes) == (2, 1, {"answered": 1, "machine": 1})


def test_sums_over_agents_equal_the_service_totals():
    got = list(rows().values())
    answered = sum(b.answered for b in got)
    assert answered == sum(1 for r in RECORDS if r["outcome"] == "answered" and r["queued_at"] >= S)
    by_agent = sum(b.handle_sum for b in got if b.agent)
    assert by_agent == 130 + 55 + 60


def test_rows_round_trip_and_merge():
    for b in rows().values():
        assert Bucket.from_row(b.as_row()) == b
    one = Bucket(S, "hotline", "A", "", answered=1, wait_max=12.0, pause_s={"lunch": 10.0}, first_login=S + 5.0)
    two = Bucket(S, "hotline", "A", "", answered=2, wait_max=30.0, pause_s={"lunch": 5.0, "break": 1.0},
                 first_login=S + 1.0, last_logout=S + 9.0)  # fmt: skip
    m = merge([one, two])
    assert len(m) == 1
    assert (m[0].answered, m[0].wait_max, m[0].first_login, m[0].last_logout) == (3, 30.0, S + 1.0, S + 9.0)
    assert m[0].pause_s == {"lunch": 15.0, "break": 1.0}


def test_buckets_of_halves_merge_into_the_buckets_of_the_whole():
    whole = buckets(RECORDS, FACTS, RULES, S, S + 1800, GRADES)
    halves = buckets(RECORDS, FACTS, RULES, S, S + 900, GRADES) + buckets(RECORDS, FACTS, RULES, S + 900, S + 1800,
                                                                        GRADES)  # fmt: skip
    assert merge(halves) == whole
