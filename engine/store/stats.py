"""Service statistics from call records, with the definitions of the metric table (docs/metrics.md).

Every function states its formula; reports print the same text so nobody has to guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_SL_TARGET = 15.0  # the hotline's 3 rings: a call of a service nobody configured

FORMULAS = {
    "offered": "calls that entered the queue (handed to an agent search), split by outcome",
    "answered": "connected to an agent",
    "abandoned": "caller hung up while waiting, after the short-abandon threshold",
    "short_abandoned": "caller hung up while waiting, within the short-abandon threshold (excluded from rates)",
    "other": "offered calls neither answered nor abandoned (ended by the system, call backs, voicemail)",
    "callbacks": "callers who chose a call back at the offer (in other; not abandons)",
    "voicemails": "callers a rule step sent to voicemail (in other)",
    "asa": "mean of (connect - queue entry) over answered calls, seconds",
    "service_level": "answered within T / (answered + abandoned after T), T = each call's service's sl_target "
                     "(sl_targets)",
    "abandon_rate": "abandoned / (answered + abandoned), short abandons removed",
    "aht": "(talk + hold + wrap-up) / handled (answered), seconds",
    "occupancy": "(talk + hold + wrap-up + outbound) / (that + available idle time) of the agents; paused and "
                 "logged-out time excluded",
}  # fmt: skip


def targets_of(site: Any) -> dict[str, float]:
    """Each service's own service-level target from the site (``[[services]] sl_target``)."""
    if site.services:
        return {sv.name: float(sv.sl_target) for sv in site.services}
    return {site["hotline"]["service"]: DEFAULT_SL_TARGET}


def _wait(r: Mapping[str, Any]) -> float | None:
    if r.get("queued_at") is None:
        return None
    if r.get("queue_wait") is not None:
        return float(r["queue_wait"])
    if r.get("ended_at") is not None:
        return float(r["ended_at"]) - float(r["queued_at"])
    return None


def handle_time_of(r: Mapping[str, Any]) -> float:
    if r.get("handle_time") is not None:
        return float(r["handle_time"])  # talk + hold + wrap-up (records.py)
    return float(r.get("talk_time") or 0) + float(r.get("hold_time") or 0) + float(r.get("wrap_up_time") or 0)


def service_stats(
    records: Iterable[Mapping[str, Any]],
    *,
    sl_targets: Mapping[str, float] | None = None,
    short_abandon: float = 5.0,
    agent_time: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures over all services; ``sl_targets`` maps service -> T (a service missing from it, or a record
    with none, gets 15 s); ``agent_time`` (``acd.occupancy.AgentTime.as_dict``) adds occupancy."""
    targets = dict(sl_targets or {})

    def target(r: Mapping[str, Any]) -> float:
        return float(targets.get(str(r.get("service") or ""), DEFAULT_SL_TARGET))

    rows = [r for r in records if r.get("queued_at") is not None]
    answered = [r for r in rows if r["outcome"] == "answered"]
    abandoned_all = [r for r in rows if r["outcome"] == "abandoned"]
    short = [r for r in abandoned_all if (_wait(r) or 0.0) <= short_abandon]
    abandoned = [r for r in abandoned_all if (_wait(r) or 0.0) > short_abandon]
    other = [r for r in rows if r["outcome"] not in ("answered", "abandoned")]
    waits = [float(r["queue_wait"]) for r in answered if r.get("queue_wait") is not None]
    within = sum(1 for r in answered if r.get("queue_wait") is not None and float(r["queue_wait"]) <= target(r))
    late_abandons = sum(1 for r in abandoned if (_wait(r) or 0.0) > target(r))
    used = {str(r.get("service") or ""): target(r) for r in rows}
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
        # the T that was used: one number when every call had the same, else see sl_targets
        "service_level_threshold": next(iter(set(used.values()))) if len(set(used.values())) == 1 else None,
        "sl_targets": {k or "(none)": v for k, v in sorted(used.items())},
        "abandon_rate": round(len(abandoned) / (len(answered) + len(abandoned)), 4) if answered or abandoned else None,
        "aht": round(sum(handle_time_of(r) for r in answered) / len(answered), 1) if answered else None,
        "wrap_up": round(sum(float(r.get("wrap_up_time") or 0) for r in answered), 1),
    }
    if agent_time is not None:
        out["occupancy"] = agent_time.get("occupancy")
        out["agent_time"] = dict(agent_time)
    return out


def by_service(records: Iterable[Mapping[str, Any]], sl_targets: Mapping[str, float], **kw: Any) -> dict[str, Any]:
    """The same figures per service, each with its own target."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        if r.get("queued_at") is not None:
            groups.setdefault(str(r.get("service") or ""), []).append(r)
    return {name or "(none)": service_stats(rows, sl_targets=sl_targets, **kw) for name, rows in sorted(groups.items())}
