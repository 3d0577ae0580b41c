"""Service statistics from call records, with the definitions of the metric table (ANCHORS.md).

Every function states its formula; reports print the same text so nobody has to guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULAS = {
    "offered": "calls that entered the queue (handed to an agent search), split by outcome",
    "answered": "connected to an agent",
    "abandoned": "caller hung up while waiting, after the short-abandon threshold",
    "short_abandoned": "caller hung up while waiting, within the short-abandon threshold (excluded from rates)",
    "other": "offered calls neither answered nor abandoned (ended by the system, call backs, voicemail)",
    "callbacks": "callers who chose a call back at the offer (in other; not abandons)",
    "voicemails": "callers a rule step sent to voicemail (in other)",
    "asa": "mean of (connect - queue entry) over answered calls, seconds",
    "service_level": "answered within T / (answered + abandoned after T)",
    "abandon_rate": "abandoned / (answered + abandoned), short abandons removed",
    "aht": "(talk + hold + wrap-up) / answered, seconds (wrap-up is 0 until the ACD owns agent states)",
    "occupancy": "(talk + hold + wrap-up) / logged-in time of the agents who took calls",
}


def _wait(r: Mapping[str, Any]) -> float | None:
    if r.get("queued_at") is None:
        return None
    if r.get("queue_wait") is not None:
        return float(r["queue_wait"])
    if r.get("ended_at") is not None:
        return float(r["ended_at"]) - float(r["queued_at"])
    return None


def service_stats(
    records: Iterable[Mapping[str, Any]],
    *,
    sl_threshold: float = 15.0,
    short_abandon: float = 5.0,
    logged_in_seconds: float | None = None,
    agents: int = 1,
) -> dict[str, Any]:
    rows = [r for r in records if r.get("queued_at") is not None]
    answered = [r for r in rows if r["outcome"] == "answered"]
    abandoned_all = [r for r in rows if r["outcome"] == "abandoned"]
    short = [r for r in abandoned_all if (_wait(r) or 0.0) <= short_abandon]
    abandoned = [r for r in abandoned_all if (_wait(r) or 0.0) > short_abandon]
    other = [r for r in rows if r["outcome"] not in ("answered", "abandoned")]
    waits = [float(r["queue_wait"]) for r in answered if r.get("queue_wait") is not None]
    within = sum(1 for w in waits if w <= sl_threshold)
    late_abandons = sum(1 for r in abandoned if (_wait(r) or 0.0) > sl_threshold)
    handled = sum(float(r.get("talk_time") or 0) + float(r.get("hold_time") or 0) for r in answered)
    out: dict[str, Any] = {
        "offered": len(rows),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "other": len(other),
        "callbacks": sum(1 for r in other if r["outcome"] == "callback"),
        "voicemails": sum(1 for r in other if r["outcome"] == "voicemail"),
        "asa": round(sum(waits) / len(waits), 2) if waits else None,
        "service_level": round(within / (len(answered) + late_abandons), 4) if answered or late_abandons else None,
        "service_level_threshold": sl_threshold,
        "abandon_rate": round(len(abandoned) / (len(answered) + len(abandoned)), 4) if answered or abandoned else None,
        "aht": round(handled / len(answered), 1) if answered else None,
    }
    if logged_in_seconds:
        out["occupancy"] = round(handled / (logged_in_seconds * max(1, agents)), 4)
    return out
