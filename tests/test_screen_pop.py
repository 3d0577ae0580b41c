"""The screen pop without a browser: a number's spellings, the card folded from rows, the look-up on real stores
(SQLite and PostgreSQL: one customer however its number was written, nobody else's rows, purged data not found,
the indexes of migration 0018 used), the desk asking once per call and only with a whole number, the stream
looking it up, the external CRM's URL, and `hotline check` naming a wrong [crm] screen pop."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine

from crm.customers import CALLS_SHOWN, card_of, customer_number, spellings
from crm.lookup import CustomerLookup
from crm.pop import ScreenPop
from crm.screen_pop import pop_url, template_problem
from engine.live.bus import Bus, Change
from engine.live.feed import masked
from engine.model.facts import Fact
from engine.store.store import Store, migrate
from engine.store.tables import call_records, cases, leads
from engine.web.actor import everything
from engine.web.agent.call_view import CallFact
from engine.web.agent.desk import NUMBER_READS, Desk
from engine.web.agent.stream import desk_events
from tests.site_check import check_names

T0 = 1_780_000_000.0
NUMBER, E164 = "13800138000", "+8613800138000"


def test_the_spellings_of_a_number_as_the_sites_country_writes_it():
    assert spellings(E164, "CN") == [E164, "8613800138000", "008613800138000", NUMBER, "013800138000"]
    assert "075512345678" in spellings("+8675512345678", "CN"), "a fixed line with its trunk prefix"
    assert set(spellings("+12125550123", "US")) == {"+12125550123", "12125550123", "01112125550123", "2125550123"}
    # a foreign caller on a Chinese site: after China's international prefix, and never in a national form, which
    # would be someone else's here (020 7946 0958 is a London number and a Guangzhou one)
    assert spellings("+442079460958", "CN") == ["+442079460958", "442079460958", "00442079460958"]
    assert spellings("+12125550123", "CN") == ["+12125550123", "12125550123", "0012125550123"]
    assert customer_number("008613800138000", "CN") == customer_number(NUMBER, "CN") == E164
    # withheld, anonymous, masked by the bus: no customer to look up
    assert [customer_number(n, "CN") for n in ("", "anonymous", "*******8000")] == [None, None, None]


def _record(call_id: str, caller: str, at: float, **more: Any) -> dict[str, Any]:
    row = {"call_id": call_id, "caller": caller, "dialed": "4001234567", "arrived_at": at, "agent_id": "1002",
           "hold_time": 0.0, "hangup_side": "caller", "outcome": "answered", "digit": "1", "recording": "",
           "service": "sales", "talk_time": 95.0}  # fmt: skip
    return row | more


def _lead(lead_id: int, phone: str | None, **more: Any) -> dict[str, Any]:
    return {"id": lead_id, "campaign": "renewals", "phone": phone, "name": "Li Lei", "status": "done",
            "attempts": 2, "last_outcome": "answered", "last_attempt_at": T0 - 86400, "imported_at": T0 - 9e5,
            "extra": {"plan": "gold", "city": "Shenzhen"}} | more  # fmt: skip


def _case(case_id: str, number: str, at: float, **more: Any) -> dict[str, Any]:
    return {"id": case_id, "kind": "complaint", "source": "agent", "status": "open", "number": number,
            "call_id": "", "lead": "", "owner": "1002", "team": "front", "note": "parcel late", "resolution": "",
            "opened_at": at, "due_at": at + 86400, "links": [], "updated_at": at, "purged_at": None} | more  # fmt: skip


def test_the_card_newest_first_without_the_current_call_and_counts_what_it_leaves_out():
    calls = [_record(f"c{i}", NUMBER, T0 + i) for i in range(CALLS_SHOWN + 3)]
    card = card_of(E164, leads=[_lead(7, E164)], calls=calls, cases=[_case("k1", E164, T0), _case("k2", E164, T0 + 9)],
                   current="c7")  # fmt: skip
    d = card.as_dict()
    assert d["number"] == "**********8000" and d["known"] and d["name"] == "Li Lei"
    assert [c["call"] for c in d["calls"]] == ["c6", "c5", "c4", "c3", "c2"] and d["more_calls"] == 2
    assert [c["case"] for c in d["cases"]] == ["k2", "k1"]
    assert d["leads"][0]["fields"] == [["plan", "gold"], ["city", "Shenzhen"]]
    assert not card_of(E164, leads=[], calls=[_record("c0", NUMBER, T0)], cases=[], current="c0").known


def test_the_external_crms_url_is_filled_in_percent_encoded_and_a_bad_template_is_named():
    url = pop_url("https://crm.example/pop?tel={number}&call={call}&lead={lead}", {"number": E164, "call": "a&b"})
    assert url == "https://crm.example/pop?tel=%2B8613800138000&call=a%26b&lead="
    assert template_problem("https://crm.example/{tel}").startswith("names unknown field(s) {tel}: known are")
    assert template_problem("https://crm.example/{").startswith("is not a template")
    assert template_problem("https://crm.example/c/{call}") is None


async def _seeded(url: str) -> Store:
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    other = "+8613900139000"
    async with store.engine.begin() as conn:
        await conn.execute(call_records.insert(), [
            _record("A", NUMBER, T0 - 7200, recording="/rec/A.opus"),  # as the network gave it
            _record("B", "+8613800138000", T0 - 3600, outcome="abandoned", talk_time=None),  # in E.164
            _record("C", "008613800138000", T0 - 1800),  # after the international prefix
            _record("X", "13900139000", T0 - 600),  # someone else
            _record("G", "02079460958", T0 - 500),  # a Guangzhou number, as the network gives it
        ])  # fmt: skip
        await conn.execute(leads.insert(), [_lead(7, E164), _lead(8, other), _lead(9, None, name="purged")])
        await conn.execute(cases.insert(), [_case("k1", E164, T0 - 3000), _case("k2", other, T0 - 2000),
                                            _case("k3", E164, T0 - 100, purged_at=T0, note="")])  # fmt: skip
    return store


def test_one_customer_however_its_number_was_written_and_nobody_elses_rows(store_url):
    async def main() -> None:
        store = await _seeded(store_url)
        try:
            lookup = CustomerLookup(store.engine, "CN", lambda: T0)
            card = await lookup.card("+86 138-0013-8000", current="NOW")
            assert card is not None
            d = card.as_dict()
            assert [c["call"] for c in d["calls"]] == ["C", "B", "A"]
            assert d["calls"][2]["recorded"] and not d["calls"][1]["recorded"] and d["calls"][1]["talk"] is None
            assert [c["case"] for c in d["cases"]] == ["k1"], "the other customer's and the purged case are not"
            assert [x["lead"] for x in d["leads"]] == [7]
            assert await lookup.card("anonymous") is None
            # the viewer may not read a case: its kind and status only
            hidden = await lookup.card(NUMBER, may_read=lambda case: False)
            assert hidden is not None and hidden.cases[0]["note"] == "" and hidden.cases[0]["status"] == "open"
            # a London caller is not the Guangzhou customer whose national number reads the same
            london = await lookup.card("00442079460958")
            assert london is not None and not london.known
            nobody = await lookup.card("13700137000")
            assert nobody is not None and not nobody.known
            # a lead's personal data destroyed (hotline leads purge empties the phone): the card no longer has it
            async with store.engine.begin() as conn:
                await conn.execute(update(leads).where(leads.c.id == 7).values(phone=None))
            assert (await lookup.card(NUMBER)).as_dict()["leads"] == []  # type: ignore[union-attr]
            if store_url.startswith("sqlite"):
                async with store.engine.connect() as conn:
                    plan = " ".join(str(r[-1]) for r in await conn.execute(text(
                        "EXPLAIN QUERY PLAN SELECT * FROM call_records WHERE caller IN ('a', 'b')")))
                assert "ix_call_records_caller" in plan, plan
        finally:
            await store.close()

    asyncio.run(main())


def _fact(kind: str, at: float, data: dict, call: str = "L1", uid: str = "L1") -> Fact:
    return Fact(kind, T0 + at, call, uid, f"{kind}:{call}:{at}", data)


LIVE = [_fact("channel.new", 0, {"role": "caller", "caller": NUMBER, "exten": "4001234567"}),
        _fact("call.queued", 5, {"digit": "1", "service": "sales", "node": "sales"}),
        _fact("agent.offer", 9, {"agent": "1001", "leg": "leg-1", "service": "sales"}, uid="leg-1")]  # fmt: skip


def _agent(state: str, call: str | None = None) -> dict:
    return {"status": "available", "reason": "", "state": state, "since": T0, "device_busy": False, "call": call,
            "holder": "acd", "session": "", "phase": "off"}  # fmt: skip


def test_the_desk_asks_once_per_call_and_only_with_the_whole_number():
    desk = Desk("1001")
    # off the bus the number is masked: nothing to look up with
    for f in (LIVE[2], LIVE[0]):  # the offer opens the call on the page; the caller's channel seen again
        desk.fact(CallFact(f.kind, f.at, f.call_id, f.uniqueid, masked(f.data)))
    assert desk.call is not None and desk.call.caller == "*******8000" and desk.pops() == []
    assert desk.loads() == ["L1"]
    # its facts read back from the ledger carry it whole: one pop, with the call's fields
    desk.history("L1", LIVE)
    want = desk.pops()
    assert want == [{"number": NUMBER, "call": "L1", "agent": "1001", "direction": "in", "service": "sales",
                     "lead": ""}]  # fmt: skip
    assert desk.pops() == [], "once per call"
    assert desk.view()["customer"] == {"call": "L1", "card": None, "url": ""}
    assert desk.popped("L1", {"known": True}, "u") and desk.view()["customer"]["card"] == {"known": True}
    assert not desk.popped("OTHER", {"known": False}, ""), "a late answer for another call is dropped"
    assert NUMBER not in json.dumps(desk.view()), "the whole number never goes to the page"
    # a call whose start is not in the ledger yet: read again, a bounded number of times
    desk2 = Desk("1001")
    desk2.take(Change("agent", "1001", T0, _agent("ringing", "L2")))
    reads = 0
    while desk2.loads():
        desk2.history("L2", [])
        reads += 1
    assert reads == NUMBER_READS


def test_the_stream_looks_the_card_up_once_before_the_agent_answers():
    async def main() -> None:
        bus = Bus()
        bus.publish(Change("agent", "1001", T0, _agent("idle")))
        looked: list[dict] = []

        async def read(call_id, kinds=(), since=None):  # type: ignore[no-untyped-def]
            return LIVE if call_id == "L1" else []

        async def pop(fields: dict, viewer: object) -> tuple[dict | None, str]:
            looked.append(fields)
            return {"known": True, "calls": [{"call": "A"}]}, ""

        sub = bus.subscribe(50)
        stream = desk_events(sub, Desk("1001"), lambda: T0 + 10, read, None, everything, recall=False, pop=pop,
                             heartbeat=0.05)  # fmt: skip
        views: list[dict] = []

        async def until(check: Any) -> None:
            async for msg in stream:
                if msg.startswith("event: view"):
                    views.append(json.loads(msg.split("data: ", 1)[1]))
                    if check(views[-1]["view"]):
                        return

        await asyncio.wait_for(until(lambda v: v["agent"]["state"] == "idle"), 2)
        bus.publish(Change("agent", "1001", T0 + 9, _agent("ringing", "L1")))
        await asyncio.wait_for(until(lambda v: v["customer"] and v["customer"]["card"]), 2)
        v = views[-1]["view"]
        assert v["agent"]["state"] == "ringing" and v["customer"]["card"]["calls"] == [{"call": "A"}]
        bus.publish(Change("agent", "1001", T0 + 12, _agent("on_call", "L1")))
        await asyncio.wait_for(until(lambda v: v["agent"]["state"] == "on_call"), 2)
        assert views[-1]["view"]["customer"]["call"] == "L1" and len(looked) == 1
        await stream.aclose()

    asyncio.run(main())


def test_the_pop_in_each_mode(tmp_path, caplog):
    async def main() -> None:
        store = await _seeded(f"sqlite+aiosqlite:///{tmp_path / 'pop.db'}")
        try:
            lookup = CustomerLookup(store.engine, "CN", lambda: T0)
            fields = {"number": NUMBER, "call": "NOW", "agent": "1001", "direction": "in", "service": "sales",
                      "lead": ""}  # fmt: skip
            tpl = "https://crm.example/pop?tel={number}&agent={agent}"
            card, url = await ScreenPop(lookup, "card", tpl, "CN")(fields, None)
            assert card is not None and card["known"] and url == ""
            card, url = await ScreenPop(lookup, "url", tpl, "CN")(fields, None)
            assert card is None and url == "https://crm.example/pop?tel=%2B8613800138000&agent=1001"
            card, url = await ScreenPop(lookup, "both", tpl, "CN")(fields, None)
            assert card is not None and len(card["calls"]) == 3 and url.startswith("https://crm.example/")
            # the store failing (a store without its tables: the driver's error names the query's parameters, the
            # number among them): a card that says so, and a log line without the number
            broken = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
            try:
                with caplog.at_level(logging.ERROR):
                    card, _ = await ScreenPop(CustomerLookup(broken, "CN", lambda: T0), "card", tpl, "CN")(fields, None)
            finally:
                await broken.dispose()
            assert card == {"failed": True}
            logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
            assert logged and not any("13800138000" in m for m in logged), logged
        finally:
            await store.close()

    asyncio.run(main())


@pytest.mark.parametrize(("lines", "says"), [
    ('screen_pop = "url"\n', "crm.screen_pop: 'url' needs crm.screen_pop_url"),
    ('screen_pop = "popup"\n', "crm.screen_pop: must be card, url or both"),
    ('screen_pop_url = "https://crm.example/{phone}"\n', "crm.screen_pop_url: names unknown field(s) {phone}"),
    ('screen_pop_url = "crm.example/{number}"\n', "crm.screen_pop_url: must be an http:// or https:// URL"),
])  # fmt: skip
def test_hotline_check_names_a_wrong_screen_pop(tmp_path: Path, capsys, lines: str, says: str):
    check_names(tmp_path, capsys, "crm", lines, says)
