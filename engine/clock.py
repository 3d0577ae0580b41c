"""One clock interface, real or virtual. Brains get a Clock; they never read the wall clock."""

from __future__ import annotations

import asyncio
import heapq
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time for records)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for timeouts and intervals)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """Time moves only when told to; sleepers wake in deadline order (a discrete-event clock).

    ``sim.vtime`` drives it: whenever every task waits on this clock, time jumps to the next deadline.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        # kept as an offset from ``start``: near 1.8e9 a float's step is 2.4e-7 s, so "now + a tiny remainder"
        # would round back to now and a wait-until-deadline loop would never get there
        self._start = start
        self._t = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def now(self) -> float:
        return self._start + self._t

    def monotonic(self) -> float:
        return self._t

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self._t + max(0.0, seconds), self._seq, fut))
        await fut

    def next_deadline(self) -> float | None:
        """The earliest wake-up still wanted, on the ``monotonic`` scale (cancelled sleepers are dropped)."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def advance_to(self, when: float) -> int:
        """Move to ``when`` (``monotonic`` scale, never back) and wake the sleepers due by then."""
        woke = 0
        while self._sleepers and self._sleepers[0][0] <= when:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
                woke += 1
        self._t = max(self._t, when)
        return woke


class ScaledClock:
    """Real time sped up ``speed`` times: a demo hour passes in 3600/speed wall seconds.

    ``now`` starts at ``start`` (a virtual wall time, e.g. 09:00 of the simulated day), so records carry
    simulated times. Engine and virtual PBX must share one instance.
    """

    def __init__(self, speed: float, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._mono0 = time.monotonic()
        self._start = time.time() if start is None else start

    def now(self) -> float:
        return self._start + (time.monotonic() - self._mono0) * self.speed

    def monotonic(self) -> float:
        return (time.monotonic() - self._mono0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)
