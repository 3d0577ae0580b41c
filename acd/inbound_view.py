"""The ACD's side of ``engine.ports.InboundView``: what a campaign's floor should know about hotline callers.

Waiting callers come from the router (only those the given agents may take now: an overflow step reached,
or a service the guard granted). The arrival rate is counted where callers enter the queue: the IVR's
hand-over passes through ``entering`` on its way to the dispatcher, so callers connected at once count too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from acd.arrivals import ArrivalRate
from acd.router import Router
from engine.clock import Clock
from engine.ports import InboundLoad

RATE_WINDOW = 900.0  # s of arrivals behind the rate: long enough to be steady, short enough for the day's shape


class AcdInbound:
    def __init__(self, router: Router, default_service: str, clock: Clock, window: float = RATE_WINDOW) -> None:
        self.router = router
        self.default_service = default_service
        self.clock = clock
        self.rates = {name: ArrivalRate(clock.monotonic(), window) for name in router.services}

    def entered(self, service: str) -> None:
        # an unknown service is queued for the default one (the dispatcher does the same)
        name = service if service in self.rates else self.default_service
        if name in self.rates:
            self.rates[name].add(self.clock.monotonic())

    def entering(self, enqueue: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        """The IVR's hand-over with the arrival counted first."""

        async def hand_over(waiting: Any) -> None:
            self.entered(waiting.service)
            await enqueue(waiting)

        return hand_over

    def load_for(self, agents: Collection[str]) -> InboundLoad:
        now = self.clock.monotonic()
        rate = sum(self.rates[s].rate(now) for s in self.router.open_services(agents) if s in self.rates)
        return InboundLoad(self.router.waiting_for(agents, self.clock.now()), rate)
