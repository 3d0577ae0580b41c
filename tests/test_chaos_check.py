"""The chaos run's reconciliation on small synthetic runs: a clean run has no mismatch, and each kind of
damage gives exactly its own mismatch."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from sim.chaos_check import (
    AgentLeg,
    AgentsSynced,
    CallerCall,
    ChaosInputs,
    Fault,
    cdr_rows,
    phase_at,
    reconcile,
    render,
)

T0 = 1_800_000_000.0


def utc(t: float) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%d %H:%M:%S")


def cdr(uid: str, answer: float | None, end: float, src: str = "") -> dict[str, str]:
    return {
        "src": src,
        "uniqueid": uid,
        "answer": utc(answer) if answer is not None else "",
        "end": utc(end),
        "start": utc(end - 30),
    }


def record(
    tag: str,
    call_id: str,
    *,
    outcome: str = "answered",
    agent: str = "1001",
    answered_at: float = 0.0,
    ended_at: float = 0.0,
    talk: float | None = 10.0,
    hold: float = 0.0,
    recording: str = "",
    queued_at: float | None = None,
) -> dict:
    return {
        "tag": tag,
        "call_id": call_id,
        "outcome": outcome,
        "agent_id": agent if outcome == "answered" else "",
        "answered_at": answered_at,
        "ended_at": ended_at,
        "talk_time": talk,
        "hold_time": hold,
        "recording": recording,
        "queued_at": queued_at,
    }


def clean() -> ChaosInputs:
    """Three calls: one answered by 1001, one abandoned in the queue, one degraded answered by 1001."""
    a = CallerCall("R-0", "13800000000", T0 + 1, T0 + 1.1, T0 + 20.2)
    b = CallerCall("R-1", "13800000001", T0 + 3, T0 + 3.1, T0 + 12.0)
    c = CallerCall("R-2", "13800000002", T0 + 25, T0 + 25.1, T0 + 40.0)
    legs = [
        AgentLeg("1001", a.number, T0 + 5.0, T0 + 6.0, T0 + 20.0),
        AgentLeg("1001", c.number, T0 + 30.0, T0 + 31.0, T0 + 40.0),
    ]
    records = [
        record(
            "R-0",
            "100.1",
            answered_at=T0 + 1.2,
            ended_at=T0 + 20.1,
            talk=14.0,
            recording="/r/a.wav",
            queued_at=T0 + 4.0,
        ),
        record(
            "R-1", "100.2", outcome="abandoned", answered_at=T0 + 3.2, ended_at=T0 + 12.0, talk=None, queued_at=T0 + 5.0
        ),
    ]
    rows = [cdr("100.1", T0 + 1, T0 + 8), cdr("100.1", T0 + 6, T0 + 20), cdr("100.2", T0 + 3, T0 + 12)]
    return ChaosInputs(
        calls=[a, b, c],
        legs=legs,
        records=records,
        degraded=[{"call_id": "100.9", "caller": c.number}],
        cdr=rows,
        recordings={"/r/a.wav": 14.3},
        faults=[Fault("ami-cut", T0 + 8.0)],
        synced=[AgentsSynced(T0 + 9.0, T0 + 8.6, {"1001": "on_call", "1002": "idle"})],
        started=T0,
        finished=T0 + 45,
        sipp_agents={"1001", "1002"},
    )


def kinds(inp: ChaosInputs) -> list[str]:
    return [m.kind for m in reconcile(inp).mismatches]


def test_a_clean_run_has_no_mismatch_and_its_fault_table():
    res = reconcile(clean())
    assert res.mismatches == []
    (row,) = res.faults
    assert row["kind"] == "ami-cut" and row["at"] == 8.0
    assert row["phases"] == {"talking": ["R-0"], "waiting": ["R-1"]}
    assert row["recovery_s"] == pytest.approx(0.4) and row["after_fault_s"] == pytest.approx(1.0)
    s = res.summary
    assert (s["calls_placed"], s["records"], s["degraded"], s["calls_completed"]) == (3, 2, 1, 3)
    assert s["calls_per_minute"] == pytest.approx(3 / 0.75)
    text = render(res)
    assert (
        "ami-cut" in text
        and "calls placed 3 (0 refused by Asterisk, 0 lost in its restart), records 2, degraded 1" in text
    )


def test_a_call_with_neither_record_nor_degraded_fact():
    inp = clean()
    inp.records = inp.records[1:]
    assert kinds(inp) == ["no record"]


def test_a_call_asterisk_refused_needs_no_record_and_cannot_have_been_served():
    inp = clean()
    inp.calls.append(CallerCall("R-3", "13800000003", T0 + 41, None, None, 503))
    assert kinds(inp) == [] and reconcile(inp).summary["refused_by_asterisk"] == 1
    # its channel seen before a restart declined the INVITE (603): a record of a caller left unserved is right
    inp.records.append(record("R-3", "100.3", outcome="ivr_hangup", answered_at=T0 + 41, ended_at=T0 + 42, talk=None))
    inp.cdr.append(cdr("100.3", T0 + 41, T0 + 42))
    assert kinds(inp) == []
    # but one that says the caller talked to an agent is not
    inp.records[-1] = record("R-3", "100.3", outcome="answered", answered_at=T0 + 41, ended_at=T0 + 52)
    assert "record of a refused call" in kinds(inp)


def test_an_invite_asterisk_took_just_before_its_restart_and_never_answered_is_counted_apart():
    inp = clean()
    stop = inp.faults[0].at  # the run's one fault, a restart this time (its agents synced after it as before)
    inp.faults[0] = Fault("asterisk-restart", stop, "Asterisk back after 2.1 s")
    inp.calls.append(CallerCall("R-4", "13800000004", stop - 0.4))  # 100 Trying, then nothing: no answer, no end
    assert kinds(inp) == [] and reconcile(inp).summary["lost_in_asterisk_restart"] == 1
    # sent well before the stop, it should have been answered: a call lost by the engine's side
    inp.calls[-1] = CallerCall("R-4", "13800000004", stop - 10.0)
    assert kinds(inp) == ["no record"] and reconcile(inp).summary["lost_in_asterisk_restart"] == 0
    # answered before the stop, it is an engine's call like any other
    inp.calls[-1] = CallerCall("R-4", "13800000004", stop - 0.4, stop - 0.2)
    assert kinds(inp) == ["no record"]


def test_a_call_with_a_record_and_a_degraded_fact():
    inp = clean()
    inp.degraded.append({"call_id": "100.1", "caller": "13800000000"})
    assert kinds(inp) == ["record and degraded"]


def test_two_records_for_one_call():
    inp = clean()
    inp.records.append(dict(inp.records[1], call_id="100.3"))
    inp.cdr.append(cdr("100.3", T0 + 3, T0 + 12))
    assert kinds(inp) == ["two records"]


def test_two_degraded_facts_for_one_call():
    inp = clean()
    inp.degraded.append({"call_id": "100.8", "caller": "13800000002"})
    assert kinds(inp) == ["two degraded"]


def test_records_and_degraded_facts_of_no_placed_call():
    inp = clean()
    inp.records.append(record("X-9", "100.7", outcome="abandoned", talk=None))
    inp.degraded.append({"call_id": "100.6", "caller": "19999999999"})
    assert sorted(kinds(inp)) == ["degraded for no call", "record for no call"]


def test_an_agent_answer_the_record_calls_abandoned():
    inp = clean()
    inp.legs.append(AgentLeg("1002", "13800000001", T0 + 10.0, T0 + 10.5, T0 + 12.0))
    assert kinds(inp) == ["agent answer"]


def test_an_answer_given_to_the_wrong_agent():
    inp = clean()
    inp.records[0] = dict(inp.records[0], agent_id="1002")
    assert kinds(inp) == ["agent answer"]


def test_a_record_answered_that_no_sipp_agent_answered():
    inp = clean()
    inp.legs = [dataclasses.replace(inp.legs[0], answered=None, ended=T0 + 7.0), inp.legs[1]]
    inp.synced = [AgentsSynced(T0 + 9.0, T0 + 8.6, {"1001": "idle", "1002": "idle"})]
    assert kinds(inp) == ["answered without agent"]


def test_an_agent_answer_with_a_number_nobody_called_from():
    inp = clean()
    inp.legs.append(AgentLeg("1002", "17777777777", T0 + 2.0, T0 + 3.0, T0 + 4.0))
    assert kinds(inp) == ["agent answer for no call"]


def test_a_missing_recording_and_a_recording_of_the_wrong_length():
    inp = clean()
    inp.recordings = {"/r/a.wav": None}
    assert kinds(inp) == ["recording"]
    inp.recordings = {"/r/a.wav": 12.5}  # talk 14 + hold 0
    assert kinds(inp) == ["recording length"]
    inp.records[0] = dict(inp.records[0], talk_time=11.0, hold_time=1.5)  # the hold is in the recording
    assert kinds(inp) == []


def test_record_times_against_the_cdr():
    inp = clean()
    inp.records[0] = dict(inp.records[0], answered_at=T0 + 2.6)  # the CDR says second 1: its middle is 1.5
    assert kinds(inp) == ["CDR answer"]
    inp = clean()
    inp.records[1] = dict(inp.records[1], ended_at=T0 + 14.0)
    assert kinds(inp) == ["CDR end"]
    inp = clean()
    inp.cdr = [r for r in inp.cdr if r["uniqueid"] != "100.2"]
    assert kinds(inp) == ["no CDR"]


def test_cdr_dates_are_read_as_utc_and_rows_joined_per_uniqueid():
    text = (
        '"","138","4001","from-trunk","","PJSIP/trunk-1","","AGI","x","2027-01-15 07:59:50",'
        '"2027-01-15 08:00:00","2027-01-15 08:00:30","40","30","ANSWERED","DOCUMENTATION","1800000000.5",""\n'
    )
    (row,) = cdr_rows(text + "short,row\n")
    inp = clean()
    epoch = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    inp.cdr = [row, cdr("100.1", T0 + 1, T0 + 20), cdr("100.2", T0 + 3, T0 + 12)]
    inp.records.append(
        record("R-3", "1800000000.5", outcome="abandoned", answered_at=epoch + 0.4, ended_at=epoch + 30.9, talk=None)
    )
    inp.calls.append(CallerCall("R-3", "13800000003", epoch - 10, epoch, epoch + 31))
    assert kinds(inp) == []
    inp.records[-1] = dict(inp.records[-1], answered_at=epoch + 8 * 3600)  # read as Shanghai time it would pass
    assert kinds(inp) == ["CDR answer"]


def test_no_agents_synced_fact_after_a_fault():
    inp = clean()
    inp.synced = []
    assert kinds(inp) == ["agent states"]
    assert "no acd.agents_synced fact" in render(reconcile(inp))
    inp.synced = [AgentsSynced(T0 + 7.0, T0 + 6.5, {"1001": "on_call"})]  # before the fault: not its recovery
    assert kinds(inp) == ["agent states"]


def test_reported_agent_states_against_sipp_truth():
    inp = clean()
    inp.synced = [AgentsSynced(T0 + 9.0, T0 + 8.6, {"1001": "idle", "1002": "idle"})]  # 1001 is talking
    (m,) = reconcile(inp).mismatches
    assert m.kind == "agent states" and "1001" in m.tag and m.found == "idle"
    inp.synced = [AgentsSynced(T0 + 9.0, T0 + 8.6, {"1001": "on_hold", "1002": "ringing"})]  # 1002 has no call
    (m,) = reconcile(inp).mismatches
    assert "1002" in m.tag and m.found == "ringing"
    inp.synced = [AgentsSynced(T0 + 9.0, T0 + 8.6, {"1001": "busy", "1002": "reserved"})]  # phone busy, held
    assert kinds(inp) == []
    inp.synced = [AgentsSynced(T0 + 9.0, T0 + 8.6, {"1001": "dancing", "1002": "idle"})]
    assert kinds(inp) == ["agent states"]
    # a leg starting within the margin of the sync is not judged either way
    inp.faults = [Fault("kill", T0 + 4.0)]
    inp.synced = [AgentsSynced(T0 + 5.2, T0 + 5.0, {"1001": "idle", "1002": "idle"})]
    assert kinds(inp) == []
    inp.synced = [AgentsSynced(T0 + 5.6, T0 + 5.0, {"1001": "idle", "1002": "idle"})]
    assert kinds(inp) == ["agent states"]


def test_phases_of_a_call():
    call = CallerCall("R-0", "1", T0, T0 + 0.1, T0 + 30)
    legs = [AgentLeg("1002", "1", T0 + 8, None, T0 + 10), AgentLeg("1001", "1", T0 + 12, T0 + 14, T0 + 30)]
    at = {t: phase_at(call, legs, T0 + 5, T0 + t) for t in (-1, 2, 6, 9, 11, 13, 20, 33, 40)}
    assert at == {
        -1: None,
        2: "menu",
        6: "waiting",
        9: "ringing",
        11: "waiting",
        13: "ringing",
        20: "talking",
        33: "just ended",
        40: None,
    }
