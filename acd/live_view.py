"""The ACD's queues as the live feed shows them: who waits in which service, and since when (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from acd.queued import Queued
from engine.live.feed import QueueNow


def queues_now(queued: Mapping[str, Queued], services: list[str]) -> dict[str, QueueNow]:
    """Callers on hold per service, the longest waiting one's queue entry, and those kept for a call back."""
    waiting: dict[str, list[float]] = {s: [] for s in services}
    callbacks: dict[str, int] = {s: 0 for s in services}
    for q in queued.values():
        if q.callback is not None:
            callbacks[q.service] = callbacks.get(q.service, 0) + 1
        else:
            waiting.setdefault(q.service, []).append(q.queued_at)
    return {s: QueueNow(len(ats), min(ats) if ats else None, callbacks.get(s, 0)) for s, ats in waiting.items()}
