"""The store's side of the screen pop: one customer's rows, read by number (migration 0018 indexes each column
matched), folded into a card by ``crm.customers``, with the customer's record (made at its first pop) and its
newest notes. Purged personal data is not found: a purged lead has no
phone, a purged case no number."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.customers import CALLS_SHOWN, Card, card_of, customer_number, spellings
from customers.store import CustomerStore
from engine.store.tables import call_records, cases, customer_notes, leads

log = logging.getLogger(__name__)
# more than are shown, so that the card can say how many more there were, up to a point
CALLS_READ = CALLS_SHOWN * 20


NOTES_SHOWN = 3


class CustomerLookup:
    def __init__(self, engine: AsyncEngine, region: str, now: Callable[[], float], keep_days: float = 30) -> None:
        self.engine = engine
        self.region = region  # the site's ([hotline] region): callers' numbers are read in it
        self.records = CustomerStore(engine, region, keep_days)
        self.now = now  # the engine's clock: when the customer was in touch

    async def card(self, number: str, current: str = "",
                   may_read: Callable[[Mapping[str, Any]], bool] = lambda case: True) -> Card | None:  # fmt: skip
        """The card of the customer on ``number`` (as the call gave it); None when the number is withheld or no
        phone number. ``current``: the call being offered, left out of the previous calls; ``may_read``: the
        viewer may read a case in full (``crm.customers.card_of``)."""
        e164 = customer_number(number, self.region)
        if e164 is None:
            return None
        forms = spellings(e164, self.region)
        async with self.engine.connect() as conn:
            lead_rows = await _rows(conn, select(leads).where(leads.c.phone == e164))
            call_rows = await _rows(conn, select(call_records).where(call_records.c.caller.in_(forms))
                                    .order_by(call_records.c.arrived_at.desc()).limit(CALLS_READ + 1))  # fmt: skip
            case_rows = await _rows(conn, select(cases).where(cases.c.number.in_(forms), cases.c.purged_at.is_(None)))
        card = card_of(e164, leads=lead_rows, calls=call_rows, cases=case_rows, current=current, may_read=may_read)
        # the call reaching an agent is a contact: the customer has a record from now on (its notes on the card);
        # a record that cannot be written now costs the link and the notes, not the card
        try:
            card.customer = await self.records.ensure(e164, self.now())
            await self.records.touch(card.customer, self.now())
        except Exception as exc:  # noqa: BLE001
            log.error("screen pop: the customer's record could not be written (%s)", type(exc).__name__)
            return card
        async with self.engine.connect() as conn:
            notes = await _rows(conn, select(customer_notes).where(customer_notes.c.customer == card.customer)
                                .order_by(customer_notes.c.at.desc()).limit(NOTES_SHOWN))  # fmt: skip
        card.notes = [{"at": n["at"], "by": n["by"], "text": n["text"]} for n in notes]
        return card


async def _rows(conn: Any, query: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]
