"""The wallboard's server-sent events: one bus subscription per browser, first the snapshot, then each change.

``frame`` is pure (a bus item to one SSE message); ``events`` is the thin shell reading the subscription. The
browser's connection is the only thing that can be slow here, and it never slows the engine: while the
response waits on the socket the subscription's bounded queue fills, the bus drops it, and the next read is a
fresh snapshot (sent as such, so the page starts over instead of showing a state that skipped a change).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from engine.live.bus import Change, Snapshot, Subscription
from engine.policy import Actor
from engine.web.actor import Visible

# states; call events are not shown (volume)
TOPICS = frozenset({"agent", "agent_day", "service", "abandoned", "campaign", "engine"})


def _state(c: Change) -> dict[str, Any]:
    return {"topic": c.topic, "key": c.key, "at": c.at, "data": dict(c.data)}


def frame(item: Change | Snapshot | None, now: float, wall: float, actor: Actor | None, visible: Visible) -> str:
    """One SSE message (an empty string for a change the page does not show). ``now``: the engine's clock (time
    in state is counted on it); ``wall``: real epoch seconds when it was read off the bus (the page's delay from
    it to its own update is what the browser test measures); ``item`` None: a heartbeat."""
    body: dict[str, Any] = {"now": now, "wall": wall}
    if isinstance(item, Snapshot):
        body["states"] = [_state(c) for c in item.states if c.topic in TOPICS and visible(actor, c)]
        event = "snapshot"
    elif isinstance(item, Change):
        if item.topic not in TOPICS or not visible(actor, item):
            return ""
        body.update(_state(item))
        event = "change"
    else:
        event = "tick"
    return f"event: {event}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


async def events(sub: Subscription, now: Callable[[], float], actor: Actor | None, visible: Visible,
                 heartbeat: float = 1.0) -> AsyncIterator[str]:  # fmt: skip
    """Every message for one browser until it goes away (the response is cancelled; the subscription closes).
    A tick each ``heartbeat`` real seconds with nothing to say keeps time in state counting and the proxy open."""
    try:
        yield "retry: 1000\n\n"  # the browser reconnects after a second when the stream is cut
        while True:
            try:
                item: Change | Snapshot | None = await asyncio.wait_for(sub.get(), heartbeat)
            except TimeoutError:
                item = None
            text = frame(item, now(), time.time(), actor, visible)
            if text:
                yield text
    finally:
        sub.close()
