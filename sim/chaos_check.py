"""Reconcile a chaos run: what SIPp saw against what the engine and Asterisk wrote. Pure: no I/O, no clock.

Inputs are already parsed: the SIPp callers (one per ``X-Hotline-Corr`` tag) and the INVITEs the SIPp
agents received (the From carries the caller's number: the engine originates with the caller's number, the
degraded dialplan dials with the caller's own caller ID), the engine's call records, its ``ivr.degraded``
facts, Asterisk's CDR rows, the lengths of the saved recordings, the faults and the ACD's
``acd.agents_synced`` facts. Output: every mismatch, the fault table (calls by phase at each fault, the
agent-state recovery after it) and a summary.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ivr.degraded import COLUMNS as CDR_COLUMNS

PHASES = ("menu", "waiting", "ringing", "talking", "just ended")
JUST_ENDED = 5.0  # a call that ended this recently is "just ended" at a fault
TOLERANCE = 1.0  # seconds: records against CDR, recordings against talk + hold
STATE_MARGIN = 0.5  # an agent's SIPp leg starting or ending this close to a sync is left unjudged
# "busy": the phone is in a call the ACD did not route (a degraded call's Dial); "reserved": held for a guard
BUSY_STATES = frozenset({"ringing", "on_call", "on_hold", "busy"})
KNOWN_STATES = BUSY_STATES | {"idle", "wrap_up", "logged_out", "paused", "reserved"}


@dataclass(frozen=True)
class CallerCall:
    """One SIPp caller, from its trace (epoch seconds)."""

    tag: str
    number: str
    invited: float
    answered: float | None = None  # the 200 OK to its INVITE
    ended: float | None = None  # a BYE either way; None when the dialog never ended cleanly
    refused: int | None = None  # Asterisk's final error to the INVITE before any answer (503 while it shuts down)


@dataclass(frozen=True)
class AgentLeg:
    """One INVITE a SIPp agent received."""

    agent_id: str
    number: str  # the From user: the caller's number
    invited: float
    answered: float | None = None  # its 200 OK
    ended: float | None = None  # BYE, CANCEL or a final refusal


@dataclass(frozen=True)
class Fault:
    kind: str
    at: float
    note: str = ""


@dataclass(frozen=True)
class AgentsSynced:
    """The ACD's ``acd.agents_synced`` fact: agent states re-derived after a resync."""

    at: float
    link_up_at: float
    agents: dict[str, str]


@dataclass(frozen=True)
class Mismatch:
    kind: str
    tag: str
    expected: str
    found: str


@dataclass
class ChaosInputs:
    calls: list[CallerCall]
    legs: list[AgentLeg]
    records: list[dict[str, Any]]
    degraded: list[dict[str, Any]]  # {"call_id": <caller Uniqueid>, "caller": <number>}
    cdr: list[dict[str, str]]  # rows keyed by CDR_COLUMNS
    recordings: dict[str, float | None]  # recording path -> seconds (None: missing or unreadable)
    faults: list[Fault]
    synced: list[AgentsSynced]
    started: float
    finished: float
    sipp_agents: set[str] = field(default_factory=set)


@dataclass
class ChaosResult:
    mismatches: list[Mismatch]
    faults: list[dict[str, Any]]
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "faults": self.faults, "mismatches": [asdict(m) for m in self.mismatches]}


def cdr_rows(text: str) -> list[dict[str, str]]:
    return [
        dict(zip(CDR_COLUMNS, row, strict=False))
        for row in csv.reader(io.StringIO(text))
        if len(row) >= len(CDR_COLUMNS)
    ]


def _utc(stamp: str) -> float | None:
    """A CDR date (``usegmtime = yes``: UTC) as epoch seconds: the middle of its second. Asterisk cuts the
    fraction off (an end at 57.999 s is written 57), so the second's middle is the best estimate, and "within
    1 s of the CDR" means within 1 s of it."""
    if not stamp:
        return None
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() + 0.5


def cdr_times(rows: list[dict[str, str]]) -> dict[str, tuple[float | None, float | None]]:
    """Per caller Uniqueid: the earliest non-empty answer and the latest end of its rows."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for r in rows:
        uid = r.get("uniqueid", "")
        ans, end = _utc(r.get("answer", "")), _utc(r.get("end", ""))
        a0, e0 = out.get(uid, (None, None))
        out[uid] = (
            min(x for x in (a0, ans) if x is not None) if a0 is not None or ans is not None else None,
            max(x for x in (e0, end) if x is not None) if e0 is not None or end is not None else None,
        )
    return out


def legs_by_call(calls: list[CallerCall], legs: list[AgentLeg]) -> tuple[dict[str, list[AgentLeg]], list[AgentLeg]]:
    """Each agent leg to the caller with its number whose call was live when the leg started."""
    by_number: dict[str, list[CallerCall]] = {}
    for c in calls:
        by_number.setdefault(c.number, []).append(c)
    out: dict[str, list[AgentLeg]] = {c.tag: [] for c in calls}
    orphans = []
    for leg in sorted(legs, key=lambda g: g.invited):
        owner = next(
            (
                c
                for c in by_number.get(leg.number, [])
                if c.invited - 1 <= leg.invited <= (c.ended if c.ended is not None else float("inf")) + 1
            ),
            None,
        )
        if owner is None:
            orphans.append(leg)
        else:
            out[owner.tag].append(leg)
    return out, orphans


def phase_at(call: CallerCall, legs: list[AgentLeg], queued_at: float | None, t: float) -> str | None:
    """Where the call was at ``t``: one of PHASES, or None (not placed yet, or ended long before)."""
    if t < call.invited:
        return None
    if call.ended is not None and t >= call.ended:
        return "just ended" if t - call.ended <= JUST_ENDED else None
    for leg in legs:
        stop = leg.ended if leg.ended is not None else float("inf")
        if leg.answered is not None and leg.answered <= t < stop:
            return "talking"
        if leg.invited <= t < (leg.answered if leg.answered is not None else stop):
            return "ringing"
    if (queued_at is not None and t >= queued_at) or any(leg.invited <= t for leg in legs):
        return "waiting"
    return "menu"


def _near(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= TOLERANCE


def _fmt(x: float | None, base: float) -> str:
    return "none" if x is None else f"+{x - base:.2f}s"


# an INVITE sent this close before Asterisk was stopped can be taken (100 Trying) and die with it, before any
# channel reached the engine; its caller then never hears a final answer
RESTART_LOSS = 3.0


def lost_in_restart(inp: ChaosInputs, c: CallerCall, recs: list[Any], degs: list[Any]) -> bool:
    """Asterisk was stopped moments after the INVITE, which got no answer, refusal or end, and the engine never saw
    the call: nothing it could have recorded."""
    if c.answered is not None or c.refused is not None or c.ended is not None or recs or degs:
        return False
    return any(f.kind == "asterisk-restart" and 0.0 <= f.at - c.invited <= RESTART_LOSS for f in inp.faults)


def _check_outcomes(
    inp: ChaosInputs, records: dict[str, list[dict[str, Any]]], degraded: dict[str, list[dict[str, Any]]]
) -> list[Mismatch]:
    out = []
    for c in inp.calls:
        recs, degs = records.get(c.tag, []), degraded.get(c.tag, [])
        if lost_in_restart(inp, c, recs, degs):
            continue  # counted apart in the summary
        if c.refused is not None and c.answered is None:
            # Asterisk turned the INVITE away. Mostly before any channel, so there is nothing to record; but an
            # INVITE caught by a restart can have had its channel, seen by the engine, before Asterisk declined
            # it: a record that the caller left unserved is then right. A caller who never got a 200 cannot have
            # talked to an agent or taken the degraded menu.
            served = [r for r in recs if r.get("outcome") == "answered"]
            if served or degs:
                out.append(Mismatch("record of a refused call", c.tag,
                                    f"none served (Asterisk answered {c.refused})",
                                    f"{len(served)} answered record(s) and {len(degs)} degraded fact(s)"))  # fmt: skip
            continue
        if recs and degs:
            out.append(
                Mismatch(
                    "record and degraded",
                    c.tag,
                    "one record or one degraded fact",
                    f"{len(recs)} record(s) and {len(degs)} degraded fact(s)",
                )
            )
        elif len(recs) > 1:
            out.append(
                Mismatch(
                    "two records",
                    c.tag,
                    "one record",
                    f"{len(recs)} records: " + ", ".join(str(r["call_id"]) for r in recs),
                )
            )
        elif len(degs) > 1:
            out.append(
                Mismatch(
                    "two degraded",
                    c.tag,
                    "one degraded fact",
                    f"{len(degs)} degraded facts: " + ", ".join(str(d["call_id"]) for d in degs),
                )
            )
        elif not recs and not degs:
            out.append(
                Mismatch(
                    "no record",
                    c.tag,
                    "one record or one degraded fact",
                    f"neither (call ended {_fmt(c.ended, inp.started)})",
                )
            )
    return out


def _check_answers(
    inp: ChaosInputs,
    legs: dict[str, list[AgentLeg]],
    orphans: list[AgentLeg],
    records: dict[str, list[dict[str, Any]]],
    degraded: dict[str, list[dict[str, Any]]],
) -> list[Mismatch]:
    out = []
    for leg in orphans:
        if leg.answered is not None:
            out.append(
                Mismatch(
                    "agent answer for no call",
                    f"agent {leg.agent_id}",
                    "a placed caller's number",
                    f"answered {leg.number[-4:]} at {_fmt(leg.answered, inp.started)}",
                )
            )
    for c in inp.calls:
        answered = [g for g in legs.get(c.tag, []) if g.answered is not None]
        recs = records.get(c.tag, [])
        if degraded.get(c.tag) or len(recs) != 1:
            continue  # degraded calls have no record; a missing or doubled record is reported already
        rec = recs[0]
        if answered:
            agents = sorted({g.agent_id for g in answered})
            if rec["outcome"] != "answered" or str(rec["agent_id"]) not in agents or len(agents) > 1:
                out.append(
                    Mismatch(
                        "agent answer",
                        c.tag,
                        f"answered by agent {','.join(agents)}",
                        f"{rec['outcome']} by agent {rec['agent_id'] or 'none'}",
                    )
                )
        elif rec["outcome"] == "answered":
            out.append(
                Mismatch(
                    "answered without agent",
                    c.tag,
                    "no SIPp agent answered: not answered",
                    f"answered by agent {rec['agent_id']}",
                )
            )
    return out


def _check_recordings(inp: ChaosInputs, rec: dict[str, Any]) -> list[Mismatch]:
    path = str(rec.get("recording") or "")
    length = inp.recordings.get(path) if path else None
    if length is None:
        return [Mismatch("recording", rec["tag"], "a saved WAV", f"{path or 'no path'}: missing")]
    want = (rec.get("talk_time") or 0.0) + (rec.get("hold_time") or 0.0)
    if abs(length - want) > TOLERANCE:
        return [Mismatch("recording length", rec["tag"], f"{want:.2f}s (talk + hold)", f"{length:.2f}s")]
    return []


def _check_cdr(
    inp: ChaosInputs, rec: dict[str, Any], cdr: dict[str, tuple[float | None, float | None]]
) -> list[Mismatch]:
    tag = rec["tag"]
    if rec["call_id"] not in cdr:
        return [Mismatch("no CDR", tag, f"CDR rows for {rec['call_id']}", "none")]
    ans, end = cdr[rec["call_id"]]
    out = []
    if rec.get("answered_at") is None or ans is None:
        if (rec.get("answered_at") is None) != (ans is None):
            out.append(
                Mismatch(
                    "CDR answer",
                    tag,
                    f"CDR answer {_fmt(ans, inp.started)}",
                    f"record {_fmt(rec.get('answered_at'), inp.started)}",
                )
            )
    elif not _near(rec["answered_at"], ans):
        out.append(
            Mismatch(
                "CDR answer",
                tag,
                f"CDR answer {_fmt(ans, inp.started)}",
                f"record {_fmt(rec['answered_at'], inp.started)}",
            )
        )
    if not _near(rec.get("ended_at"), end):
        out.append(
            Mismatch(
                "CDR end", tag, f"CDR end {_fmt(end, inp.started)}", f"record {_fmt(rec.get('ended_at'), inp.started)}"
            )
        )
    return out


def _agent_busy(legs: list[AgentLeg], t: float, finished: float) -> bool | None:
    """SIPp's truth: is the agent in a call at ``t``? None when a leg starts or ends too close to tell."""
    busy = False
    for g in legs:
        stop = g.ended if g.ended is not None else finished
        if min(abs(t - g.invited), abs(t - stop)) < STATE_MARGIN:
            return None
        busy = busy or g.invited <= t < stop
    return busy


def _sync_row(inp: ChaosInputs, i: int, fault: Fault) -> tuple[dict[str, Any], list[Mismatch]]:
    nxt = inp.faults[i + 1].at if i + 1 < len(inp.faults) else float("inf")
    syncs = sorted((s for s in inp.synced if fault.at <= s.at < nxt and s.link_up_at >= fault.at), key=lambda s: s.at)
    tag = f"fault {i + 1} ({fault.kind})"
    if not syncs:
        return {"synced": False}, [
            Mismatch("agent states", tag, "an acd.agents_synced fact after the fault", "no acd.agents_synced fact")
        ]
    s = syncs[0]
    row = {
        "synced": True,
        "recovery_s": round(s.at - s.link_up_at, 3),
        "after_fault_s": round(s.at - fault.at, 3),
        "states": dict(s.agents),
    }
    out = []
    for agent_id, state in sorted(s.agents.items()):
        if state not in KNOWN_STATES:
            out.append(Mismatch("agent states", f"{tag} agent {agent_id}", "a known state", state))
            continue
        if agent_id not in inp.sipp_agents:
            continue
        busy = _agent_busy([g for g in inp.legs if g.agent_id == agent_id], s.at, inp.finished)
        if busy is not None and busy != (state in BUSY_STATES):
            out.append(
                Mismatch(
                    "agent states",
                    f"{tag} agent {agent_id}",
                    f"{'in' if busy else 'not in'} a SIPp call at {_fmt(s.at, inp.started)}",
                    state,
                )
            )
    return row, out


def reconcile(inp: ChaosInputs) -> ChaosResult:
    tags = {c.tag for c in inp.calls}
    by_number = {c.number: c.tag for c in inp.calls}
    records: dict[str, list[dict[str, Any]]] = {}
    mismatches: list[Mismatch] = []
    for r in inp.records:
        if r.get("tag") in tags:
            records.setdefault(str(r["tag"]), []).append(r)
        else:
            mismatches.append(
                Mismatch(
                    "record for no call",
                    str(r.get("tag") or r["call_id"]),
                    "a placed caller's tag",
                    f"record {r['call_id']} ({r['outcome']})",
                )
            )
    degraded: dict[str, list[dict[str, Any]]] = {}
    for d in inp.degraded:
        tag = by_number.get(str(d.get("caller", "")))
        if tag is None:
            mismatches.append(
                Mismatch(
                    "degraded for no call",
                    str(d["call_id"]),
                    "a placed caller's number",
                    f"caller ending {str(d.get('caller', ''))[-4:] or 'unknown'}",
                )
            )
        else:
            degraded.setdefault(tag, []).append(d)
    legs, orphans = legs_by_call(inp.calls, inp.legs)
    mismatches += _check_outcomes(inp, records, degraded)
    mismatches += _check_answers(inp, legs, orphans, records, degraded)
    cdr = cdr_times(inp.cdr)
    for tag in sorted(records):
        for rec in records[tag]:
            if rec["outcome"] == "answered":
                mismatches += _check_recordings(inp, rec)
            mismatches += _check_cdr(inp, rec, cdr)
    queued = {t: rs[0].get("queued_at") for t, rs in records.items() if len(rs) == 1}
    rows = []
    for i, f in enumerate(sorted(inp.faults, key=lambda f: f.at)):
        phases: dict[str, list[str]] = {p: [] for p in PHASES}
        for c in inp.calls:
            p = phase_at(c, legs.get(c.tag, []), queued.get(c.tag), f.at)
            if p is not None:
                phases[p].append(c.tag)
        sync, bad = _sync_row(inp, i, f)
        mismatches += bad
        rows.append(
            {
                "kind": f.kind,
                "at": round(f.at - inp.started, 2),
                "note": f.note,
                "phases": {p: ts for p, ts in phases.items() if ts},
                **sync,
            }
        )
    completed = sum(1 for c in inp.calls if c.ended is not None)
    minutes = max(inp.finished - inp.started, 1e-9) / 60
    summary = {
        "calls_placed": len(inp.calls),
        "refused_by_asterisk": sum(1 for c in inp.calls if c.refused is not None and c.answered is None),
        "lost_in_asterisk_restart": sum(
            1 for c in inp.calls if lost_in_restart(inp, c, records.get(c.tag, []), degraded.get(c.tag, []))
        ),
        "records": sum(len(v) for v in records.values()),
        "degraded": sum(len(v) for v in degraded.values()),
        "faults": len(inp.faults),
        "mismatches": len(mismatches),
        "calls_completed": completed,
        "minutes": round(minutes, 2),
        "calls_per_minute": round(completed / minutes, 2),
        "agent_answers": sum(1 for g in inp.legs if g.answered is not None),
    }
    return ChaosResult(mismatches, rows, summary)


def render(result: ChaosResult) -> str:
    """The fault table, every mismatch, the summary."""
    lines = [f"{'#':>2} {'fault':<17} {'at':>7}  calls by phase / agent states"]
    for i, row in enumerate(result.faults, 1):
        phases = (
            "; ".join(
                f"{p} {len(ts)} ({', '.join(t.rsplit('-', 1)[-1] for t in ts)})" for p, ts in row["phases"].items()
            )
            or "no calls"
        )
        lines.append(f"{i:>2} {row['kind']:<17} {row['at']:>6.1f}s  {phases}")
        if row.get("synced"):
            lines.append(
                f"{'':>29}agents synced {row['after_fault_s']:.2f}s after the fault, "
                f"recovery {row['recovery_s']:.2f}s after the link came up: {row['states']}"
            )
        else:
            lines.append(f"{'':>29}no acd.agents_synced fact")
    if result.mismatches:
        lines.append(f"{len(result.mismatches)} mismatch(es):")
        lines += [f"  {m.tag}: {m.kind}: expected {m.expected}; found {m.found}" for m in result.mismatches]
    s = result.summary
    lines.append(
        f"calls placed {s['calls_placed']} ({s['refused_by_asterisk']} refused by Asterisk, "
        f"{s['lost_in_asterisk_restart']} lost in its restart), records {s['records']}, "
        f"degraded {s['degraded']}, "
        f"faults {s['faults']}, mismatches {s['mismatches']}; {s['calls_completed']} calls completed "
        f"in {s['minutes']} min: {s['calls_per_minute']} calls/min"
    )
    return "\n".join(lines)
