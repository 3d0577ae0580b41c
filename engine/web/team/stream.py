"""The team page's server-sent events: one team's agents, the services, and the alerts on them.

Like the wallboard's stream (engine/web/wallboard/stream.py): one bus subscription per browser, the snapshot
first, then each change; a slow browser is handed a fresh snapshot instead of slowing the engine. Here each
stream also keeps an ``AlertBook`` over what it sends, evaluated on every message and on a heartbeat each
second of quiet, so an alert is raised or cleared the moment its state changes or its time runs over.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from engine.live.bus import Change, Snapshot, Subscription
from engine.web.team.alerts import AlertBook, AlertEvent

Keep = Callable[[Change], bool]


def team_filter(members: frozenset[str], visible: Callable[[Change], bool], team: str = "") -> Keep:
    """The states a team's page shows: the services, the agents of the team that ``visible`` lets through, and
    the team's overdue cases."""

    def keep(c: Change) -> bool:
        if c.topic == "service":
            return True
        if c.topic == "case":
            return bool(team) and c.data.get("team") == team and visible(c)
        return c.topic == "agent" and c.key in members and visible(c)

    return keep


def _msg(event: str, body: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def frames(item: Change | Snapshot | None, now: float, wall: float, keep: Keep, book: AlertBook) -> list[str]:
    """The SSE messages for one bus item (None: a heartbeat), the alerts it raised or cleared after it. ``now``:
    the engine's clock, which alerts and time in state are counted on; ``wall``: real seconds, for the page's
    own measure of delay."""
    head: dict[str, Any] = {"now": now, "wall": wall}
    out: list[str] = []
    events: list[AlertEvent]
    if isinstance(item, Snapshot):
        states = [c for c in item.states if keep(c)]
        alerts = book.reset(states, now)
        body = {**head, "states": [{"topic": c.topic, "key": c.key, "at": c.at, "data": dict(c.data)} for c in states],
                "alerts": [a.as_dict() for a in alerts]}  # fmt: skip
        return [_msg("snapshot", body)]
    if isinstance(item, Change) and keep(item):
        out.append(_msg("change", {**head, "topic": item.topic, "key": item.key, "at": item.at,
                                   "data": dict(item.data)}))  # fmt: skip
        events = book.change(item, now)
    else:
        events = book.tick(now)
        if item is None:
            out.append(_msg("tick", head))
    out += [_msg("alert", {**head, "op": e.op, "alert": e.alert.as_dict()}) for e in events]
    return out


async def events(sub: Subscription, now: Callable[[], float], keep: Keep, book: AlertBook,
                 heartbeat: float = 1.0) -> AsyncIterator[str]:  # fmt: skip
    """Every message for one browser until it goes away (the response is cancelled; the subscription closes)."""
    try:
        yield "retry: 1000\n\n"
        while True:
            try:
                item: Change | Snapshot | None = await asyncio.wait_for(sub.get(), heartbeat)
            except TimeoutError:
                item = None
            for text in frames(item, now(), time.time(), keep, book):
                yield text
    finally:
        sub.close()
