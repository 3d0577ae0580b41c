"""The agent page's server-sent events: one bus subscription per open page, folded by that agent's ``Desk``.

The page is sent its whole view (small: one agent, one call) each time it changes, so a snapshot and a change
are the same message and the page just redraws; a ``tick`` with the engine's time comes when nothing was sent for
a second (time in state keeps counting, however busy the bus is with other agents). The ledger is read only
when the agent is on a call the page has not seen from its start, and once per snapshot for a campaign agent.
A slow page never slows the engine: its bounded queue is dropped by the bus and it starts over from a snapshot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from engine.live.bus import Change, Snapshot, Subscription
from engine.model.facts import Fact
from engine.policy import Actor
from engine.web.actor import Visible
from engine.web.agent.desk import RECALL_KINDS, RECALL_SECONDS, Desk

FactReader = Callable[..., Awaitable[list[Fact]]]  # the ledger's facts(call_id, kinds, since)
# the screen pop of a call's fields (Desk.pops) for the page's viewer: the customer's card (None: no look-up) and
# the external CRM's URL
PopLookup = Callable[[dict[str, Any], Any], Awaitable[tuple[dict[str, Any] | None, str]]]


def message(event: str, body: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def allowed(item: Change | Snapshot, actor: Actor | None, visible: Visible) -> Change | Snapshot | None:
    """The item with only what ``visible`` lets ``actor`` see (None: nothing)."""
    if isinstance(item, Snapshot):
        return Snapshot(item.at, tuple(c for c in item.states if visible(actor, c)))
    return item if visible(actor, item) else None


async def desk_events(sub: Subscription, desk: Desk, now: Callable[[], float], read: FactReader,
                      actor: Actor | None, visible: Visible, *, recall: bool, pop: PopLookup | None = None,
                      heartbeat: float = 1.0) -> AsyncIterator[str]:  # fmt: skip
    """Every message for one page until it goes away (the response is cancelled; the subscription closes).
    ``recall``: the agent works a campaign, so a snapshot also reads its recent outbound facts back; ``pop``: the
    site's screen pop, looked up once per call the agent is offered."""
    try:
        yield "retry: 1000\n\n"  # the browser reconnects after a second when the stream is cut
        sent = time.monotonic()
        while True:
            wait = max(0.01, sent + heartbeat - time.monotonic())
            try:
                got: Change | Snapshot | None = await asyncio.wait_for(sub.get(), wait)
            except TimeoutError:
                got = None
            item = None if got is None else allowed(got, actor, visible)
            changed = item is not None and desk.take(item)
            if isinstance(item, Snapshot):
                changed = True  # a page (re)connecting is sent its view whatever it held before
                if recall:
                    desk.recall(await read(None, RECALL_KINDS, now() - RECALL_SECONDS))
            for call_id in desk.loads():
                changed |= desk.history(call_id, await read(call_id))
            for want in desk.pops() if pop is not None else ():
                card, url = await pop(want, actor)
                changed |= desk.popped(want["call"], card, url)
            if changed:
                yield message("view", {"now": now(), "wall": time.time(), "view": desk.view()})
            elif time.monotonic() - sent >= heartbeat:
                yield message("tick", {"now": now()})
            else:
                continue
            sent = time.monotonic()
    finally:
        sub.close()
