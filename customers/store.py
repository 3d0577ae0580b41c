"""The customers' tables (migration 0021) and the reads a record's timeline is made of. A number is one
customer's (the primary key of ``customer_numbers``): the first contact under a number makes its record, a
merge moves numbers, a purge deletes them with the notes and the projected contacts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm.customers import spellings
from customers.model import CALL_FACT_KINDS, CONTACT_KINDS, DAY, CustomerError
from engine.model.facts import Fact, fact_key
from engine.store.store import _insert
from engine.store.tables import (
    call_records,
    cases,
    customer_contacts,
    customer_marks,
    customer_merges,
    customer_notes,
    customer_numbers,
    customers,
    grades,
    leads,
    ledger,
    recordings,
)

PAGE = 200  # records the retention pass reads at a time
CALLS_READ = 500  # a customer's newest calls read for its timeline
CONTACTS_READ = 500


def events_call(customer: int) -> str:
    """The ledger's call id for the facts about a customer's record (its merges, notes, purge)."""
    return f"customer:{customer}"


async def _rows(conn: Any, query: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]


async def _fact(conn: AsyncConnection, fact: Fact, now: float) -> None:
    """The audit fact written in the same transaction as the change it is about: both or neither."""
    ins = _insert(conn.engine)
    await conn.execute(ins(ledger).values(at=fact.at, kind=fact.kind, call_id=fact.call_id, uniqueid=fact.uniqueid,
                                          key=fact.key, data=fact.data, recorded_at=now)
                       .on_conflict_do_nothing(index_elements=["key"]))  # fmt: skip


async def _secure(conn: AsyncConnection, on: bool) -> None:
    if conn.engine.dialect.name == "sqlite":  # freed pages zeroed, not left holding the old bytes (dialer/leads.py)
        await conn.exec_driver_sql(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")


async def checkpoint(engine: AsyncEngine) -> None:
    """Fold SQLite's write-ahead log into the file and empty it: pages from before a destruction may sit there.
    (PostgreSQL keeps old row versions until VACUUM reclaims them.)"""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _forms(numbers: Sequence[str], region: str) -> list[str]:
    return sorted({f for n in numbers for f in spellings(n, region)})


async def _destroy(conn: AsyncConnection, customer: int, numbers: Sequence[str], now: float) -> int:
    """Delete a record's numbers, notes, merge reasons and projected contacts; the record stays as an id the
    ledger's facts may name. How many notes went."""
    await _secure(conn, True)
    if numbers:
        await conn.execute(delete(customer_contacts).where(customer_contacts.c.number.in_(list(numbers))))
    await conn.execute(delete(customer_numbers).where(customer_numbers.c.customer == customer))
    notes = await conn.execute(delete(customer_notes).where(customer_notes.c.customer == customer))
    await conn.execute(update(customer_merges).where(customer_merges.c.kept == customer).values(reason=""))
    await _secure(conn, False)
    await conn.execute(update(customers).where(customers.c.id == customer)
                       .values(purged_at=now, check_at=None))  # fmt: skip
    return int(notes.rowcount or 0)


async def forget_dialed(conn: AsyncConnection, numbers: Sequence[str], region: str, now: float) -> int:
    """In a lead wipe's transaction (a batch destroyed, a campaign purged): the wiped leads' dials leave the
    customers' timelines, and a record known from nothing else (no other contact, note, call or case under its
    numbers) is destroyed with them, with a ``customer.purged`` fact. How many records went."""
    if not numbers:
        return 0
    cc = customer_contacts.c
    await _secure(conn, True)
    await conn.execute(delete(customer_contacts).where(cc.number.in_(list(numbers)), cc.kind == "dial"))
    await _secure(conn, False)
    owners = (await conn.execute(select(customer_numbers.c.customer)
                                 .where(customer_numbers.c.number.in_(list(numbers))).distinct())).scalars().all()
    gone = 0
    for cid in owners:
        mine = list((await conn.execute(select(customer_numbers.c.number)
                                        .where(customer_numbers.c.customer == cid))).scalars().all())  # fmt: skip
        forms = _forms(mine, region)
        left = [select(customer_contacts.c.id).where(cc.number.in_(mine)).limit(1),
                select(customer_notes.c.id).where(customer_notes.c.customer == cid).limit(1),
                select(call_records.c.call_id).where(call_records.c.caller.in_(forms)).limit(1),
                select(cases.c.id).where(cases.c.number.in_(forms), cases.c.purged_at.is_(None)).limit(1),
                select(leads.c.id).where(leads.c.phone.in_(mine)).limit(1)]  # fmt: skip
        if any([(await conn.execute(q)).first() is not None for q in left]):
            continue
        notes = await _destroy(conn, int(cid), mine, now)
        await _fact(conn, Fact("customer.purged", now, events_call(int(cid)), "",
                               fact_key("customer.purged", int(cid)),
                               {"notes": notes, "numbers": len(mine), "rule": "leads"}), now)  # fmt: skip
        gone += 1
    return gone




class CustomerStore:
    def __init__(self, engine: AsyncEngine, region: str, keep_days: float = 30) -> None:
        self.engine = engine
        self.region = region  # the site's: callers' numbers are matched in the forms it writes them
        self.keep = keep_days * DAY  # a new record is first looked at by the retention pass this long after
        # the engine's writers that change who owns a number (the projection, merges, the retention pass): one at
        # a time, so that a contact is never projected onto a record being destroyed
        self.lock = asyncio.Lock()

    # ---- records ------------------------------------------------------------------------------------------------
    async def ensure(self, number: str, at: float) -> int:
        """The id of the customer known by ``number`` (E.164), a new record (first in touch ``at``) when none is."""
        for _ in range(3):
            found = await self.by_number(number)
            if found is not None:
                return found
            try:
                async with self.engine.begin() as conn:
                    got = await conn.execute(customers.insert().values(created_at=at, updated_at=at,
                                                                       check_at=at + self.keep)
                                             .returning(customers.c.id))  # fmt: skip
                    cid = int(got.scalar_one())
                    await conn.execute(customer_numbers.insert().values(number=number, customer=cid, added_at=at))
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

    async def touch(self, customer: int, at: float) -> None:
        """A contact ``at``: the record's newest if it is newer."""
        async with self.engine.begin() as conn:
            await conn.execute(update(customers).where(customers.c.id == customer, customers.c.updated_at < at)
                               .values(updated_at=at))  # fmt: skip

    async def add_note(self, customer: int, by: str, role: str, text: str, now: float) -> int:
        """The note's id; CustomerError when the record was merged or destroyed (KeyError: no such record)."""
        async with self.engine.begin() as conn:
            live = await conn.execute(update(customers).where(customers.c.id == customer, _live())
                                      .values(updated_at=now))  # fmt: skip
            if live.rowcount != 1:
                row = (await conn.execute(select(customers).where(customers.c.id == customer))).mappings().first()
                if row is None:
                    raise KeyError(customer)
                raise CustomerError(_closed(dict(row)))
            got = await conn.execute(customer_notes.insert().values(customer=customer, at=now, by=by, text=text)
                                     .returning(customer_notes.c.id))  # fmt: skip
            note = int(got.scalar_one())
            await _fact(conn, Fact("customer.noted", now, events_call(customer), "",
                                   fact_key("customer.noted", customer, note),
                                   {"note": note, "by": by, "role": role}), now)  # fmt: skip
            return note

    async def merge(self, keep: int, other: int, by: str, role: str, reason: str, now: float) -> int:
        """Move ``other``'s numbers, notes and merges to ``keep`` and mark ``other`` merged into it, with the
        ``customer.merged`` fact, in one transaction; both records are checked again in it (still neither merged
        nor destroyed: two merges at once cannot each swallow the other). How many numbers moved."""
        c = customers.c
        async with self.lock, self.engine.begin() as conn:
            # PostgreSQL: both rows locked in id order, so two merges of the same pair wait, not deadlock
            await conn.execute(select(c.id).where(c.id.in_([keep, other])).order_by(c.id).with_for_update())
            kept = await conn.execute(update(customers).where(c.id == keep, _live()).values(updated_at=now))
            gone = await conn.execute(update(customers).where(c.id == other, _live())
                                      .values(merged_into=keep, check_at=None))  # fmt: skip
            if kept.rowcount != 1 or gone.rowcount != 1:
                raise CustomerError(f"customer {keep if kept.rowcount != 1 else other} was merged or destroyed just "
                                    "now: read it again")  # fmt: skip
            moved = await conn.execute(update(customer_numbers).where(customer_numbers.c.customer == other)
                                       .values(customer=keep))  # fmt: skip
            await conn.execute(update(customer_notes).where(customer_notes.c.customer == other).values(customer=keep))
            await conn.execute(update(customer_merges).where(customer_merges.c.kept == other).values(kept=keep))
            await conn.execute(update(customers).where(c.merged_into == other).values(merged_into=keep))
            await conn.execute(customer_merges.insert().values(kept=keep, merged=other, at=now, by=by, role=role,
                                                               reason=reason))  # fmt: skip
            key = fact_key("customer.merged", keep, other)
            await _fact(conn, Fact("customer.merged", now, events_call(keep), "", key,
                                   {"kept": keep, "merged": other, "by": by, "role": role}), now)  # fmt: skip
            return int(moved.rowcount or 0)

    # ---- the timeline's reads -----------------------------------------------------------------------------------
    async def timeline_rows(self, customer: int, numbers: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Everything ``customers.model.timeline`` folds, for a customer known by ``numbers`` (E.164; none once
        its personal data is destroyed: then there is nothing to read)."""
        forms = _forms(numbers, self.region)
        cr, cc, lg = call_records.c, customer_contacts.c, ledger.c
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("calls", "contacts", "call_facts", "recordings",
                                                                "grades", "leads", "cases")}  # fmt: skip
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
                rc = recordings.c
                out["recordings"] = await _rows(conn, select(rc.id, rc.call_id, rc.purged_at)
                                                .where(rc.call_id.in_(ids)))  # fmt: skip
                g = grades.c
                out["grades"] = await _rows(conn, select(g.call_id, g.score, g.created_at, g.version)
                                            .where(g.call_id.in_(ids)))  # fmt: skip
            out["notes"] = await _rows(conn, select(customer_notes).where(customer_notes.c.customer == customer))
            out["merges"] = await _rows(conn, select(customer_merges).where(customer_merges.c.kept == customer))
        return out

    async def held(self, numbers: Sequence[str]) -> bool:
        """Whether a lead not yet purged, or a case not yet purged, still holds one of ``numbers``."""
        if not numbers:
            return False
        forms = _forms(numbers, self.region)
        async with self.engine.connect() as conn:
            lead = (await conn.execute(select(leads.c.id).where(leads.c.phone.in_(numbers)).limit(1))).first()
            case = (await conn.execute(select(cases.c.id).where(cases.c.number.in_(forms), cases.c.purged_at.is_(None))
                                       .limit(1))).first()  # fmt: skip
        return lead is not None or case is not None

    # ---- retention ----------------------------------------------------------------------------------------------
    async def due(self, now: float, n: int = PAGE) -> list[dict[str, Any]]:
        """Records the retention pass is to look at by ``now`` (``check_at``), oldest first."""
        c = customers.c
        q = select(customers).where(_live(), c.check_at <= now).order_by(c.check_at, c.id).limit(n)
        async with self.engine.connect() as conn:
            return await _rows(conn, q)

    async def check_again(self, customer: int, at: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(customers).where(customers.c.id == customer).values(check_at=at))

    async def destroy(self, customer: int, seen: float, now: float, keep_days: int) -> tuple[int, int] | None:
        """Destroy the record's personal data (numbers, notes, merge reasons, projected contacts) with its
        ``customer.purged`` fact, unless it was in touch after ``seen`` or changed meanwhile; (notes, numbers)
        destroyed, or None when it was left."""
        async with self.lock:
            async with self.engine.begin() as conn:
                c = customers.c
                still = await conn.execute(update(customers).where(c.id == customer, _live(), c.updated_at <= seen)
                                           .values(check_at=None))  # fmt: skip
                if still.rowcount != 1:
                    return None
                numbers = list((await conn.execute(select(customer_numbers.c.number)
                                                   .where(customer_numbers.c.customer == customer))).scalars().all())
                notes = await _destroy(conn, customer, numbers, now)
                await _fact(conn, Fact("customer.purged", now, events_call(customer), "",
                                       fact_key("customer.purged", customer),
                                       {"notes": notes, "numbers": len(numbers), "rule": "keep_days",
                                        "keep_days": keep_days}), now)  # fmt: skip
            await checkpoint(self.engine)
        return notes, len(numbers)

    # ---- the contacts' projection -------------------------------------------------------------------------------
    async def projected_mark(self) -> int:
        async with self.engine.connect() as conn:
            got = await conn.execute(select(customer_marks.c.ledger_id).where(customer_marks.c.name == "contacts"))
            return int(got.scalar() or 0)

    async def settled_top(self, after: int, recorded_by: float) -> int:
        """The newest ledger id after ``after`` written by ``recorded_by``: a fact is given its id when it is
        inserted but seen when it commits, so a later id can be seen first; reading only settled ones keeps an
        earlier one from being passed (as the webhooks' sender does)."""
        q = select(func.max(ledger.c.id)).where(ledger.c.id > after, ledger.c.recorded_at <= recorded_by)
        async with self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar() or after)

    async def contact_facts(self, after: int, upto: int, n: int) -> list[dict[str, Any]]:
        q = (select(ledger.c.id, ledger.c.kind, ledger.c.call_id, ledger.c.key, ledger.c.at, ledger.c.data)
             .where(ledger.c.id > after, ledger.c.id <= upto, ledger.c.kind.in_(list(CONTACT_KINDS)))
             .order_by(ledger.c.id).limit(n))  # fmt: skip
        async with self.engine.connect() as conn:
            return await _rows(conn, q)

    async def lead_phones(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        q = select(leads.c.id, leads.c.phone).where(leads.c.id.in_(list(ids)), leads.c.phone.is_not(None))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return {int(r.id): str(r.phone) for r in rows}

    async def add_contacts(self, rows: list[dict[str, Any]], horizon: float) -> int:
        """Project contacts onto their numbers' records, a record made for a number that has none unless all its
        contacts are older than ``horizon`` (a first run over an old ledger makes no record the retention pass
        would destroy at once); a fact read twice is one row. How many rows were new."""
        async with self.lock:
            kept: list[dict[str, Any]] = []
            for number in sorted({r["number"] for r in rows}):
                mine = [r for r in rows if r["number"] == number]
                newest = max(r["at"] for r in mine)
                cid = await self.by_number(number)
                if cid is None and newest < horizon:
                    continue
                if cid is None:
                    cid = await self.ensure(number, min(r["at"] for r in mine))
                await self.touch(cid, newest)
                kept += mine
            if not kept:
                return 0
            ins = _insert(self.engine)
            async with self.engine.begin() as conn:
                got = await conn.execute(ins(customer_contacts).on_conflict_do_nothing(index_elements=["key"])
                                         .returning(customer_contacts.c.id), kept)  # fmt: skip
                return len(got.all())

    async def set_mark(self, ledger_id: int) -> None:
        ins = _insert(self.engine)
        async with self.engine.begin() as conn:
            await conn.execute(ins(customer_marks).values(name="contacts", ledger_id=ledger_id)
                               .on_conflict_do_update(index_elements=["name"], set_={"ledger_id": ledger_id}))


def _live() -> Any:
    return and_(customers.c.merged_into.is_(None), customers.c.purged_at.is_(None))


def _closed(row: dict[str, Any]) -> str:
    if row.get("merged_into") is not None:
        return f"customer {row['id']} was merged into {row['merged_into']}: note that one"
    return f"customer {row['id']}: its personal data was destroyed"
