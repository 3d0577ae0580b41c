"""The agent's word on its last conversation, the runner's part for it (feature codes now, the web agent page
later): a disposition, or a call back for this agent or for anyone. Either ends the wrap-up early.

A mixin of :class:`dialer.runner.CampaignRunner`: the attributes below are the runner's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dialer.lead_source import Leads
from dialer.notifier import Notifier
from dialer.pacing import AgentSaid, Pacer
from dialer.settings import MACHINE_LABEL, SALE_LABEL, Campaign
from dialer.state import Seat
from engine.clock import Clock


class Dispositions:
    clock: Clock
    notify: Notifier
    c: Campaign
    leads: Leads
    pacer: Pacer
    _end_wrap: Callable[[Seat], None]
    _t: Callable[[], float]

    async def disposition(self, seat: Seat, code: str) -> str:
        """The agent's disposition of its last conversation; "do not call" puts the number on the campaign's
        list; entering it ends the wrap-up early."""
        d = seat.last
        if d is None:
            raise ValueError(f"agent {seat.agent.id} has no call to give a disposition to")
        label = self.c.dispositions.get(code)
        if label is None:
            raise ValueError(f"unknown disposition code {code!r} (known: {', '.join(sorted(self.c.dispositions))})")
        await self.notify.disposition(d.id, seat.agent.id, d.lead, code, label)
        if "rang" in d.extra and not d.extra.get("said"):
            # who answered, once per call (a second disposition corrects the record, not the pacer's count)
            d.extra["said"] = True
            self.pacer.on(AgentSaid(label == MACHINE_LABEL, d.extra["rang"]), self._t())
        if label == "do not call":
            await self.leads.add_dnc(d.lead.phone, self.clock.now())
        self._end_wrap(seat)
        return f"{seat.agent.id}: call {d.id} {label}"

    async def sale(self, seat: Seat, order: str, place: Callable[[str, str, str, Any, str], Awaitable[str]]) -> str:
        """The sale disposition of the last conversation with its order (``order``: the JSON the page or the API
        sent), placed by the sales feature first: an order it cannot take gives no disposition."""
        d = seat.last
        if d is None:
            raise ValueError(f"agent {seat.agent.id} has no call to record a sale for")
        code = next((c for c, label in sorted(self.c.dispositions.items()) if label == SALE_LABEL), None)
        if code is None:
            raise ValueError(f"campaign {self.c.name} has no {SALE_LABEL!r} disposition")
        oid = await place(d.id, seat.agent.id, self.c.name, d.lead.id, order)
        said = await self.disposition(seat, code)
        return f"{said}, order {oid}"

    async def call_back(self, seat: Seat, minutes: int, own: bool) -> str:
        """Dial the last conversation's lead again in ``minutes``, for this agent or for anyone."""
        d = seat.last
        if d is None:
            raise ValueError(f"agent {seat.agent.id} has no call to schedule a call back for")
        if not 1 <= minutes <= 60 * 24 * 30:
            raise ValueError("a call back is 1 minute to 30 days away")
        at = self.clock.now() + minutes * 60
        await self.leads.schedule(d.lead, at, seat.agent.id if own else None)
        await self.notify.callback(d.id, seat.agent.id, d.lead, at, own)
        self._end_wrap(seat)
        return f"{seat.agent.id}: call back in {minutes} min ({'own' if own else 'anyone'})"
