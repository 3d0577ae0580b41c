"""Orders as a service: an agent's sale placed with its disposition (the dialer asks ``place``), a team lead's
correction written as the next version (``correct``), and the orders a person may see (``orders``). Every
version is a ledger fact; the ledger is the only store of orders, read by the order's call (an order's id is
``sale-<call id>``: one order per conversation) or by kind and time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from engine.model.facts import Fact, fact_key
from engine.policy import Actor, Policy
from sales.model import KINDS, Order, OrderError, Version, fold, order_fields, parse_order
from sales.settings import SalesSettings

FactReader = Callable[..., Awaitable[list[Fact]]]  # the ledger's facts(call_id, kinds, since)
PREFIX = "sale-"
MAX_REASON = 200


def order_id(call_id: str) -> str:
    return PREFIX + call_id


class Sales:
    def __init__(self, settings: SalesSettings, read: FactReader, record: Callable[[list[Fact]], Awaitable[None]],
                 now: Callable[[], float], policy: Callable[[], Policy], teams: Mapping[str, str],
                 campaign_teams: Mapping[str, str]) -> None:  # fmt: skip
        self.settings = settings
        self.read = read
        self._record = record
        self.now = now
        self.policy = policy  # looked up when used: the service API's, built after this
        self.teams = teams  # agent -> its team (its first group)
        self.campaign_teams = campaign_teams  # a campaign's team, when the site names one
        # one check-then-write at a time: two leads correcting the same version at once must not both be told yes
        # (the ledger would keep the first fact and drop the second, whose key is the same)
        self._writing = asyncio.Lock()

    async def place(self, call_id: str, agent: str, campaign: str, lead: Any, text: str) -> str:
        """The order an agent's sale takes (``text``: the JSON the page or the API sent); its id. ValueError
        (OrderError) names what cannot be taken."""
        async with self._writing:
            return await self._place(call_id, agent, campaign, lead, text)

    async def _place(self, call_id: str, agent: str, campaign: str, lead: Any, text: str) -> str:
        fields = parse_order(text, self.settings.products)
        oid = order_id(call_id)
        if await self.order(oid) is not None:
            raise OrderError(f"call {call_id} has order {oid} already: its team lead corrects it")
        # the seller's own team (its lead's commission), else the campaign's
        team = self.teams.get(agent) or self.campaign_teams.get(campaign, "")
        data = {"order": oid, "version": 1, "agent": agent, "team": team, "campaign": campaign, "lead": lead,
                **fields.as_data(), "currency": self.settings.currency, "by": agent, "by_role": "agent"}  # fmt: skip
        now = self.now()
        await self._record([Fact("sale.order", now, call_id, call_id, fact_key("sale.order", oid, 1), data)])
        return oid

    async def order(self, oid: str) -> Order | None:
        if not oid.startswith(PREFIX):
            return None
        call_id = oid[len(PREFIX):]
        return fold(await self.read(call_id, KINDS)).get(oid)

    async def correct(self, actor: Actor, oid: str, version: int, values: Mapping[str, Any], reason: str) -> Version:
        """The next version of an order, by its team's lead (or a manager, an admin), with a reason. ValueError
        when it cannot be, PermissionError when the actor may not: the message says why."""
        async with self._writing:
            return await self._correct(actor, oid, version, values, reason)

    async def _correct(self, actor: Actor, oid: str, version: int, values: Mapping[str, Any],
                       reason: str) -> Version:  # fmt: skip
        order = await self.order(oid)
        if order is None:
            raise OrderError(f"no order {oid!r}")
        now_v = order.now
        why = self.policy().order_refusal(actor, "correct", now_v.team, now_v.agent)
        if why is not None:
            raise PermissionError(why)
        if version != now_v.version:
            raise OrderError(f"order {oid} is at version {now_v.version} now, not {version}: look at it again")
        reason = reason.strip()
        if not reason:
            raise OrderError("reason: say why the order is corrected")
        if len(reason) > MAX_REASON:
            raise OrderError(f"reason: at most {MAX_REASON} characters")
        fields = order_fields(values, self.settings.products)
        if fields.as_data() == {"product": now_v.product, "quantity": now_v.quantity, "amount": now_v.amount}:
            raise OrderError("nothing changed: a correction changes the product, the quantity or the amount")
        n = now_v.version + 1
        data = {"order": oid, "version": n, "supersedes": now_v.version, "agent": now_v.agent, "team": now_v.team,
                "campaign": now_v.campaign, "lead": now_v.lead, **fields.as_data(),
                "currency": self.settings.currency, "by": actor.id, "by_role": actor.role.value,
                "reason": reason}  # fmt: skip
        at = self.now()
        await self._record([Fact("sale.corrected", at, now_v.call, now_v.call, fact_key("sale.corrected", oid, n),
                                 data)])  # fmt: skip
        return Version(oid, n, at, now_v.call, now_v.agent, now_v.team, now_v.campaign, now_v.lead, fields.product,
                       fields.quantity, fields.amount, actor.id, actor.role.value, reason)  # fmt: skip

    async def orders(self, start: float, end: float, actor: Actor | None = None) -> list[Order]:
        """The orders placed in [start, end), newest versions, oldest first; with ``actor`` only those it may see."""
        found = fold(await self.read(None, KINDS, start))
        out = [o for o in found.values() if start <= o.placed_at < end]
        if actor is not None:
            policy = self.policy()
            out = [o for o in out if policy.order_refusal(actor, "read", o.now.team, o.now.agent) is None]
        return sorted(out, key=lambda o: (o.placed_at, o.id))
