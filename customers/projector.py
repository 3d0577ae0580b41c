"""The ``customer-contacts`` task: projects the ledger's SMS, fax and dial facts into ``customer_contacts`` by the
customer's number, so a record's timeline finds them with one indexed read. It reads the ledger by id from where
it left off (``customer_marks``), up to the facts written SETTLE seconds ago or more (a fact is seen when it
commits, which may be after a later one), woken by the engine's facts and every POLL seconds for those another
process wrote (``hotline sms send`` runs apart from the engine). A fact projected twice is one row (its key).
A number first seen in a contact older than the records' keep days makes no record (a first run over an old
ledger would make records only to destroy them)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from customers.model import CONTACT_KINDS, contact_of
from customers.store import CustomerStore
from engine.clock import Clock
from engine.model.facts import Fact

log = logging.getLogger(__name__)

POLL = 30.0
PAGE = 500
SETTLE = 2.0


class ContactProjector:
    def __init__(self, store: CustomerStore, clock: Clock, region: str, keep_days: float,
                 settle: float = SETTLE) -> None:  # fmt: skip
        self.store = store
        self.clock = clock
        self.region = region
        self.keep = keep_days * 86_400.0
        self.settle = settle
        self.mark = -1  # ledger id read up to; -1 until the first round reads it from the projection
        self._wake = asyncio.Event()
        self.projected = 0

    def on_facts(self, facts: list[Fact]) -> None:
        if any(f.kind in CONTACT_KINDS for f in facts):
            self._wake.set()

    async def step(self) -> int:
        """Project every fact written since the last round; how many contacts were added."""
        if self.mark < 0:
            self.mark = await self.store.projected_mark()
        top = await self.store.settled_top(self.mark, self.clock.now() - self.settle)
        added = 0
        while self.mark < top:
            facts = await self.store.contact_facts(self.mark, top, PAGE)
            if not facts:
                self.mark = top
                await self.store.set_mark(top)
                break
            phones = await self.store.lead_phones([int(f["data"]["lead"]) for f in facts
                                                   if f["kind"] == "outbound.placed"
                                                   and str(f["data"].get("lead", "")).isdigit()])  # fmt: skip
            rows: list[dict[str, Any]] = []
            for f in facts:
                lead = f["data"].get("lead")
                phone = phones.get(int(lead)) if str(lead).isdigit() else None
                got = contact_of(f["kind"], f["data"], f["call_id"], self.region, phone)
                if got is not None:
                    number, kind, shown = got
                    call = f["call_id"] if kind in ("dial", "fax") else ""
                    rows.append({"ledger_id": f["id"], "key": f["key"], "number": number, "at": f["at"],
                                 "kind": kind, "call_id": call, "data": shown})  # fmt: skip
            added += await self.store.add_contacts(rows, self.clock.now() - self.keep)
            self.mark = int(facts[-1]["id"])
            await self.store.set_mark(self.mark)
        self.projected += added
        return added

    async def round(self) -> None:
        try:
            await self.step()
        except Exception as exc:  # noqa: BLE001 - a store error now: the next round reads from the same mark
            # the error's type only: the database driver's message would carry the numbers it was writing
            log.error("customers: projecting contacts failed (%s); trying again in %g s", type(exc).__name__, POLL)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            await self.round()
            try:
                await asyncio.wait_for(self._wake.wait(), POLL)
                await self.clock.sleep(self.settle)  # woken by a fact just written: let it settle
            except TimeoutError:
                pass
