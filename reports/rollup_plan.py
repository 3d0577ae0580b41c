"""Which 15-minute intervals new facts change, and the local days and periods the rollups are cut in. Pure: the
store I/O (``reports.rollups``) reads the facts and records and writes the rows.

A fact changes: its call's interval (the record's queue entry or arrival) and the intervals the call's work
spans (connect to the end of the wrap-up: the agent's busy time); the interval of its own time (outbound facts,
the guard, overflow; an outbound conversation back to its connect); for an agent's status fact, every interval
from the agent's previous status fact on (the status holds until the next one). The intervals between the last
refresh's horizon and the new one are counted too: an agent's status goes on into them with no fact at all.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from engine.model.facts import Fact
from reports.buckets import INTERVAL, STATUS_KINDS, Bucket, interval_of
from reports.rollup_rows import add_into

GAP = 4  # intervals: touched runs this close are counted together (one read of the store instead of two)


def span(r: Mapping[str, object]) -> tuple[float, float]:
    """A call record's reach: its counting time (queue entry, or arrival) to the end of its agent's work."""
    queued, arrived = r.get("queued_at"), r.get("arrived_at")
    at = float(queued if queued is not None else arrived)  # type: ignore[arg-type]
    end = at
    if r.get("connected_at") is not None:
        work = sum(float(r.get(k) or 0) for k in ("talk_time", "hold_time", "wrap_up_time"))  # type: ignore[arg-type]
        end = max(end, float(r["connected_at"]) + work)  # type: ignore[arg-type]
    return at, end


def _run(a: float, b: float) -> range:
    return range(interval_of(a), interval_of(b) + INTERVAL, INTERVAL)


def touched(facts: Iterable[Fact], records: Mapping[str, tuple[float, float]], previous: Mapping[str, float],
            horizon: tuple[float, float]) -> set[int]:  # fmt: skip
    """Interval starts to count again. ``records``: the reach (``span``) of the records of the facts' calls;
    ``previous``: each agent's last status time before these facts; ``horizon``: (the last refresh's, the new)
    end of the counted time: status facts reach up to the new one, and the interval of the old one (counted up
    to it only) and those after it are counted again."""
    old, horizon_new = horizon
    new = interval_of(horizon_new) + INTERVAL if horizon_new else 0
    out: set[int] = set(range(interval_of(old), new, INTERVAL)) if old else set()
    for f in facts:
        if f.call_id in records:
            out.update(_run(*records[f.call_id]))
        if f.kind in STATUS_KINDS:
            agent = str(f.data.get("agent") or "")
            since = min(previous.get(agent, f.at), f.at)
            out.update(range(interval_of(since), new, INTERVAL))
        elif f.kind == "outbound.talk_end":
            out.update(_run(f.at - float(f.data.get("talk") or 0.0), f.at))
        else:
            out.add(interval_of(f.at))
    return {i for i in out if i < new}


def runs(intervals: Iterable[int], gap: int = GAP) -> list[tuple[int, int]]:
    """Sorted interval starts as [start, end) runs; runs fewer than ``gap`` intervals apart are joined."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(intervals)):
        if out and i - out[-1][1] <= gap * INTERVAL:
            out[-1] = (out[-1][0], i + INTERVAL)
        else:
            out.append((i, i + INTERVAL))
    return out


def day_start(at: float, tz: ZoneInfo) -> int:
    """Epoch seconds of the local midnight that begins ``at``'s day."""
    local = dt.datetime.fromtimestamp(at, tz).date()
    return int(dt.datetime.combine(local, dt.time(), tz).timestamp())


def days(spans: Iterable[tuple[float, float]], tz: ZoneInfo) -> list[tuple[int, int]]:
    """The local days ([midnight, next midnight)) that the [start, end) spans touch, sorted, each once."""
    out: set[tuple[int, int]] = set()
    for a, b in spans:
        d = day_start(a, tz)
        while d < b:
            nxt = day_start(d + 26 * 3600, tz)  # a day is 23 to 25 hours long
            out.add((d, nxt))
            d = nxt
    return sorted(out)


def day_rows(rows: Iterable[Bucket], tz: ZoneInfo) -> list[Bucket]:
    """15-minute buckets summed per local day (start = the day's midnight) and key, as ``Bucket.add`` sums them."""
    out: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    midnights: dict[int, int] = {}
    for b in rows:
        row = dict(b.__dict__)
        d = midnights.get(b.start)
        if d is None:
            d = midnights[b.start] = day_start(b.start, tz)
        row["start"] = d
        key = (d, b.service, b.agent, b.campaign)
        if key in out:
            add_into(out[key], row)
        else:
            out[key] = row
    return [Bucket(**out[k]) for k in sorted(out)]


def agent_day_rows(days: Iterable[Bucket]) -> list[Bucket]:
    """Day rows (``day_rows``) of agents summed per day and agent over services and campaigns (service and
    campaign ""), in key order, as ``Bucket.add`` sums them."""
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for b in sorted((b for b in days if b.agent), key=lambda b: (b.start, b.service, b.agent, b.campaign)):
        key = (b.start, b.agent)
        if key in out:
            add_into(out[key], dict(b.__dict__))
        else:
            out[key] = dict(b.__dict__) | {"service": "", "campaign": ""}
    return [Bucket(**out[k]) for k in sorted(out)]


def offsets(start: float, end: float, tz: ZoneInfo) -> list[tuple[int, int]]:
    """The site's UTC offset over [start, end): (until, offset seconds) pieces, the last one open (until 0).
    A period key is (t + offset) // unit: the local hour or day number, whatever the daylight-saving time."""
    pieces: list[tuple[int, int]] = []
    t, last = int(start), math.ceil(end)
    off = int(dt.datetime.fromtimestamp(t, tz).utcoffset().total_seconds())  # type: ignore[union-attr]
    step = 86400  # a zone changes its offset at most once a day
    while t < last:
        nxt = min(t + step, last)
        o = int(dt.datetime.fromtimestamp(nxt, tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        if o != off:
            lo, hi = t, nxt  # the change lies in (lo, hi]: find its second
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if int(dt.datetime.fromtimestamp(mid, tz).utcoffset().total_seconds()) == off:  # type: ignore[union-attr]
                    lo = mid
                else:
                    hi = mid
            pieces.append((hi, off))
            off = o
        t = nxt
    pieces.append((0, off))
    return pieces


def period_start(n: int, unit: int, tz: ZoneInfo) -> int:
    """Epoch seconds of local period number ``n`` (``(t + offset) // unit``): its local start, in ``tz``."""
    naive = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=n * unit)
    return int(naive.replace(tzinfo=tz).timestamp())
