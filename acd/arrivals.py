"""Inbound arrival rate over a sliding window: sans-I/O, the caller gives every time (no clock of its own)."""

from __future__ import annotations

from collections import deque


class ArrivalRate:
    """Arrivals per second over the last ``window`` seconds. Until a whole window has passed since ``start``
    the rate is over the time observed so far, but never over less than ``min_span`` (one early caller must
    not read as a flood)."""

    def __init__(self, start: float, window: float = 900.0, min_span: float = 60.0) -> None:
        self.start = start
        self.window = window
        self.min_span = min_span
        self._times: deque[float] = deque()

    def add(self, at: float) -> None:
        self._times.append(at)

    def rate(self, now: float) -> float:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        span = max(self.min_span, min(self.window, now - self.start))
        return sum(1 for t in self._times if t <= now) / span
