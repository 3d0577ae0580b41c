"""Every fact the dialer writes (the compliance ledger, docs/compliance.md), in one place: kinds, keys and
fields. A campaign's runner and the dialer's services say what happened; this says it to the ledger.
(``dialer.session`` is written by the session keeper, ``acd.sessions``, under the campaign's name.)"""

from __future__ import annotations

from typing import Any

from dialer.lead_source import LeadRef
from engine.clock import Clock
from engine.model.facts import fact_key
from engine.ports import Ledger


class Notifier:
    """One campaign's facts; ``campaign`` goes into each."""

    def __init__(self, ledger: Ledger, clock: Clock, campaign: str) -> None:
        self.ledger = ledger
        self.clock = clock
        self.campaign = campaign

    async def _call(self, kind: str, call_id: str, *key: Any, **data: Any) -> None:
        """A fact about one of our dials: the dial's id is both its call id and its uniqueid."""
        await self.ledger.fact(kind, call_id, call_id, fact_key(kind, call_id, *key), campaign=self.campaign, **data)

    # ---- a dial ------------------------------------------------------------------------------------------------
    async def placed(self, did: str, lead: LeadRef, amd: bool, rule: str, agent: str) -> None:
        await self._call("outbound.placed", did, lead=lead.id, attempt=lead.attempts + 1, amd=amd, rule=rule,
                         **({"agent": agent} if agent else {}))  # fmt: skip

    async def result(self, did: str, lead: LeadRef, outcome: str, cause: int | None, dial_status: str,
                     reason: int | None, seconds: float) -> None:  # fmt: skip
        await self._call("outbound.result", did, lead=lead.id, outcome=outcome, cause=cause, dial_status=dial_status,
                         reason=reason, seconds=round(seconds, 3))  # fmt: skip

    async def verdict(self, did: str, amd: str, amd_cause: str, answered_at: float, greeting_end: float, rule: str,
                      deadline: float) -> None:  # fmt: skip
        await self._call("outbound.verdict", did, amd=amd, amd_cause=amd_cause, answered_at=round(answered_at, 3),
                         greeting_end=round(greeting_end, 3), rule=rule, deadline=round(deadline, 3))  # fmt: skip

    async def machine(self, did: str) -> None:
        await self._call("outbound.machine", did)

    async def amd_sample(self, did: str, path: str, seconds: float) -> None:
        """The first seconds of a call AMD called a machine, kept for QA to say whether it was one."""
        await self._call("outbound.amd_sample", did, path=path, seconds=seconds)

    async def connect(self, did: str, agent: str, after_greeting: float, at: float) -> None:
        await self._call("outbound.connect", did, agent=agent, after_greeting=round(after_greeting, 3),
                         at=round(at, 3))  # fmt: skip

    async def talk_end(self, did: str, agent: str, talk: float) -> None:
        await self._call("outbound.talk_end", did, agent=agent, talk=round(talk, 3))

    async def abandon(self, did: str, rule: str, greeting_end: float) -> None:
        await self._call("outbound.abandon", did, rule=rule, message_at=round(self.clock.now(), 3),
                         greeting_end=round(greeting_end, 3))  # fmt: skip

    # ---- the agent's word --------------------------------------------------------------------------------------
    async def preview(self, did: str, agent: str, lead: LeadRef) -> None:
        await self._call("outbound.preview", did, agent=agent, lead=lead.id)

    async def skip(self, did: str, agent: str, lead: LeadRef, again: bool) -> None:
        await self._call("outbound.skip", did, agent=agent, lead=lead.id, again=again)

    async def disposition(self, did: str, agent: str, lead: LeadRef, code: str, label: str) -> None:
        await self._call("outbound.disposition", did, code, agent=agent, lead=lead.id, code=code, label=label)

    async def callback(self, did: str, agent: str, lead: LeadRef, at: float, own: bool) -> None:
        await self._call("outbound.callback", did, int(at), agent=agent, lead=lead.id, at=round(at, 3), own=own)

    async def qa(self, call_id: str, machine: bool) -> None:
        await self._call("outbound.qa", call_id, machine=machine)

    # ---- the ACD's loans and its guard's holds -----------------------------------------------------------------
    async def lent(self, agent: str, call_id: str, session: str) -> None:
        await self.ledger.fact("dialer.lent", call_id, session, fact_key("dialer.lent", agent, call_id), agent=agent,
                               campaign=self.campaign)  # fmt: skip

    async def returned(self, agent: str, call_id: str, session: str) -> None:
        await self.ledger.fact("dialer.returned", call_id, session, fact_key("dialer.returned", agent, call_id),
                               agent=agent, campaign=self.campaign)  # fmt: skip

    async def reserved(self, agent: str, session: str, reason: str) -> None:
        await self.ledger.fact("dialer.reserved", "", session, fact_key("dialer.reserved", agent, self.clock.now()),
                               agent=agent, campaign=self.campaign, reason=reason)  # fmt: skip

    async def released(self, agent: str, session: str, reason: str) -> None:
        await self.ledger.fact("dialer.released", "", session, fact_key("dialer.released", agent, self.clock.now()),
                               agent=agent, campaign=self.campaign, reason=reason)  # fmt: skip
