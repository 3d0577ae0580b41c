"""The hotline guard: sans-I/O. When the hotline is about to miss its promise (a caller has waited
``after`` seconds and no agent who can take the hotline is free), one designated outbound agent is taken
off the dialer: the pacer stops counting it, so when its current call ends it stays in its session for the
hotline instead of getting the next customer. Once no hotline caller has waited for ``release_after``
seconds, the agent goes back to dialing.

Why one agent and a wait threshold, not a forecast: the hotline is a single-agent service whose promise
is three rings (15 s). Reserving early costs the campaign one agent for a short while; reserving late
breaks the promise. The threshold is a site setting, and every decision is a fact with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GuardSeat:
    """A designated outbound agent as the dialer sees it: idle in its session, or busy since ``since``."""

    agent: str
    idle: bool
    since: float  # monotonic seconds: when it became idle or started its current call
    available: bool = True  # logged in and in its session at all


class GuardedFloor(Protocol):
    """The dialer as the guard needs it: the hold put on and taken off (the seats are the agent board's)."""

    async def reserve(self, agent_id: str, reason: str) -> None: ...

    async def release(self, agent_id: str, reason: str) -> None: ...


@dataclass(frozen=True)
class Reserve:
    agent: str
    reason: str


@dataclass(frozen=True)
class Release:
    agent: str
    reason: str


@dataclass
class Guard:
    after: float
    release_after: float
    reserved: str | None = None
    calm_since: float | None = None

    def step(self, now: float, oldest_wait: float | None, seats: list[GuardSeat]) -> Reserve | Release | None:
        """``oldest_wait``: seconds the longest-waiting hotline caller nobody is being tried for has waited
        (None: nobody waits). The shell asks after making every connect it could, so a caller still waiting
        means no agent who may take it is free."""
        if self.reserved is not None:
            if oldest_wait is not None:
                self.calm_since = None
                return None
            if self.calm_since is None:
                self.calm_since = now
            if now - self.calm_since >= self.release_after:
                agent, self.reserved, self.calm_since = self.reserved, None, None
                return Release(agent, f"no hotline caller waiting for {self.release_after:.0f} s")
            return None
        if oldest_wait is None or oldest_wait < self.after:
            return None
        ready = [s for s in seats if s.available]
        if not ready:
            return None
        # an idle agent takes the caller now; else the one whose call has lasted longest (a simple guess at
        # who frees first: most calls are shorter than the longest running one)
        idle = [s for s in ready if s.idle]
        pick = min(idle, key=lambda s: s.since) if idle else min(ready, key=lambda s: s.since)
        self.reserved, self.calm_since = pick.agent, None
        return Reserve(pick.agent, f"hotline caller waiting {oldest_wait:.1f} s with no hotline agent free")
