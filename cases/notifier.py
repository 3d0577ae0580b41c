"""The case facts, written to the ledger under the case's id (its call id there), each with a key that makes a
fact learned twice (a restart re-reading the same source) a single fact."""

from __future__ import annotations

from typing import Any

from engine.model.facts import Fact, fact_key
from engine.ports import Ledger


class CaseNotifier:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def _fact(self, what: str, case: str, at: float, key_parts: tuple[object, ...], /, **data: Any) -> Fact:
        fact = Fact(what, at, case, "", fact_key(what, case, *key_parts), {"case": case, **data})
        await self.ledger.record([fact])
        return fact

    async def opened(self, case: str, at: float, **data: Any) -> Fact:
        return await self._fact("case.opened", case, at, (), opened_at=at, **data)

    async def assigned(self, case: str, at: float, owner: str, team: str, by: str) -> Fact:
        return await self._fact("case.assigned", case, at, (owner, f"{at:.3f}"), owner=owner, team=team, by=by)

    async def status(self, case: str, at: float, status: str, by: str, why: str = "") -> Fact:
        return await self._fact("case.status", case, at, (status, f"{at:.3f}"), status=status, by=by, why=why)

    async def linked(self, case: str, at: float, call: str, what: str) -> Fact:
        return await self._fact("case.linked", case, at, (what, call), call=call, what=what)

    async def resolved(self, case: str, at: float, resolution: str, by: str, on_time: bool, key: str) -> Fact:
        """``key``: what settles it (the follow-up call, or the moment someone resolved it by hand)."""
        return await self._fact("case.resolved", case, at, (key,), resolution=resolution, by=by, on_time=on_time)

    async def overdue(self, case: str, at: float, due_at: float, team: str, owner: str) -> Fact:
        """Once per case, ever: the key is the case's alone (a restart does not alert again)."""
        return await self._fact("case.overdue", case, at, (), due_at=due_at, team=team, owner=owner)

    async def purged(self, case: str, at: float, keep_days: int) -> Fact:
        return await self._fact("case.purged", case, at, (), keep_days=keep_days)
