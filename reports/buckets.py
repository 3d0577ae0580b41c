"""Bucket rows: the one place that turns call records, ledger facts and QA grades into 15-minute aggregates.

A bucket is keyed by (``start`` of its 15-minute interval, epoch seconds aligned to 900; ``service``; ``agent``;
``campaign``) and holds only additive figures (counts, sums, maxima, minima, small count dicts), so two buckets
of one key merge with ``add`` and any report is a fold of buckets (``reports.fold``). Definitions follow
docs/metrics.md and engine/store/stats.py:

- an inbound call counts in the interval it entered the queue (or arrived, if it never queued), under its
  service and, when answered, its answering agent (unanswered calls have no agent: agent sums reconcile with
  the service's answered calls);
- an agent's time is cut at interval boundaries; its status at a moment is its last status fact before it
  (``agent.status``, ``agent.paused``, and for campaign agents ``dialer.session`` up/down); work (talk, hold and
  wrap-up of answered calls, outbound talk) is busy time whatever the status says, as in acd/occupancy.py;
- facts about outbound dials, surveys, the guard and overflow count at their own time (a survey or a grade at
  its call's interval when the call's record is known).

Pure: no I/O, no clock; the caller passes everything in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from dialer.report import late_connect
from engine.model.facts import Fact
from engine.store.stats import DEFAULT_SL_TARGET, handle_time_of

INTERVAL = 900  # seconds: the smallest interval a report can show
RING_PROMISE = 15.0  # the hotline's 3 rings (docs/metrics.md#ring-time)

Key = tuple[int, str, str, str]


def interval_of(at: float) -> int:
    return int(at // INTERVAL) * INTERVAL


@dataclass(frozen=True)
class SiteRules:
    """What a site sets that the counting depends on."""

    sl_targets: Mapping[str, float] = field(default_factory=dict)  # service -> service-level T, seconds
    short_abandon: float = 5.0
    ring_promise: float = RING_PROMISE

    def target(self, service: str) -> float:
        return float(self.sl_targets.get(service, DEFAULT_SL_TARGET))


@dataclass(frozen=True)
class Bucket:
    start: int
    service: str = ""
    agent: str = ""
    campaign: str = ""
    # inbound calls (docs/metrics.md#inbound); ``arrived`` counts every record, queued or not
    arrived: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    other: int = 0
    callbacks: int = 0
    voicemails: int = 0
    timeouts: int = 0
    sl_within: int = 0  # answered with queue wait <= the call's service's T
    sl_late_abandons: int = 0  # abandoned (not short) after waiting more than T
    wait_sum: float = 0.0  # queue waits of answered calls (ASA)
    wait_n: int = 0
    wait_max: float = 0.0  # the longest queue wait of any offered call (answered or not)
    handled: int = 0
    talk_sum: float = 0.0
    hold_sum: float = 0.0
    wrap_sum: float = 0.0
    handle_sum: float = 0.0  # talk + hold + wrap-up of handled calls
    ring_known: int = 0  # answered calls with a ring time
    ring_within: int = 0  # ... of which ring time <= the ring promise (15 s, 3 rings)
    overflowed: int = 0  # answered at a rule step after the first (``route.decision`` step > 0)
    lent: int = 0  # answered by an outbound agent the dialer lent to the ACD (``dialer.lent``)
    guard_reserves: int = 0  # the guard held an outbound agent back for the service (``acd.guard``)
    over_limit: int = 0  # callers over the menu's session limit (``ivr.overflow``)
    survey_n: int = 0
    survey_sum: int = 0
    survey_top2: int = 0  # scores of 4 or 5
    qa_n: int = 0
    qa_sum: float = 0.0
    # agent time, seconds, cut at the interval's bounds
    logged_in_s: float = 0.0
    available_s: float = 0.0  # available and not working (idle, reserved, ringing)
    busy_s: float = 0.0  # talk + hold + wrap-up + outbound talk, whatever the status
    pause_s: Mapping[str, float] = field(default_factory=dict)  # reason -> seconds paused
    first_login: float | None = None
    last_logout: float | None = None
    # outbound (dialer/report.py's figures, per campaign)
    dials: int = 0
    out_outcomes: Mapping[str, int] = field(default_factory=dict)
    out_machines: int = 0
    out_connected: int = 0  # conversations
    out_abandoned: int = 0
    out_late: int = 0  # connects later than their rule's window
    out_talk_s: float = 0.0
    out_qa_labels: int = 0
    out_qa_people: int = 0
    dispositions: Mapping[str, int] = field(default_factory=dict)  # label -> count

    @property
    def key(self) -> Key:
        return (self.start, self.service, self.agent, self.campaign)

    def add(self, o: Bucket) -> Bucket:
        """The merge of two buckets of one key (or of a fold's coarser key: the caller sets the key)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(o, f.name)
            if f.name in ("start", "service", "agent", "campaign"):
                out[f.name] = a
            elif f.name == "wait_max":
                out[f.name] = max(a, b)
            elif f.name == "first_login":
                out[f.name] = min((x for x in (a, b) if x is not None), default=None)
            elif f.name == "last_logout":
                out[f.name] = max((x for x in (a, b) if x is not None), default=None)
            elif isinstance(a, Mapping):
                merged = dict(a)
                for k, v in b.items():
                    merged[k] = merged.get(k, 0) + v
                out[f.name] = merged
            else:
                out[f.name] = a + b
        return Bucket(**out)

    def as_row(self) -> dict[str, Any]:
        """A flat row for a table (the dicts as JSON-able dicts), floats rounded to the millisecond."""
        row: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Mapping):
                v = {k: (round(x, 3) if isinstance(x, float) else x) for k, x in sorted(v.items())}
            elif isinstance(v, float):
                v = round(v, 3)
            row[f.name] = v
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Bucket:
        names = {f.name for f in fields(cls)}
        return cls(**{k: (dict(v) if isinstance(v, Mapping) else v) for k, v in row.items() if k in names})


class _Acc:
    """Mutable sums per key while counting; frozen into buckets at the end."""

    def __init__(self) -> None:
        self.rows: dict[Key, dict[str, Any]] = {}

    def at(self, key: Key) -> dict[str, Any]:
        return self.rows.setdefault(key, {})

    def inc(self, key: Key, name: str, n: float = 1) -> None:
        row = self.at(key)
        row[name] = row.get(name, 0) + n

    def top(self, key: Key, name: str, v: float, pick: Any = max) -> None:
        row = self.at(key)
        row[name] = v if row.get(name) is None else pick(row[name], v)

    def count(self, key: Key, name: str, what: str, n: float = 1) -> None:
        d = self.at(key).setdefault(name, {})
        d[what] = d.get(what, 0) + n

    def buckets(self) -> list[Bucket]:
        return [Bucket(start=k[0], service=k[1], agent=k[2], campaign=k[3], **v) for k, v in sorted(self.rows.items())]


def _f(r: Mapping[str, Any], name: str) -> float | None:
    v = r.get(name)
    return None if v is None else float(v)


def call_time(r: Mapping[str, Any]) -> float:
    """The moment a call counts at: its queue entry, or its arrival if it never queued."""
    q = _f(r, "queued_at")
    return q if q is not None else float(r["arrived_at"])


def _wait(r: Mapping[str, Any]) -> float | None:
    """Queue wait: to the connect when answered, to the end otherwise (stats.py's reading)."""
    if r.get("queued_at") is None:
        return None
    if r.get("queue_wait") is not None:
        return float(r["queue_wait"])
    if r.get("ended_at") is not None:
        return float(r["ended_at"]) - float(r["queued_at"])
    return None


def _count_call(acc: _Acc, r: Mapping[str, Any], rules: SiteRules, step: int | None, lent: bool) -> Key:
    service = str(r.get("service") or "")
    outcome = str(r["outcome"])
    agent = str(r.get("agent_id") or "") if outcome == "answered" else ""
    key = (interval_of(call_time(r)), service, agent, "")
    acc.inc(key, "arrived")
    if r.get("queued_at") is None:
        return key
    t = rules.target(service)
    wait = _wait(r)
    acc.inc(key, "offered")
    if wait is not None:
        acc.top(key, "wait_max", wait)
    if outcome == "answered":
        acc.inc(key, "answered")
        acc.inc(key, "handled")
        if r.get("queue_wait") is not None:
            acc.inc(key, "wait_sum", float(r["queue_wait"]))
            acc.inc(key, "wait_n")
            acc.inc(key, "sl_within", int(float(r["queue_wait"]) <= t))
        acc.inc(key, "talk_sum", float(r.get("talk_time") or 0))
        acc.inc(key, "hold_sum", float(r.get("hold_time") or 0))
        acc.inc(key, "wrap_sum", float(r.get("wrap_up_time") or 0))
        acc.inc(key, "handle_sum", handle_time_of(r))
        if r.get("ring_time") is not None:
            acc.inc(key, "ring_known")
            acc.inc(key, "ring_within", int(float(r["ring_time"]) <= rules.ring_promise))
        acc.inc(key, "overflowed", int(bool(step)))
        acc.inc(key, "lent", int(lent))
    elif outcome == "abandoned":
        if (wait or 0.0) <= rules.short_abandon:
            acc.inc(key, "short_abandoned")
        else:
            acc.inc(key, "abandoned")
            acc.inc(key, "sl_late_abandons", int((wait or 0.0) > t))
    else:
        acc.inc(key, "other")
        acc.inc(key, "callbacks", int(outcome == "callback"))
        acc.inc(key, "voicemails", int(outcome == "voicemail"))
        acc.inc(key, "timeouts", int(outcome == "timeout"))
    return key


# ---- agent time -------------------------------------------------------------------------------------------------
STATUS_KINDS = ("agent.status", "agent.paused", "dialer.session")
# every kind of fact the buckets read: the store fetches only these
FACT_KINDS = (*STATUS_KINDS, "route.decision", "dialer.lent", "ivr.survey", "acd.guard", "ivr.overflow",
              "outbound.placed", "outbound.result", "outbound.verdict", "outbound.machine", "outbound.connect",
              "outbound.abandon", "outbound.talk_end", "outbound.qa", "outbound.disposition")  # fmt: skip


def _status_of(f: Fact) -> str | None:
    """``available``, ``paused:<reason>``, ``logged_out``, or None for a fact that changes no status."""
    if f.kind == "agent.paused":
        return f"paused:{f.data.get('reason') or 'pause'}"
    if f.kind == "dialer.session":
        return {"up": "available", "down": "logged_out"}.get(str(f.data.get("state")))
    status = str(f.data.get("status") or "")
    if status == "paused":
        return f"paused:{f.data.get('reason') or 'pause'}"
    return status if status in ("available", "logged_out") else None


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _agent_time(acc: _Acc, agent: str, marks: list[tuple[float, str]], work: list[tuple[float, float]],
                start: float, end: float) -> None:  # fmt: skip
    """Add one agent's logged-in, paused, available and busy seconds between ``start`` and ``end``, cut at every
    interval bound; ``marks`` are (time, status) in time order, ``work`` the busy spans."""
    work = _union(work)
    cuts = {start, end}
    cuts.update(t for t, _ in marks if start < t < end)
    for a, b in work:
        cuts.update(t for t in (a, b) if start < t < end)
    first = interval_of(start) + INTERVAL
    cuts.update(range(first, int(end), INTERVAL) if first < end else ())
    points = sorted(cuts)
    times = [t for t, _ in marks]
    w_starts = [a for a, _ in work]
    for a, b in zip(points, points[1:], strict=False):
        i = bisect.bisect_right(times, a) - 1
        status = marks[i][1] if i >= 0 else "logged_out"
        j = bisect.bisect_right(w_starts, a) - 1
        busy = j >= 0 and work[j][1] > a
        key = (interval_of(a), "", agent, "")
        span = b - a
        if busy:
            acc.inc(key, "busy_s", span)
        if status != "logged_out":
            acc.inc(key, "logged_in_s", span)
            if status.startswith("paused:"):
                acc.count(key, "pause_s", status.split(":", 1)[1], span)
            elif not busy:
                acc.inc(key, "available_s", span)
    # a login is a move from logged out to any logged-in status; a logout the move back
    before = "logged_out"
    for t, status in marks:
        if start <= t < end and (before == "logged_out") != (status == "logged_out"):
            key = (interval_of(t), "", agent, "")
            if status == "logged_out":
                acc.top(key, "last_logout", t, max)
            else:
                acc.top(key, "first_login", t, min)
        before = status


# ---- the whole ---------------------------------------------------------------------------------------------------
def buckets(records: Iterable[Mapping[str, Any]], facts: Iterable[Fact], rules: SiteRules, start: float,
            end: float, grades: Iterable[Mapping[str, Any]] = ()) -> list[Bucket]:  # fmt: skip
    """The bucket rows of ``[start, end)``. ``records``: call_records rows (calls outside the range are not counted,
    though an agent's work on one still is, within the range);
    ``facts``: the ledger's facts of the range, plus earlier status facts (an agent's status at ``start`` is its
    last one before it); ``grades``: QA grade rows (a grade another one supersedes is left out)."""
    acc = _Acc()
    facts = sorted(facts, key=lambda f: (f.at, f.key))
    steps: dict[tuple[str, str], int] = {}  # (call, agent) -> rule step of the last decision for it
    lent_calls: set[tuple[str, str]] = set()
    for f in facts:
        if f.kind == "route.decision":
            steps[(f.call_id, str(f.data.get("agent", "")))] = int(f.data.get("step") or 0)
        elif f.kind == "dialer.lent":
            lent_calls.add((f.call_id, str(f.data.get("agent", ""))))
    call_keys: dict[str, Key] = {}
    work: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        cid, agent = str(r["call_id"]), str(r.get("agent_id") or "")
        if start <= call_time(r) < end:
            call_keys[cid] = _count_call(acc, r, rules, steps.get((cid, agent)), (cid, agent) in lent_calls)
        # a call counted before the range may still keep its agent busy in it: its work counts, cut at the start
        if r["outcome"] == "answered" and r.get("connected_at") is not None:
            c = float(r["connected_at"])
            length = float(r.get("talk_time") or 0) + float(r.get("hold_time") or 0) + float(r.get("wrap_up_time") or 0)
            work.setdefault(agent, []).append((c, c + length))
    marks: dict[str, list[tuple[float, str]]] = {}
    verdicts: dict[str, Fact] = {}
    for f in facts:
        agent = str(f.data.get("agent") or "")
        if f.kind in STATUS_KINDS:
            status = _status_of(f)
            if agent and status is not None and f.at < end:
                marks.setdefault(agent, []).append((f.at, status))
            continue
        if f.kind == "outbound.verdict":
            verdicts[f.call_id] = f
        if not start <= f.at < end:
            continue
        _count_fact(acc, f, agent, call_keys, verdicts, work)
    for agent in sorted(set(marks) | set(work)):
        _agent_time(acc, agent, marks.get(agent, []), work.get(agent, []), start, end)
    _count_grades(acc, grades, call_keys, start, end)
    return acc.buckets()


def _count_fact(acc: _Acc, f: Fact, agent: str, call_keys: Mapping[str, Key], verdicts: Mapping[str, Fact],
                work: dict[str, list[tuple[float, float]]]) -> None:  # fmt: skip
    here = interval_of(f.at)
    if f.kind == "ivr.survey" and f.data.get("score") is not None:
        k = call_keys.get(f.call_id)
        key = (k[0], k[1], agent or k[2], "") if k else (here, "", agent, "")
        score = int(f.data["score"])
        acc.inc(key, "survey_n")
        acc.inc(key, "survey_sum", score)
        acc.inc(key, "survey_top2", int(score >= 4))
    elif f.kind == "acd.guard":
        if f.data.get("action") == "reserve":
            acc.inc((here, str(f.data.get("service") or ""), agent, ""), "guard_reserves")
    elif f.kind == "ivr.overflow":
        acc.inc((here, "", "", ""), "over_limit")
    elif f.kind.startswith("outbound."):
        key = (here, "", agent, str(f.data.get("campaign", "")))
        if f.kind == "outbound.placed":
            acc.inc(key, "dials")
        elif f.kind == "outbound.result":
            acc.count(key, "out_outcomes", str(f.data.get("outcome")))
        elif f.kind == "outbound.verdict":
            acc.count(key, "out_outcomes", "answered")
        elif f.kind == "outbound.machine":
            acc.inc(key, "out_machines")
        elif f.kind == "outbound.connect":
            acc.inc(key, "out_connected")
            late = late_connect(f, verdicts.get(f.call_id), float(f.data.get("after_greeting") or 0))
            acc.inc(key, "out_late", int(late))
        elif f.kind == "outbound.abandon":
            acc.inc(key, "out_abandoned")
        elif f.kind == "outbound.talk_end":
            talk = float(f.data.get("talk") or 0.0)
            acc.inc(key, "out_talk_s", talk)
            if agent:
                work.setdefault(agent, []).append((f.at - talk, f.at))
        elif f.kind == "outbound.qa":
            acc.inc(key, "out_qa_labels")
            acc.inc(key, "out_qa_people", int(not f.data.get("machine")))
        elif f.kind == "outbound.disposition":
            acc.count(key, "dispositions", str(f.data.get("label") or f.data.get("code") or ""))


def _count_grades(acc: _Acc, grades: Iterable[Mapping[str, Any]], call_keys: Mapping[str, Key], start: float,
                  end: float) -> None:  # fmt: skip
    rows = list(grades)
    superseded = {str(g["supersedes"]) for g in rows if g.get("supersedes")}
    for g in rows:
        if str(g["id"]) in superseded:
            continue
        k = call_keys.get(str(g.get("call_id") or ""))
        if k is None:
            at = float(g["created_at"])
            if not start <= at < end:
                continue
            k = (interval_of(at), "", "", "")
        key = (k[0], k[1], str(g.get("agent") or k[2]), "")
        acc.inc(key, "qa_n")
        acc.inc(key, "qa_sum", float(g["score"]))


def merge(rows: Iterable[Bucket]) -> list[Bucket]:
    """Buckets of one key merged into one (rows from several sources, or recounted)."""
    out: dict[Key, Bucket] = {}
    for b in rows:
        out[b.key] = out[b.key].add(b) if b.key in out else b
    return [out[k] for k in sorted(out)]


def rekey(b: Bucket, **key: Any) -> Bucket:
    """The same figures under another key (a fold's coarser one)."""
    return replace(b, **key)
