"""Folding bucket rows into report rows: by interval (15m, 1h, 1d; hours and days in the site's timezone), by
agent, by service, after a filter. Pure: the reports (``reports.agent_report`` and the others) decide the key."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from reports.buckets import Bucket
from reports.rollup_rows import NAMES, summed

INTERVALS = ("15m", "1h", "1d")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Periods:
    """Where an interval's bucket start falls: the start of its 15 minutes, its local hour or its local day."""

    interval: str
    tz: ZoneInfo

    def start_of(self, start: int) -> int:
        return start if self.interval == "15m" else _start_of(self.interval, self.tz, start)

    def label(self, start: int) -> str:
        return _label(self.interval, self.tz, start)

    def clock(self, at: float) -> str:
        """``at`` as local "YYYY-MM-DD HH:MM:SS", as ``datetime.fromtimestamp(at, tz)`` gives it (its rounding to
        the microsecond, then cut to the second), from a cached offset and date: a year's agents report writes
        tens of thousands, and the datetime way was a tenth of its time."""
        frac, whole = math.modf(at)
        us = round(frac * 1e6)  # fromtimestamp's own rounding (half to even), so 59.9999996 is the next second
        sec = int(whole) + (1 if us >= 1_000_000 else -1 if us < 0 else 0)
        off = _offset(self.tz, sec // QUARTER)
        if off is None:  # an offset change inside this quarter hour
            return dt.datetime.fromtimestamp(sec, self.tz).isoformat(" ", "seconds")[:19]
        day, rest = divmod(sec + off, 86400)
        hours, rest = divmod(rest, 3600)
        return f"{_date(day)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


QUARTER = 900


@lru_cache(maxsize=1 << 16)
def _offset(tz: ZoneInfo, quarter: int) -> int | None:
    """The UTC offset in seconds over the quarter hour ``quarter`` (epoch s // 900), None if it changes in it."""
    a = dt.datetime.fromtimestamp(quarter * QUARTER, tz).utcoffset()
    b = dt.datetime.fromtimestamp(quarter * QUARTER + QUARTER - 1, tz).utcoffset()
    return int(a.total_seconds()) if a == b and a is not None else None


@lru_cache(maxsize=1 << 12)
def _date(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


# a year's report asks for the same few hundred periods tens of thousands of times (one per row)
@lru_cache(maxsize=1 << 16)
def _start_of(interval: str, tz: ZoneInfo, start: int) -> int:
    local = dt.datetime.fromtimestamp(start, tz)
    if interval == "1h":
        local = local.replace(minute=0)  # a zone 30 or 45 minutes off the hour still starts hours at :00
    else:
        local = local.replace(hour=0, minute=0)
    return int(local.replace(second=0, microsecond=0).timestamp())


@lru_cache(maxsize=1 << 16)
def _label(interval: str, tz: ZoneInfo, start: int) -> str:
    local = dt.datetime.fromtimestamp(start, tz)
    return local.strftime("%Y-%m-%d") if interval == "1d" else local.strftime("%Y-%m-%d %H:%M")


def day_range(first: dt.date, last: dt.date, tz: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of ``first``'s local midnight and of the midnight after ``last`` (the range is [start, end))."""
    start = dt.datetime.combine(first, dt.time(), tz).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).timestamp()
    return start, end


@dataclass(frozen=True)
class Filter:
    """Which buckets a report reads; None lets everything through."""

    agents: frozenset[str] | None = None
    services: frozenset[str] | None = None
    campaigns: frozenset[str] | None = None

    def keeps(self, b: Bucket) -> bool:
        return ((self.agents is None or b.agent in self.agents)
                and (self.services is None or b.service in self.services)
                and (self.campaigns is None or b.campaign in self.campaigns))  # fmt: skip


def fold(rows: Iterable[Bucket], key: Callable[[Bucket], K | None], names: tuple[str, ...] = NAMES
         ) -> dict[K, Bucket]:  # fmt: skip
    """Buckets summed under ``key`` (a bucket whose key is None is left out), in key order; each sum keeps its first
    bucket's key. A key's buckets are gathered first and summed column by column (``rollup_rows.summed``: a year's
    report folds tens of thousands, most keys holding one bucket already summed by the rollups' SQL). ``names``: the
    fields summed (``rollup_rows.summed``)."""
    groups: dict[K, list[Bucket]] = {}
    for b in rows:
        k = key(b)
        if k is None:
            continue
        got = groups.get(k)
        if got is None:
            groups[k] = [b]
        else:
            got.append(b)
    return {k: summed(groups[k], names) for k in sorted(groups)}  # type: ignore[type-var]


def total(rows: Iterable[Bucket], names: tuple[str, ...] = NAMES) -> Bucket:
    """Everything in one bucket (keyed by the first); ``names``: the fields summed."""
    every = list(rows)
    return summed(every, names) if every else Bucket(0)
