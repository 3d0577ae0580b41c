"""The customers' tables (migration 0021) and the reads a record's timeline is made of. A number is one
customer's (the primary key of ``customer_numbers``): the first contact under a number makes its record, a
merge moves numbers, a purge deletes them with the notes and the projected contacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.customers import spellings
from customers.model import CALL_FACT_KINDS, CONTACT_KINDS
from engine.model.facts import Fact
from engine.store.store import _insert
from engine.store.tables import (
    call_records,
    cases,
    customer_contacts,
    customer_marks,
    customer_notes,
    customer_numbers,
    customers,
    grades,
    leads,
    ledger,
    recordings,
)

CALLS_READ = 500  # a customer's newest calls read for its timeline
CONTACTS_READ = 500


def events_call(customer: int) -> str:
    """The ledger's call id for the facts about a customer's record (its merges, notes, purge)."""
    return f"customer:{customer}"


async def _rows(conn: Any, query: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]


class CustomerStore:
    def __init__(self, engine: AsyncEngine, region: str) -> None:
        self.engine = engine
        self.region = region  # the site's: callers' numbers are matched in the forms it writes them

    # ---- records ------------------------------------------------------------------------------------------------
    async def ensure(self, number: str, now: float) -> int:
        """The id of the customer known by ``number`` (E.164), a new record when none is."""
        for _ in range(3):
            async with self.engine.begin() as conn:
                found = (await conn.execute(select(customer_numbers.c.customer)
                                            .where(customer_numbers.c.number == number))).scalar()  # fmt: skip
                if found is not None:
                    return int(found)
            try:
                async with self.engine.begin() as conn:
                    got = await conn.execute(customers.insert().values(created_at=now, updated_at=now)
                                             .returning(customers.c.id))  # fmt: skip
                    cid = int(got.scalar_one())
                    await conn.execute(customer_numbers.insert().values(number=number, customer=cid, added_at=now))
                    return cid
            except IntegrityError:  # another task made it meanwhile: read theirs
                continue
        raise RuntimeError("a customer's record could not be made")

    async def by_number(self, number: str) -> int | None:
        async with self.engine.connect() as conn:
            found = (await conn.execute(select(customer_numbers.c.customer)
                                        .where(customer_numbers.c.number == number))).scalar()  # fmt: skip
        return None if found is None else int(found)

    async def get(self, customer: int) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(customers).where(customers.c.id == customer))).mappings().first()
            if row is None:
                return None
            numbers = (await conn.execute(select(customer_numbers.c.number)
                                          .where(customer_numbers.c.customer == customer)
                                          .order_by(customer_numbers.c.added_at))).scalars().all()  # fmt: skip
        return {**dict(row), "numbers": list(numbers)}

    async def newest(self, n: int = 30) -> list[dict[str, Any]]:
        q = (select(customers).where(customers.c.merged_into.is_(None), customers.c.purged_at.is_(None))
             .order_by(customers.c.updated_at.desc()).limit(n))  # fmt: skip
        async with self.engine.connect() as conn:
            return await _rows(conn, q)

    async def touch(self, customer: int, now: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(customers).where(customers.c.id == customer).values(updated_at=now))

    async def add_note(self, customer: int, by: str, text: str, now: float) -> int:
        async with self.engine.begin() as conn:
            got = await conn.execute(customer_notes.insert().values(customer=customer, at=now, by=by, text=text)
                                     .returning(customer_notes.c.id))  # fmt: skip
            await conn.execute(update(customers).where(customers.c.id == customer).values(updated_at=now))
            return int(got.scalar_one())

    async def merge(self, keep: int, other: int, now: float, fact: Fact, record: Any) -> int:
        """Move ``other``'s numbers and notes to ``keep`` and mark ``other`` merged into it, in one transaction
        with the audit fact written through the ledger after it. Returns how many numbers moved."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(update(customer_numbers).where(customer_numbers.c.customer == other)
                                       .values(customer=keep))  # fmt: skip
            await conn.execute(update(customer_notes).where(customer_notes.c.customer == other).values(customer=keep))
            await conn.execute(
                update(customers).where(customers.c.id == other).values(merged_into=keep, updated_at=now)
            )
            # records merged into the other one before now point at the one kept
            await conn.execute(update(customers).where(customers.c.merged_into == other).values(merged_into=keep))
            name = (await conn.execute(select(customers.c.name).where(customers.c.id == other))).scalar() or ""
            values: dict[str, Any] = {"updated_at": now}
            keep_name = (await conn.execute(select(customers.c.name).where(customers.c.id == keep))).scalar() or ""
            if name and not keep_name:
                values["name"] = name
            await conn.execute(update(customers).where(customers.c.id == keep).values(**values))
        await record([fact])
        return int(moved.rowcount or 0)

    # ---- the timeline's reads -----------------------------------------------------------------------------------
    async def timeline_rows(self, customer: int, numbers: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Everything ``customers.model.timeline`` folds, for a customer known by ``numbers`` (E.164; none once
        its personal data is destroyed: then only its own notes and facts are read, and there are no notes)."""
        forms = sorted({f for n in numbers for f in spellings(n, self.region)})
        cr, cc, lg = call_records.c, customer_contacts.c, ledger.c
        out: dict[str, list[dict[str, Any]]] = dict.fromkeys(
            ("calls", "contacts", "call_facts", "recordings", "grades", "leads", "cases"), [])
        async with self.engine.connect() as conn:
            if numbers:
                out["calls"] = await _rows(conn, select(call_records).where(cr.caller.in_(forms))
                                           .order_by(cr.arrived_at.desc()).limit(CALLS_READ))  # fmt: skip
                out["contacts"] = await _rows(conn, select(customer_contacts).where(cc.number.in_(numbers))
                                              .order_by(cc.at.desc()).limit(CONTACTS_READ))  # fmt: skip
                out["leads"] = await _rows(conn, select(leads).where(leads.c.phone.in_(numbers)))
                out["cases"] = await _rows(conn, select(cases).where(cases.c.number.in_(forms),
                                                                     cases.c.purged_at.is_(None)))  # fmt: skip
            ids = [r["call_id"] for r in out["calls"]] + [r["call_id"] for r in out["contacts"] if r["call_id"]]
            if ids:
                out["call_facts"] = await _rows(conn, select(lg.kind, lg.call_id, lg.data, lg.at)
                                                .where(lg.call_id.in_(ids), lg.kind.in_(CALL_FACT_KINDS)))  # fmt: skip
                out["recordings"] = await _rows(conn, select(recordings.c.id, recordings.c.call_id,
                                                             recordings.c.purged_at)
                                                .where(recordings.c.call_id.in_(ids)))  # fmt: skip
                g = grades.c
                out["grades"] = await _rows(conn, select(g.call_id, g.score, g.created_at, g.version)
                                            .where(g.call_id.in_(ids)))  # fmt: skip
            out["notes"] = await _rows(conn, select(customer_notes).where(customer_notes.c.customer == customer))
            mine = events_call(customer)
            out["events"] = await _rows(conn, select(lg.kind, lg.data, lg.at).where(lg.call_id == mine))
        return out

    async def held(self, numbers: Sequence[str]) -> bool:
        """Whether a lead not yet purged, or a case not yet purged, still holds one of ``numbers``."""
        if not numbers:
            return False
        forms = sorted({f for n in numbers for f in spellings(n, self.region)})
        async with self.engine.connect() as conn:
            lead = (await conn.execute(select(leads.c.id).where(leads.c.phone.in_(numbers)).limit(1))).first()
            case = (await conn.execute(select(cases.c.id).where(cases.c.number.in_(forms), cases.c.purged_at.is_(None))
                                       .limit(1))).first()  # fmt: skip
        return lead is not None or case is not None

    # ---- retention ----------------------------------------------------------------------------------------------
    async def quiet_since(self, before: float, n: int = 200) -> list[dict[str, Any]]:
        """Records not changed since ``before`` and not yet purged: the purge's candidates (it checks each)."""
        c = customers.c
        q = (select(customers).where(c.purged_at.is_(None), c.merged_into.is_(None), c.updated_at < before)
             .order_by(c.updated_at).limit(n))  # fmt: skip
        async with self.engine.connect() as conn:
            return await _rows(conn, q)

    async def destroy(self, customer: int, now: float) -> int:
        """Delete the record's numbers, notes and projected contacts and empty its name; the record stays, as an id
        the ledger's facts may name. Returns how many notes went."""
        async with self.engine.begin() as conn:
            numbers = (await conn.execute(select(customer_numbers.c.number)
                                          .where(customer_numbers.c.customer == customer))).scalars().all()  # fmt: skip
            if numbers:
                await conn.execute(delete(customer_contacts).where(customer_contacts.c.number.in_(list(numbers))))
            await conn.execute(delete(customer_numbers).where(customer_numbers.c.customer == customer))
            notes = await conn.execute(delete(customer_notes).where(customer_notes.c.customer == customer))
            await conn.execute(update(customers).where(customers.c.id == customer)
                               .values(name="", purged_at=now, updated_at=now))  # fmt: skip
            return int(notes.rowcount or 0)

    # ---- the contacts' projection -------------------------------------------------------------------------------
    async def projected_mark(self) -> int:
        async with self.engine.connect() as conn:
            got = await conn.execute(select(customer_marks.c.ledger_id).where(customer_marks.c.name == "contacts"))
            return int(got.scalar() or 0)

    async def ledger_top(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.max(ledger.c.id)))).scalar() or 0)

    async def contact_facts(self, after: int, upto: int, n: int) -> list[dict[str, Any]]:
        q = (select(ledger.c.id, ledger.c.kind, ledger.c.call_id, ledger.c.key, ledger.c.at, ledger.c.data)
             .where(ledger.c.id > after, ledger.c.id <= upto, ledger.c.kind.in_(list(CONTACT_KINDS)))
             .order_by(ledger.c.id).limit(n))  # fmt: skip
        async with self.engine.connect() as conn:
            return await _rows(conn, q)

    async def lead_phones(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(leads.c.id, leads.c.phone).where(leads.c.id.in_(list(ids)), leads.c.phone.is_not(None))
                )
            ).all()
        return {int(r.id): str(r.phone) for r in rows}

    async def add_contacts(self, rows: list[dict[str, Any]], now: float) -> None:
        """Project contacts (each made a customer's if its number has no record yet); a fact read twice is one row."""
        for number in sorted({r["number"] for r in rows}):
            cid = await self.ensure(number, now)
            newest = max(r["at"] for r in rows if r["number"] == number)
            async with self.engine.begin() as conn:
                await conn.execute(update(customers).where(customers.c.id == cid, customers.c.updated_at < newest)
                                   .values(updated_at=newest))  # fmt: skip
        if not rows:
            return
        ins = _insert(self.engine)
        async with self.engine.begin() as conn:
            await conn.execute(ins(customer_contacts).on_conflict_do_nothing(index_elements=["key"]), rows)

    async def set_mark(self, ledger_id: int) -> None:
        ins = _insert(self.engine)
        async with self.engine.begin() as conn:
            await conn.execute(
                ins(customer_marks)
                .values(name="contacts", ledger_id=ledger_id)
                .on_conflict_do_update(index_elements=["name"], set_={"ledger_id": ledger_id})
            )
