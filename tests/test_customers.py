"""Customers' records on real stores (SQLite and PostgreSQL), without a browser: one record per number however
the network wrote it, a timeline of every contact (calls with their recording and score, an outbound dial with
its disposition, SMS both ways, a fax, a case, a lead, notes), an audited merge only by those who may, and the
destruction of a record's personal data by rule, which a restart does not undo; logs never carry the number."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from customers.model import DAY, CustomerError, contact_of, merge_problem, purge_due
from customers.projector import ContactProjector
from customers.services import Customers
from customers.store import CustomerStore
from dialer.leads import LeadStore, forgetting
from engine.clock import VirtualClock
from engine.model.facts import Fact, fact_key
from engine.policy import Actor, Policy, Role
from engine.store.store import Store, migrate
from engine.store.tables import (
    call_records,
    cases,
    customer_contacts,
    customer_merges,
    customer_notes,
    customer_numbers,
    grades,
    leads,
    recordings,
)
from tests.site_check import check_names

POLICY = Policy(lambda agent: frozenset({"front"}))
AGENT = Actor("1001", Role.AGENT, via="web")
LEAD = Actor("lead1", Role.TEAM_LEAD, via="web", teams=frozenset({"front"}))
QA = Actor("qa1", Role.QA, via="web")
ANN = "+8613912345678"  # a customer who calls in, is dialed, texts and faxes
BOB = "+8613811112222"  # the same person on a second phone
T0 = 1_790_000_000.0


def test_contact_facts_and_the_rules_pure():
    assert contact_of("sms.in", {"phone": "13912345678"}, "sms:in", "CN") == (ANN, "sms_in",
                                                                             {"campaign": "", "parts": None})
    assert contact_of("sms.sent", {"phone": ANN, "parts": 2}, "sms:promo", "CN")[1:] == (
        "sms_out", {"campaign": "promo", "parts": 2})
    assert contact_of("fax.done", {"result": "failed", "way": "in"}, "u1", "CN") is None, "no number: no contact"
    assert contact_of("outbound.placed", {"lead": 7}, "d1", "CN", None) is None, "a purged lead: no number"
    assert contact_of("outbound.placed", {"lead": 7, "campaign": "c"}, "d1", "CN", ANN)[0] == ANN
    assert contact_of("acd.callback", {"number": ANN}, "c1", "CN") is None
    keep, other = {"id": 1, "merged_into": None}, {"id": 2, "merged_into": None}
    assert merge_problem(keep, other, "same person") is None
    assert "itself" in merge_problem(keep, keep, "x")
    assert "reason" in merge_problem(keep, other, "  ")
    assert "merged into 1 already" in merge_problem(keep, {"id": 3, "merged_into": 1}, "x")
    assert "destroyed" in merge_problem(keep, {"id": 3, "merged_into": None, "purged_at": 5.0}, "x")
    assert not purge_due(T0, 30, T0 + 29.9 * DAY)
    assert purge_due(T0, 30, T0 + 30 * DAY)


def _call(call_id: str, caller: str, at: float, **kw: Any) -> dict[str, Any]:
    return {"call_id": call_id, "caller": caller, "dialed": "4001234567", "arrived_at": at, "agent_id": "1001",
            "hold_time": 0.0, "hangup_side": "caller", "outcome": "answered", "digit": "1", "recording": "",
            "service": "front", "talk_time": 60.0, **kw}  # fmt: skip


async def _seed(store: Store) -> None:
    """Ann's contacts as the engine and its commands leave them: call records, a case, a lead, and facts."""
    async with store.engine.begin() as conn:
        await conn.execute(call_records.insert(), [
            _call("in-1", "13912345678", T0),  # national form, as the network gives it
            _call("in-2", "008613912345678", T0 + 3600, outcome="abandoned", agent_id="", talk_time=None),
            _call("in-3", "13811112222", T0 + 7200),  # Bob
            _call("in-x", "13700000000", T0 + 60),  # somebody else
        ])  # fmt: skip
        await conn.execute(recordings.insert().values(
            id="r-in-1", call_id="in-1", kind="call", direction="in", started_at=T0, seconds=60.0, channels=2,
            format="wav", bytes=10, sha256="0" * 64, path="/x.wav"))  # fmt: skip
        await conn.execute(grades.insert().values(
            id="g1", recording="r-in-1", call_id="in-1", agent="1001", form="std", form_hash="h", grader="qa1",
            grader_role="qa", version=1, answers={}, marks={}, score=87.5, critical_failed=[],
            created_at=T0 + 100))  # fmt: skip
        await conn.execute(leads.insert().values(id=7, campaign="spring", phone=ANN, name="Ann Li", status="done",
                                                 attempts=1, imported_at=T0 - DAY))  # fmt: skip
        await conn.execute(cases.insert().values(
            id="C-1", kind="complaint", source="agent", status="open", number="13912345678", call_id="in-1",
            team="front", note="parcel late", opened_at=T0 + 50, due_at=T0 + DAY, links=[], updated_at=T0 + 50))
    await store.append([
        Fact("acd.callback", T0 + 3600, "in-2", "u", fact_key("acd.callback", "in-2"), {"number": "x"}),
        Fact("outbound.placed", T0 + 2 * DAY, "d-1", "d-1", fact_key("outbound.placed", "d-1"),
             {"lead": 7, "campaign": "spring", "attempt": 1}),
        Fact("outbound.result", T0 + 2 * DAY + 20, "d-1", "d-1", fact_key("outbound.result", "d-1"),
             {"lead": 7, "outcome": "answered"}),
        Fact("outbound.disposition", T0 + 2 * DAY + 90, "d-1", "d-1", fact_key("outbound.disposition", "d-1", "s"),
             {"lead": 7, "code": "s", "label": "sale", "agent": "1001"}),
        Fact("sms.sent", T0 + 2 * DAY + 100, "sms:spring", "", fact_key("sms.sent", "spring", ANN),
             {"phone": ANN, "parts": 1}),
        Fact("sms.in", T0 + 2 * DAY + 200, "sms:in", "", fact_key("sms.in", ANN, "t", "hi"),
             {"phone": "13912345678", "to": "106", "text": "thanks"}),
        Fact("fax.done", T0 + 3 * DAY, "u-fax", "u-fax", fact_key("fax.done", "u-fax"),
             {"result": "received", "way": "in", "number": "13912345678", "pages": 2}),
    ], T0 + 3 * DAY)  # fmt: skip


def test_a_customers_record_timeline_notes_merge_and_purge(store_url):
    async def main() -> None:
        await asyncio.to_thread(migrate, store_url)
        store = Store(store_url)
        clock = VirtualClock(T0 + 4 * DAY)

        async def facts(kind: str) -> list[Fact]:
            return await store.facts(None, (kind,))

        cstore = CustomerStore(store.engine, "CN", keep_days=30)
        svc = Customers(cstore, clock.now, lambda: POLICY, keep_days=30)
        try:
            await _seed(store)
            projector = ContactProjector(cstore, clock, "CN", keep_days=30)
            assert await projector.step() == 4, "a dial, two messages, a fax"
            assert await projector.step() == 0, "nothing new: nothing projected twice"

            ann = await svc.find(AGENT, "139 1234 5678", "CN")
            assert await svc.find(AGENT, "+86 139-1234-5678", "CN") == ann, "one record however it is written"
            assert await cstore.by_number(ANN) == ann, "the projection made Ann's record from her contacts"
            with pytest.raises(CustomerError, match="number"):
                await svc.find(AGENT, "withheld", "CN")
            with pytest.raises(PermissionError, match="agents, team leads"):
                await svc.view(QA, ann)

            view = await svc.view(AGENT, ann)
            kinds = [e["kind"] for e in view["timeline"]]
            assert kinds == ["fax", "sms_in", "sms_out", "dial", "call", "case", "call", "lead"], kinds
            by_kind = {e["kind"]: e for e in view["timeline"]}
            assert by_kind["dial"]["disposition"] == "sale" and by_kind["dial"]["outcome"] == "answered"
            calls = [e for e in view["timeline"] if e["kind"] == "call"]
            assert [c["call"] for c in calls] == ["in-2", "in-1"]
            assert calls[0]["callback"] == "asked" and calls[0]["outcome"] == "abandoned"
            assert calls[1]["recordings"] == ["r-in-1"] and calls[1]["score"] == 87.5
            assert by_kind["case"]["note"] == "", "an agent who does not own the case reads its kind and status only"
            led = {e["kind"]: e for e in (await svc.view(LEAD, ann))["timeline"]}
            assert led["case"]["note"] == "parcel late", "its team's lead reads it"
            assert view["name"] == "Ann Li", "the lead's name"
            assert by_kind["fax"]["pages"] == 2 and by_kind["sms_out"]["campaign"] == "spring"

            note = await svc.note(AGENT, ann, "  prefers calls after 18:00 ")
            with pytest.raises(CustomerError, match="write something"):
                await svc.note(AGENT, ann, "   ")
            bob = await svc.find(AGENT, "13811112222", "CN")
            bob_note = await svc.note(LEAD, bob, "second phone of Ann Li")
            with pytest.raises(PermissionError, match="team lead or a manager"):
                await svc.merge(AGENT, ann, bob, "same person")
            with pytest.raises(CustomerError, match="reason"):
                await svc.merge(LEAD, ann, bob, "")
            assert await svc.merge(LEAD, ann, bob, "she said so on call in-3") == 1
            merged = await svc.view(LEAD, bob)
            assert merged["merged_into"] == ann and merged["timeline"] == []
            with pytest.raises(CustomerError, match="merged into"):
                await svc.note(LEAD, bob, "too late")
            view = await svc.view(LEAD, ann)
            assert sorted(view["numbers"]) == sorted([ANN, BOB])
            assert "in-3" in [e.get("call") for e in view["timeline"]], "Bob's call is Ann's now"
            notes = {e["note"]: e["text"] for e in view["timeline"] if e["kind"] == "note"}
            assert notes == {note: "prefers calls after 18:00", bob_note: "second phone of Ann Li"}
            merge = next(e for e in view["timeline"] if e["kind"] == "merge")
            assert (merge["merged"], merge["by"], merge["reason"]) == (bob, "lead1", "she said so on call in-3")
            with pytest.raises(CustomerError, match="merged into"):
                await svc.merge(LEAD, ann, bob, "again")
            audit = await facts("customer.merged")
            assert [f.data for f in audit] == [{"kept": ann, "merged": bob, "by": "lead1", "role": "team_lead"}]
            assert [f.data["by"] for f in await facts("customer.noted")] == ["1001", "lead1"]

            # retention: Ann's lead still holds her number, so her record stays past the keep days
            clock.advance_to(clock.monotonic() + 60 * DAY)
            assert await svc.purge(clock.now()) == []
            async with store.engine.begin() as conn:
                await conn.execute(leads.update().values(phone=None, name="", status="purged"))
                await conn.execute(cases.update().values(number="", note="", purged_at=clock.now()))
            clock.advance_to(clock.monotonic() + DAY)  # a held record is looked at again a day later
            assert await svc.purge(clock.now()) == [ann]
            gone = await cstore.get(ann)
            assert gone["numbers"] == [] and gone["purged_at"] == clock.now()
            async with store.engine.connect() as conn:
                for table in (customer_numbers, customer_notes, customer_contacts):
                    assert (await conn.execute(select(func.count()).select_from(table))).scalar() == 0, table.name
                reasons = (await conn.execute(select(customer_merges.c.reason))).scalars().all()
            assert reasons == [""], "the merge's reason goes with the record"
            assert await ContactProjector(cstore, clock, "CN", keep_days=30).step() == 0, "a restart projects nothing"
            assert await cstore.by_number(ANN) is None
            purged = await facts("customer.purged")
            assert [f.data for f in purged] == [{"notes": 2, "numbers": 2, "rule": "keep_days", "keep_days": 30}]
            with pytest.raises(CustomerError, match="destroyed"):
                await svc.merge(LEAD, await svc.find(AGENT, "13700000000", "CN"), ann, "x")
            mine = await store.facts(None, ("customer.merged", "customer.noted", "customer.purged"))
            said = " ".join(str(f.data) for f in mine)
            for secret in ("1391234", "1381111", "18:00", "she said so"):
                assert secret not in said, f"the record's personal data in the ledger: {secret}"
        finally:
            await store.close()

    asyncio.run(main())


def test_two_merges_at_once_and_the_projection_s_edges(store_url, caplog):
    """Two leads merging the same two records each into the other at once: one merge, the other refused; a fact
    not yet settled is not passed; a number first seen in a contact older than the keep days makes no record; a
    failing round logs no number."""

    async def main() -> None:
        await asyncio.to_thread(migrate, store_url)
        store = Store(store_url)
        clock = VirtualClock(T0 + 100 * DAY)
        cstore = CustomerStore(store.engine, "CN", keep_days=30)
        svc = Customers(cstore, clock.now, lambda: POLICY, keep_days=30)
        try:
            a, b = await svc.find(LEAD, ANN, "CN"), await svc.find(LEAD, BOB, "CN")
            got = await asyncio.gather(svc.merge(LEAD, a, b, "one"), svc.merge(LEAD, b, a, "two"),
                                       return_exceptions=True)  # fmt: skip
            assert sorted(type(g).__name__ for g in got) == ["CustomerError", "int"], got
            rows = {r: await cstore.get(r) for r in (a, b)}
            kept = next(r for r, row in rows.items() if row["merged_into"] is None)
            assert sorted(rows[kept]["numbers"]) == sorted([ANN, BOB])
            assert len(await store.facts(None, ("customer.merged",))) == 1

            old = Fact("sms.in", T0, "sms:in", "", fact_key("sms.in", "13700000001", "t"), {"phone": "13700000001"})
            await store.append([old], T0)
            late = Fact("sms.in", clock.now(), "sms:in", "", fact_key("sms.in", "13700000002", "t"),
                        {"phone": "13700000002"})  # fmt: skip
            await store.append([late], clock.now())  # written just now: not settled yet
            projector = ContactProjector(cstore, clock, "CN", keep_days=30)
            assert await projector.step() == 0
            assert await cstore.by_number("+8613700000001") is None, "an old contact makes no record"
            assert await cstore.by_number("+8613700000002") is None, "not settled: not read yet"
            clock.advance_to(clock.monotonic() + 5)
            assert await projector.step() == 1 and await cstore.by_number("+8613700000002") is not None

            async def broken(rows: list, horizon: float) -> int:
                raise RuntimeError(f"INSERT INTO customer_contacts ... parameters ('{rows[0]['number']}', ...)")

            cstore.add_contacts = broken  # type: ignore[method-assign]
            await store.append([Fact("sms.in", clock.now(), "sms:in", "", fact_key("sms.in", "13700000003", "t"),
                                     {"phone": "13700000003"})], clock.now())  # fmt: skip
            clock.advance_to(clock.monotonic() + 5)
            with caplog.at_level(logging.INFO):
                await projector.round()
            assert "projecting contacts failed (RuntimeError)" in caplog.text
            assert "13700000003" not in caplog.text
        finally:
            await store.close()

    asyncio.run(main())


def test_a_destroyed_batch_takes_the_records_known_only_from_its_dials(tmp_path):
    """A lead wipe (a batch destroyed, a campaign purged) with the customers' hook: a record known only from the
    wiped leads' dials goes with them; one that also called in keeps its record, without the dial."""

    async def main() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
        await asyncio.to_thread(migrate, url)
        store = Store(url)
        clock = VirtualClock(T0 + DAY)
        cstore = CustomerStore(store.engine, "CN", keep_days=30)
        try:
            async with store.engine.begin() as conn:
                await conn.execute(leads.insert(), [
                    {"id": 1, "campaign": "c", "phone": ANN, "status": "done", "imported_at": T0, "batch": 5},
                    {"id": 2, "campaign": "c", "phone": BOB, "status": "done", "imported_at": T0, "batch": 5}])
                await conn.execute(call_records.insert(), [_call("in-b", "13811112222", T0 + 100)])
            await store.append([Fact("outbound.placed", T0 + 50 + i, f"d{i}", f"d{i}",
                                     fact_key("outbound.placed", f"d{i}"), {"lead": i, "campaign": "c"})
                                for i in (1, 2)], T0 + 60)  # fmt: skip
            assert await ContactProjector(cstore, clock, "CN", keep_days=30).step() == 2
            ann, bob = await cstore.by_number(ANN), await cstore.by_number(BOB)
            wiped = await LeadStore(store.engine, forgetting("CN")).wipe("c", leads.c.batch == 5, clock.now())
            assert wiped == 2
            assert await cstore.by_number(ANN) is None and (await cstore.get(ann))["purged_at"] is not None
            assert await cstore.by_number(BOB) == bob, "Bob called in: his record is his own"
            async with store.engine.connect() as conn:
                left = (await conn.execute(select(customer_contacts.c.kind))).scalars().all()
            assert left == [], "no dial of a destroyed lead is left on any timeline"
            purged = await store.facts(None, ("customer.purged",))
            assert [f.data for f in purged] == [{"notes": 0, "numbers": 1, "rule": "leads"}]
        finally:
            await store.close()

    asyncio.run(main())


def test_who_may_read_note_and_merge_customers():
    for actor, read, note, merge in [(AGENT, True, True, False), (LEAD, True, True, True), (QA, False, False, False),
                                     (Actor("m", Role.MANAGER), True, True, True),
                                     (Actor("t", Role.TRAINING), False, False, False)]:  # fmt: skip
        got = [POLICY.customer_refusal(actor, a) is None for a in ("read", "note", "merge")]
        assert got == [read, note, merge], actor.role
    assert "unknown customer action" in POLICY.customer_refusal(LEAD, "delete")


@pytest.mark.parametrize("lines, says", [("customer_keep_days = 0", "crm.customer_keep_days: must be >= 1"),
                                         ('customer_keep_days = "a month"', "crm.customer_keep_days")])  # fmt: skip
def test_hotline_check_names_a_wrong_keep_days(tmp_path: Path, capsys, lines: str, says: str):
    check_names(tmp_path, capsys, "crm", lines, says)
