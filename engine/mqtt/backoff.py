"""Reconnect delays: doubling from ``first`` to at most ``limit`` seconds, back to ``first`` once connected."""

from __future__ import annotations


class Backoff:
    def __init__(self, first: float = 1.0, limit: float = 30.0) -> None:
        if not 0 < first <= limit:
            raise ValueError("need 0 < first <= limit")
        self.first = first
        self.limit = limit
        self._next = first

    def next(self) -> float:
        """The delay before the next attempt; the one after it doubles, up to the limit."""
        delay = self._next
        self._next = min(self.limit, delay * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first
