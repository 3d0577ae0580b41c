"""Customers as a service: a record with its timeline for a viewer, free notes, an audited merge and the
destruction of personal data by rule. Every change is a fact under ``customer:<id>``, written in the same
transaction as the change (customers/store.py), that names people by id and role, never a number, a note's words
or a merge's reason (the ledger is kept for ever; the record's personal data is not)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from crm.customers import customer_number
from customers import model
from customers.store import PAGE, CustomerStore
from engine.policy import Actor, Policy

log = logging.getLogger(__name__)
RECHECK_HELD = 86_400.0  # s: a record a lead or an open case holds is looked at again a day later
PASS_MAX = 50  # pages of records at most in one retention pass (the next pass goes on)


class Customers:
    def __init__(self, store: CustomerStore, now: Callable[[], float], policy: Callable[[], Policy],
                 keep_days: int) -> None:  # fmt: skip
        self.store = store
        self.now = now
        self.policy = policy  # looked up when used: the service API's, built after this
        self.keep_days = keep_days

    def _check(self, actor: Actor, action: str) -> None:
        why = self.policy().customer_refusal(actor, action)
        if why is not None:
            raise PermissionError(why)

    async def find(self, actor: Actor, raw: str, region: str) -> int:
        """The record of the customer on ``raw`` (any way the number is written), made if it has none yet.
        CustomerError when it is no phone number."""
        self._check(actor, "read")
        number = customer_number(raw.strip(), region)
        if number is None:
            raise model.CustomerError("number: not a phone number this site can match")
        return await self.store.ensure(number, self.now())

    async def view(self, actor: Actor, customer: int) -> dict[str, Any] | None:
        """The record (its id, numbers, name from its leads, timeline) as ``actor`` may see it; None for no such
        record. A merged record's view is empty but for ``merged_into``."""
        self._check(actor, "read")
        row = await self.store.get(customer)
        if row is None:
            return None
        if row["merged_into"] is not None:
            return {**row, "name": "", "timeline": []}
        rows = await self.store.timeline_rows(customer, row["numbers"])
        may = self.policy().case_refusal

        def may_read(case: Mapping[str, Any]) -> bool:
            return may(actor, "read", case) is None

        entries = model.timeline(**rows, may_read=may_read)
        names = [str(r["name"]) for r in rows["leads"] if r.get("name")]
        return {**row, "name": names[0] if names else "", "timeline": entries}

    async def note(self, actor: Actor, customer: int, raw: str) -> int:
        """The new note's id. CustomerError for an empty or long note or a merged or destroyed record, KeyError
        for no such record."""
        self._check(actor, "note")
        return await self.store.add_note(customer, actor.id, actor.role.value, model.note_text(raw), self.now())

    async def merge(self, actor: Actor, keep: int, other: int, reason: str) -> int:
        """Customer ``other`` becomes part of ``keep``: its numbers, notes and so its timeline; audited (who,
        which records, when; the reason kept with the record). Returns how many numbers moved."""
        self._check(actor, "merge")
        keep_row, other_row = await self.store.get(keep), await self.store.get(other)
        why = model.merge_problem(keep_row, other_row, reason)
        if why is not None:
            raise model.CustomerError(why)
        moved = await self.store.merge(keep, other, actor.id, actor.role.value, reason.strip(), self.now())
        log.info("customer %d merged into %d by %s (%d number(s))", other, keep, actor.id, moved)
        return moved

    async def purge(self, now: float) -> list[int]:
        """Destroy the personal data of every record due (``check_at``) that is ``keep_days`` past its newest
        contact and that no lead or case holds any more, with a ``customer.purged`` fact each; a record not due
        yet is looked at again ``keep_days`` after its newest contact, a held one a day later."""
        done: list[int] = []
        for _ in range(PASS_MAX):
            page = await self.store.due(now)
            for row in page:
                cid = int(row["id"])
                found = await self.store.get(cid)
                if found is None:
                    continue
                rows = await self.store.timeline_rows(cid, found["numbers"])
                newest = max(model.newest_contact(float(row["created_at"]), model.timeline(**rows)),
                             float(row["updated_at"]))  # fmt: skip
                if await self.store.held(found["numbers"]):
                    await self.store.check_again(cid, now + RECHECK_HELD)
                elif not model.purge_due(newest, self.keep_days, now):
                    await self.store.check_again(cid, newest + self.keep_days * model.DAY)
                elif await self.store.destroy(cid, newest, now, self.keep_days) is not None:
                    done.append(cid)
                else:  # in touch meanwhile: looked at again by its new contact
                    await self.store.check_again(cid, now)
            if len(page) < PAGE:
                break
        if done:
            log.info("customers: personal data of %d record(s) destroyed (%d days after their last contact)",
                     len(done), self.keep_days)  # fmt: skip
        return done
