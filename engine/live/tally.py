"""Today's figures per service, kept as call records arrive, with the report's own definitions (pure).

A wallboard's "answered today" must be the number the daily report will print, so the figures come from
``engine.store.stats.service_stats`` over today's records of the service, not from counters of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from engine.privacy import mask_number
from engine.store.stats import DEFAULT_SL_TARGET, handle_time_of, service_stats

ABANDONED_SHOWN = 20  # the wallboard's list of today's abandoned callers: the latest of them, per service

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

    def abandoned(self, service: str, short_abandon: float = 5.0) -> list[dict[str, Any]]:
        """Today's abandoned callers of ``service``, latest first: masked number, wait, when they hung up, and
        whether the wait was short enough not to count (the report's short abandons)."""
        rows = [r for r in self._rows.get(service, {}).values() if r.get("outcome") == "abandoned"]
        rows.sort(key=lambda r: float(r.get("ended_at") or r.get("arrived_at") or 0.0), reverse=True)
        out = []
        for r in rows[:ABANDONED_SHOWN]:
            wait = _wait_of(r)
            out.append({"caller": mask_number(str(r.get("caller") or "")), "wait": wait,
                        "at": r.get("ended_at") or r.get("arrived_at"), "short": wait <= short_abandon})  # fmt: skip
        return out


def _wait_of(r: Mapping[str, Any]) -> float:
    if r.get("queue_wait") is not None:
        return round(float(r["queue_wait"]), 1)
    if r.get("ended_at") is not None and r.get("queued_at") is not None:
        return round(float(r["ended_at"]) - float(r["queued_at"]), 1)
    return 0.0


class AgentDay:
    """Each agent's calls handled today and its AHT, (talk + hold + wrap-up) / handled as the report defines it,
    over the same call records (answered calls of the agent that arrived today)."""

    def __init__(self, tz: str) -> None:
        self.tz = tz
        self.since = 0.0
        self._rows: dict[str, dict[str, tuple[float, ...]]] = {}  # agent -> call id -> (talk, hold, wrap, handle)

    def roll(self, now: float) -> bool:
        start = day_start(now, self.tz)
        if start == self.since:
            return False
        self.since = start
        self._rows.clear()
        return True

    def add(self, row: Mapping[str, Any]) -> str | None:
        """Take a (new or updated) record; the agent whose figures changed, or None."""
        agent = str(row.get("agent_id") or "")
        if not agent or row.get("outcome") != "answered" or float(row.get("arrived_at") or 0.0) < self.since:
            return None
        times = (float(row.get("talk_time") or 0), float(row.get("hold_time") or 0),
                 float(row.get("wrap_up_time") or 0), handle_time_of(row))  # fmt: skip
        self._rows.setdefault(agent, {})[str(row["call_id"])] = times
        return agent

    def agents(self) -> list[str]:
        return sorted(self._rows)

    def figures(self, agent: str) -> dict[str, Any]:
        calls = list(self._rows.get(agent, {}).values())
        talk, hold, wrap = (round(sum(c[i] for c in calls), 1) for i in range(3))
        aht = round(sum(c[3] for c in calls) / len(calls), 1) if calls else None
        return {"handled": len(calls), "aht": aht, "talk": talk, "hold": hold, "wrap": wrap}
