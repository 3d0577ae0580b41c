"""Derive call records from ledger facts: a pure function, so a rebuild gives the same rows.

Definitions follow docs/metrics.md#call-records: queue wait (ASA sample) = connect − queue entry; ring time = agent
alerting before answer; talk = connect → hang-up minus hold; hold from Hold/Unhold; wrap-up = the
answering agent's time from the call's end to ready again (the ACD's ``agent.wrap_up`` fact, written when
the wrap-up ends, so the record is derived again then); handle time = talk + hold + wrap-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from engine.model.facts import Fact


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    caller: str
    dialed: str
    arrived_at: float
    answered_at: float | None
    queued_at: float | None
    agent_id: str
    ring_started_at: float | None
    agent_answered_at: float | None
    connected_at: float | None
    ended_at: float | None
    ring_time: float | None
    queue_wait: float | None
    talk_time: float | None
    hold_time: float
    handle_time: float | None
    hangup_side: str
    outcome: str
    digit: str
    recording: str
    recording_seconds: float | None
    tag: str = ""
    service: str = ""  # the service the caller queued in: its service-level target applies
    wrap_up_time: float = 0.0
    closed: str = ""  # how the end is known: "" seen live, "reconstructed" from Asterisk's records, "approximate"
    closed_reason: str = ""

    def as_row(self) -> dict[str, object]:
        return asdict(self)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def derive(facts: Iterable[Fact]) -> list[CallRecord]:
    by_call: dict[str, list[Fact]] = {}
    for f in facts:
        by_call.setdefault(f.call_id, []).append(f)
    out = []
    for call_id, fs in sorted(by_call.items()):
        rec = derive_one(call_id, fs)
        if rec is not None:
            out.append(rec)
    return out


def derive_one(call_id: str, facts: list[Fact]) -> CallRecord | None:
    facts = sorted(facts, key=lambda f: (f.at, f.key))
    caller_new = next((f for f in facts if f.kind == "channel.new" and f.data.get("role") == "caller"), None)
    if caller_new is None:
        return None  # not a call the engine answers for (e.g. an agent's own call)
    caller_uid = caller_new.uniqueid
    end = next((f for f in facts if f.kind == "call.end"), None)
    if end is None:
        return None  # still live: records are written once the call is over
    if any(f.kind == "ivr.degraded" for f in facts):
        return None  # it took the degraded menu while the engine was away: counted as that, not as a record
    if any(f.kind in ("fax.receiving", "fax.refused") for f in facts):
        return None  # a fax machine on a fax number: the fax facts count it, not the hotline's call records

    def first(kind: str, uid: str | None = None) -> Fact | None:
        return next((f for f in facts if f.kind == kind and (uid is None or f.uniqueid == uid)), None)

    answered = first("channel.up", caller_uid)
    queued = first("call.queued")
    # the offer that was answered; else the last one
    offers = [f for f in facts if f.kind == "agent.offer"]
    offer = None
    for o in offers:
        if first("channel.up", o.data.get("leg", "")) is not None:
            offer = o
    if offer is None and offers:
        offer = offers[-1]
    agent_uid = offer.data.get("leg", "") if offer else ""
    agent_up = first("channel.up", agent_uid) if agent_uid else None
    enters = [f for f in facts if f.kind == "bridge.enter" and f.uniqueid in (caller_uid, agent_uid)]
    connected = None
    if offer is not None and offer.data.get("session"):
        # into an always-on session: no ringing, the agent's leg is its session (whose facts belong to it);
        # the caller entering the bridge after the offer is the connect and the agent's answer
        joined = [f for f in enters if f.uniqueid == caller_uid and f.at >= offer.at - 0.01]  # AMI stamps: 1 µs
        agent_up = joined[0] if joined else None
        connected = joined[0].at if joined else None
    elif agent_up is not None and {f.uniqueid for f in enters} >= {caller_uid, agent_uid}:
        connected = max(f.at for f in enters)
    hangups = [f for f in facts if f.kind == "channel.hangup"]
    ended = max((f.at for f in hangups), default=None)
    # the talk ends when either party asks to hang up (or leaves the bridge, or hangs up)
    talk_end = None
    side = "system"
    if connected is not None:
        enders = [
            f
            for f in facts
            if f.at >= connected
            and f.uniqueid in (caller_uid, agent_uid)
            and f.kind in ("hangup.request", "bridge.leave", "channel.hangup")
        ]
        if enders:
            talk_end = min(f.at for f in enders)
            req = [f for f in enders if f.kind == "hangup.request"] or enders
            side = "caller" if min(req, key=lambda f: f.at).uniqueid == caller_uid else "agent"
        if first("acd.agent_ended") is not None:
            side = "agent"  # ended from the keypad in an always-on session: the caller was sent on, not hung up
    else:
        req = [f for f in facts if f.kind == "hangup.request" and f.uniqueid == caller_uid]
        side = "caller" if req else "system"
    hold = 0.0
    start = None
    for f in facts:
        if f.uniqueid not in (caller_uid, agent_uid):
            continue
        if f.kind == "hold" and start is None:
            start = f.at
        elif f.kind == "unhold" and start is not None:
            hold += f.at - start
            start = None
    if start is not None and talk_end is not None:
        hold += talk_end - start
    talk = None if connected is None or talk_end is None else max(0.0, talk_end - connected - hold)
    ring_start = None
    if offer is not None:
        dial = first("dial.begin", agent_uid)
        ring_start = dial.at if dial else offer.at
    ring_time = None
    if agent_up is not None and ring_start is not None:
        ring_time = agent_up.at - ring_start
    if connected is not None:
        outcome = "answered"
    elif first("acd.callback") is not None:
        outcome = "callback"  # chose a call back at the offer: kept its place, reported apart from abandons
    elif first("acd.voicemail") is not None:
        outcome = "voicemail"  # a rule step sent it to voicemail
    elif first("acd.timeout") is not None:
        outcome = "timeout"  # left the queue after the service's maximum wait (EXITWITHTIMEOUT)
    elif queued is not None:
        outcome = "abandoned" if side == "caller" else "unanswered"
    elif answered is not None:
        outcome = "ivr_hangup" if side == "caller" else "ivr_ended"
    else:
        outcome = "not_answered"
    # the menu path: the digits chosen, in order (older ledgers hold one ivr.digit fact instead)
    chosen = sorted((int(f.data.get("seq", 0)), str(f.data.get("detail", ""))) for f in facts
                    if f.kind == "ivr.step" and f.data.get("step") == "digit")  # fmt: skip
    digit = first("ivr.digit")
    path = "".join(d for _, d in chosen) if chosen else (str(digit.data.get("digit", "")) if digit else "")
    path = path[:64]  # the column's width; a menu path longer than that is a loop nobody needs in a report
    agent_id = str(offer.data.get("agent", "")) if offer else ""
    # the answering agent's wrap-up (a call back's failed attempts have none)
    wraps = [f for f in facts if f.kind == "agent.wrap_up" and f.data.get("agent") == agent_id]
    wrap = sum(float(f.data.get("seconds", 0.0)) for f in wraps) if connected is not None else 0.0
    service = str((offer.data.get("service") if offer else None) or (queued.data.get("service") if queued else "")
                  or "")  # fmt: skip
    rec = first("recording.saved")
    tag = first("call.tag")
    return CallRecord(
        call_id=call_id,
        caller=str(caller_new.data.get("caller", "")),
        dialed=str(caller_new.data.get("exten", "")),
        arrived_at=round(caller_new.at, 3),
        answered_at=_r(answered.at if answered else None),
        queued_at=_r(queued.at if queued else None),
        agent_id=agent_id,
        ring_started_at=_r(ring_start),
        agent_answered_at=_r(agent_up.at if agent_up else None),
        connected_at=_r(connected),
        ended_at=_r(ended),
        ring_time=_r(ring_time),
        queue_wait=_r(connected - queued.at if connected is not None and queued is not None else None),
        talk_time=_r(talk),
        hold_time=round(hold, 3),
        handle_time=_r(None if talk is None else talk + hold + wrap),
        hangup_side=side,
        outcome=outcome,
        digit=path,
        recording=str(rec.data.get("path", "")) if rec else "",
        recording_seconds=_r(rec.data.get("seconds")) if rec else None,
        tag=str(tag.data.get("tag", "")) if tag else "",
        service=service[:64],
        wrap_up_time=round(wrap, 3),
        closed=str(end.data.get("closed", ""))[:16],
        closed_reason=str(end.data.get("reason", ""))[:200],
    )
