"""An in-process publish/subscribe bus with retained state, sans-I/O apart from waking a waiting reader.

States (an agent's and its day's, a service's and its abandoned callers', a campaign's, the engine's) are
retained: the newest per (topic, key) is kept, and a new subscriber gets all of them first as one
``Snapshot``, then every change. Events (a call's facts) are passed on and forgotten. ``publish`` never
waits: each subscriber has a bounded queue, and one that falls behind loses its queue and is handed a fresh
snapshot on its next read (the engine never waits for a slow wallboard, and the wallboard never shows a state
that skipped a change without knowing it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

# states: an agent, its day (calls handled, AHT), a service, its abandoned callers today, a campaign, the engine;
# an overdue case (for its team's lead); events: a call's facts
TOPICS = ("agent", "agent_day", "service", "abandoned", "campaign", "engine", "case", "call")


@dataclass(frozen=True)
class Change:
    topic: str  # one of TOPICS
    key: str  # the agent's id, the service's or campaign's name, the call's id, "status" for the engine
    at: float  # epoch seconds, the engine's clock
    data: Mapping[str, Any]
    retained: bool = True  # a state (the newest wins) or an event (call facts)

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "key": self.key, "at": self.at, **self.data}


@dataclass(frozen=True)
class Snapshot:
    at: float
    states: tuple[Change, ...]  # every retained state, in topic then key order


class SubscriptionClosed(Exception):
    """Read from a subscription that was closed: not a cancellation, which belongs to the reading task."""


class Subscription:
    def __init__(self, bus: Bus, limit: int, name: str) -> None:
        self._bus = bus
        self.limit = limit
        self.name = name
        self._queue: deque[Change] = deque()
        self._behind = True  # the first read is a snapshot
        self._ready = asyncio.Event()
        self._ready.set()
        self.resnapshots = 0  # how often it fell behind and started over from a snapshot
        self.closed = False

    def offer(self, change: Change) -> None:
        if self._behind:
            return  # its next read is a snapshot, which already holds this state
        if len(self._queue) >= self.limit:
            self._queue.clear()
            self._behind = True
            self.resnapshots += 1
        else:
            self._queue.append(change)
        self._ready.set()

    def pending(self) -> int:
        return len(self._queue)

    def get_nowait(self) -> Change | Snapshot | None:
        if self._behind:
            self._behind = False
            return self._bus.snapshot()
        if self._queue:
            return self._queue.popleft()
        self._ready.clear()
        return None

    async def get(self) -> Change | Snapshot:
        while True:
            item = self.get_nowait()
            if item is not None:
                return item
            if self.closed:
                raise SubscriptionClosed(f"subscription {self.name} closed")
            await self._ready.wait()

    def close(self) -> None:
        self.closed = True
        self._bus.unsubscribe(self)
        self._ready.set()

    async def __aiter__(self) -> AsyncIterator[Change | Snapshot]:
        """Every item until the subscription is closed; then the loop just ends."""
        while True:
            try:
                item = await self.get()
            except SubscriptionClosed:
                return
            yield item


class Bus:
    def __init__(self) -> None:
        self._retained: dict[tuple[str, str], Change] = {}
        self._subscribers: list[Subscription] = []
        self.published = 0
        self.last_at = 0.0

    def publish(self, change: Change) -> bool:
        """Pass a change on; a retained state equal to the one held is not a change (False)."""
        if change.topic not in TOPICS:
            raise ValueError(f"unknown topic {change.topic!r}")
        if change.retained:
            key = (change.topic, change.key)
            held = self._retained.get(key)
            if held is not None and held.data == change.data:
                return False
            self._retained[key] = change
        self.published += 1
        self.last_at = change.at
        for sub in self._subscribers:
            sub.offer(change)
        return True

    def state(self, topic: str, key: str) -> Change | None:
        return self._retained.get((topic, key))

    def states(self, topic: str) -> list[Change]:
        return [c for (t, _), c in sorted(self._retained.items()) if t == topic]

    def snapshot(self) -> Snapshot:
        return Snapshot(self.last_at, tuple(c for _, c in sorted(self._retained.items())))

    def subscribe(self, limit: int = 1000, name: str = "") -> Subscription:
        sub = Subscription(self, limit, name or f"subscriber-{len(self._subscribers) + 1}")
        self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
