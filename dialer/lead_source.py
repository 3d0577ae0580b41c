"""Where a campaign's numbers come from: the interface the dial path claims leads through, an endless
synthetic list (demo and benchmarks) and the imported leads in the store (``dialer.leads``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LeadRef:
    id: int
    phone: str
    tz: str = ""
    attempts: int = 0
    agent: str = ""  # a call back this agent promised


class Leads(Protocol):
    async def claim(self, n: int, now: float, agent: str | None = None) -> list[LeadRef]: ...

    async def schedule(self, lead: LeadRef, at: float, agent: str | None) -> None: ...

    async def add_dnc(self, phone: str, now: float) -> None: ...

    async def finish(self, lead: LeadRef, outcome: str, now: float, next_at: float | None,
                     attempted: bool = True) -> None: ...  # fmt: skip


def synthetic_number(index: int) -> str:
    """Lead ``index`` of a synthetic list as a Chinese mobile number (the simulated carrier decodes it)."""
    return f"139{index:08d}"


def synthetic_index(number: str) -> int | None:
    digits = number.removeprefix("+86")
    return int(digits[3:]) if len(digits) == 11 and digits.startswith("139") and digits.isdigit() else None


class SyntheticLeads:
    """An endless list drawn from the traffic model (demo and benchmarks): every dial is a fresh lead."""

    def __init__(self) -> None:
        self._next = itertools.count()
        self.finished: dict[str, int] = {}

    async def claim(self, n: int, now: float, agent: str | None = None) -> list[LeadRef]:
        if agent is not None:
            return []  # no call backs in a synthetic list
        return [LeadRef(i, synthetic_number(i)) for i in itertools.islice(self._next, max(0, n))]

    async def schedule(self, lead: LeadRef, at: float, agent: str | None) -> None:
        return None

    async def add_dnc(self, phone: str, now: float) -> None:
        return None

    async def finish(self, lead: LeadRef, outcome: str, now: float, next_at: float | None,
                     attempted: bool = True) -> None:  # fmt: skip
        self.finished[outcome] = self.finished.get(outcome, 0) + 1


class StoredLeads:
    """Imported leads (``hotline leads import``), handed out per team, do-not-call checked at claim time."""

    def __init__(self, store: Any, campaign: str, team: str) -> None:
        from dialer.leads import LeadStore

        self.store = LeadStore(store)
        self.campaign = campaign
        self.team = team or None

    async def claim(self, n: int, now: float, agent: str | None = None) -> list[LeadRef]:
        got = await self.store.claim(self.campaign, self.team, n, now, agent)
        return [LeadRef(x.id, x.phone, x.tz or "", x.attempts, x.agent or "") for x in got]

    async def schedule(self, lead: LeadRef, at: float, agent: str | None) -> None:
        await self.store.schedule(lead.id, at, agent)

    async def add_dnc(self, phone: str, now: float) -> None:
        await self.store.add_dnc([phone], self.campaign, now, "agent disposition")

    async def finish(self, lead: LeadRef, outcome: str, now: float, next_at: float | None,
                     attempted: bool = True) -> None:  # fmt: skip
        await self.store.finish(lead.id, outcome, now, next_at, attempted=attempted)
