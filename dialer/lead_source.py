"""Where a campaign's numbers come from: the interface the dial path claims leads through and the imported
leads in the store (``dialer.leads``). The simulator's endless list is ``sim.synthetic_leads``; the
composition root picks the source per campaign (``leads`` in the site file)."""

from __future__ import annotations

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
