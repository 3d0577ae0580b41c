"""Today's figures per service, kept as call records arrive, with the report's own definitions (pure).

A wallboard's "answered today" must be the number the daily report will print, so the figures come from
``engine.store.stats.service_stats`` over today's records of the service, not from counters of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from engine.store.stats import DEFAULT_SL_TARGET, service_stats

FIGURES = ("offered", "answered", "abandoned", "short_abandoned", "other", "asa", "service_level", "abandon_rate")


def day_start(at: float, tz: str) -> float:
    """Midnight before ``at`` in the site's time zone, as epoch seconds."""
    zone = ZoneInfo(tz)
    local = dt.datetime.fromtimestamp(at, zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class ServiceDay:
    def __init__(self, targets: Mapping[str, float], tz: str) -> None:
        self.targets = dict(targets)
        self.tz = tz
        self.since = 0.0  # the start of the day the rows belong to
        self._rows: dict[str, dict[str, dict[str, Any]]] = {}  # service -> call id -> record row

    def roll(self, now: float) -> bool:
        """A new day in the site's zone starts from nothing; True when it did."""
        start = day_start(now, self.tz)
        if start == self.since:
            return False
        self.since = start
        self._rows.clear()
        return True

    def load(self, rows: Iterable[Mapping[str, Any]], now: float) -> None:
        self.roll(now)
        for r in rows:
            self.add(r)

    def add(self, row: Mapping[str, Any]) -> str | None:
        """Take a (new or updated) record; the service whose figures changed, or None."""
        if row.get("queued_at") is None or float(row.get("arrived_at") or 0.0) < self.since:
            return None
        service = str(row.get("service") or "")
        self._rows.setdefault(service, {})[str(row["call_id"])] = dict(row)
        return service

    def services(self) -> list[str]:
        return sorted(set(self.targets) | set(self._rows))

    def figures(self, service: str) -> dict[str, Any]:
        rows = list(self._rows.get(service, {}).values())
        st = service_stats(rows, sl_targets=self.targets)
        out = {k: st[k] for k in FIGURES}
        out["sl_target"] = float(self.targets.get(service, DEFAULT_SL_TARGET))
        return out
