"""Customers as a service: a record with its timeline for a viewer, free notes, an audited merge and the
destruction of personal data by rule. Every change is a fact under ``customer:<id>`` that names people by id and
role, never a number or a note's words (the ledger is kept for ever; the record's personal data is not)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from crm.customers import customer_number
from customers import model
from customers.store import CustomerStore, events_call
from engine.model.facts import Fact, fact_key
from engine.policy import Actor, Policy

log = logging.getLogger(__name__)


class Customers:
    def __init__(self, store: CustomerStore, record: Callable[[list[Fact]], Awaitable[None]],
                 now: Callable[[], float], policy: Callable[[], Policy], keep_days: int) -> None:  # fmt: skip
        self.store = store
        self._record = record
        self.now = now
        self.policy = policy  # looked up when used: the service API's, built after this
        self.keep_days = keep_days

    def _check(self, actor: Actor, action: str) -> None:
        why = self.policy().customer_refusal(actor, action)
        if why is not None:
            raise PermissionError(why)

    async def _fact(self, kind: str, customer: int, *key: Any, **data: Any) -> None:
        now = self.now()
        await self._record([Fact(kind, now, events_call(customer), "", fact_key(kind, customer, *key), data)])

    async def find(self, actor: Actor, raw: str, region: str) -> int:
        """The record of the customer on ``raw`` (any way the number is written), made if it has none yet.
        ValueError when it is no phone number."""
        self._check(actor, "read")
        number = customer_number(raw.strip(), region)
        if number is None:
            raise model.CustomerError("number: not a phone number this site can match")
        return await self.store.ensure(number, self.now())

    async def view(self, actor: Actor, customer: int) -> dict[str, Any] | None:
        """The record (its id, masked numbers' count, name, timeline) as ``actor`` may see it; None for no such
        record. A merged record's view is the kept one's (``merged_into`` says so)."""
        self._check(actor, "read")
        row = await self.store.get(customer)
        if row is None:
            return None
        if row["merged_into"] is not None:
            return {**row, "timeline": []}
        rows = await self.store.timeline_rows(customer, row["numbers"])
        may = self.policy().case_refusal

        def may_read(case: Mapping[str, Any]) -> bool:
            return may(actor, "read", case) is None

        entries = model.timeline(**rows, may_read=may_read)
        names = [str(r["name"]) for r in rows["leads"] if r.get("name")]
        return {**row, "name": row["name"] or (names[0] if names else ""), "timeline": entries}

    async def note(self, actor: Actor, customer: int, raw: str) -> int:
        self._check(actor, "note")
        text = model.note_text(raw)
        row = await self.store.get(customer)
        if row is None or row["merged_into"] is not None or row["purged_at"] is not None:
            raise KeyError(customer)
        note = await self.store.add_note(customer, actor.id, text, self.now())
        await self._fact("customer.noted", customer, note, note=note, by=actor.id, role=actor.role.value)
        return note

    async def merge(self, actor: Actor, keep: int, other: int, reason: str) -> int:
        """Customer ``other`` becomes part of ``keep``: its numbers, notes and so its timeline; audited by a
        ``customer.merged`` fact (who, which records, why). Returns how many numbers moved."""
        self._check(actor, "merge")
        keep_row, other_row = await self.store.get(keep), await self.store.get(other)
        why = model.merge_problem(keep_row, other_row, reason)
        if why is not None:
            raise model.CustomerError(why)
        now = self.now()
        fact = Fact("customer.merged", now, events_call(keep), "", fact_key("customer.merged", keep, other),
                    {"kept": keep, "merged": other, "by": actor.id, "role": actor.role.value,
                     "reason": reason.strip()})  # fmt: skip
        moved = await self.store.merge(keep, other, now, fact, self._record)
        log.info("customer %d merged into %d by %s (%d number(s))", other, keep, actor.id, moved)
        return moved

    async def purge(self, now: float) -> list[int]:
        """Destroy the personal data of every record ``keep_days`` past its newest contact that no lead or case
        holds any more; a ``customer.purged`` fact for each (how many notes went, by which rule)."""
        done: list[int] = []
        cutoff = now - self.keep_days * model.DAY
        for row in await self.store.quiet_since(cutoff):
            cid = int(row["id"])
            found = await self.store.get(cid)
            if found is None:
                continue
            rows = await self.store.timeline_rows(cid, found["numbers"])
            newest = model.newest_contact(float(row["created_at"]), model.timeline(**rows))
            if await self.store.held(found["numbers"]):
                await self.store.touch(cid, now)  # a lead or case has it: asked again keep_days from now
                continue
            if not model.purge_due(newest, self.keep_days, now, False):
                await self.store.touch(cid, newest)  # not a candidate again until keep_days after that contact
                continue
            notes = await self.store.destroy(cid, now)
            await self._fact("customer.purged", cid, notes=notes, numbers=len(found["numbers"]),
                             keep_days=self.keep_days)  # fmt: skip
            done.append(cid)
        if done:
            log.info("customers: personal data of %d record(s) destroyed (%d days after their last contact)",
                     len(done), self.keep_days)  # fmt: skip
        return done
