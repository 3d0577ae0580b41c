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

from engine.live.bus import Change, Snapshot, Subscription
from engine.policy import Actor
from engine.web.actor import Visible

# states; call events are not shown (volume)
TOPICS = frozenset({"agent", "agent_day", "service", "abandoned", "campaign", "engine"})


BATCH = 200  # changes written to a browser at once when a burst is queued (one write, not one each)
_ENCODED: dict[int, tuple[Change, str]] = {}  # a change's JSON, made once for every browser it goes to
_ENCODED_KEEP = 4096


def _encoded(c: Change) -> str:
    """``{"topic":…,"key":…,"at":…,"data":…}`` of a change: encoded once however many streams send it (the
    same object reaches every subscriber; the entry keeps it alive, so its id cannot be reused meanwhile)."""
    hit = _ENCODED.get(id(c))
    if hit is not None and hit[0] is c:
        return hit[1]
    text = json.dumps({"topic": c.topic, "key": c.key, "at": c.at, "data": dict(c.data)}, separators=(",", ":"))
    if len(_ENCODED) >= _ENCODED_KEEP:
        del _ENCODED[next(iter(_ENCODED))]  # the oldest: dicts keep insertion order
    _ENCODED[id(c)] = (c, text)
    return text


def frame(item: Change | Snapshot | None, now: float, wall: float, actor: Actor | None, visible: Visible) -> str:
    """One SSE message (an empty string for a change the page does not show). ``now``: the engine's clock (time
    in state is counted on it); ``wall``: real epoch seconds when it was read off the bus (the page's delay from
    it to its own update is what the browser test measures); ``item`` None: a heartbeat."""
    head = f'{{"now":{json.dumps(now)},"wall":{json.dumps(wall)}'
    if isinstance(item, Snapshot):
        states = ",".join(_encoded(c) for c in item.states if c.topic in TOPICS and visible(actor, c))
        return f'event: snapshot\ndata: {head},"states":[{states}]}}\n\n'
    if isinstance(item, Change):
        if item.topic not in TOPICS or not visible(actor, item):
            return ""
        return f"event: change\ndata: {head},{_encoded(item)[1:]}\n\n"
    return f"event: tick\ndata: {head}}}\n\n"


def coalesced(items: list[Change | Snapshot]) -> list[Change | Snapshot]:
    """What a browser needs of a batch (pure): nothing before the last snapshot, and of several changes of one
    state only the last, in the order of their last changes (a page shows states, not their history)."""
    for i in range(len(items) - 1, -1, -1):
        if isinstance(items[i], Snapshot):
            items = items[i:]
            break
    last: dict[tuple[str, str], int] = {}
    for i, it in enumerate(items):
        if isinstance(it, Change):
            last[(it.topic, it.key)] = i
    return [it for i, it in enumerate(items) if not isinstance(it, Change) or last[(it.topic, it.key)] == i]


async def events(sub: Subscription, now: Callable[[], float], actor: Actor | None, visible: Visible,
                 heartbeat: float = 1.0, gather: float = 0.1) -> AsyncIterator[str]:  # fmt: skip
    """Every message for one browser until it goes away (the response is cancelled; the subscription closes).
    A tick each ``heartbeat`` real seconds with nothing to say keeps time in state counting and the proxy open.
    After a change, what else comes within ``gather`` seconds goes with it in one write, a state changed twice
    meanwhile once: fifty pages then cost the engine a few wake-ups a second each, not one per change."""
    try:
        yield "retry: 1000\n\n"  # the browser reconnects after a second when the stream is cut
        while True:
            first: Change | Snapshot | None = sub.get_nowait()
            if first is None:
                try:
                    async with asyncio.timeout(heartbeat):
                        first = await sub.get()
                except TimeoutError:
                    first = None
            # stamped when the first change could be read: the page's measured delay includes the gathering
            wall = time.time()
            items: list[Change | Snapshot] = [] if first is None else [first]
            if first is not None and gather > 0:
                await asyncio.sleep(gather)
            while first is not None and len(items) < BATCH and (more := sub.get_nowait()) is not None:
                items.append(more)
            at = now()
            parts = [frame(it, at, wall, actor, visible) for it in coalesced(items)] if items else [
                frame(None, at, wall, actor, visible)]  # fmt: skip
            text = "".join(parts)
            if text:
                yield text
    finally:
        sub.close()
