"""Sales without a browser: an order's fields read and refused by name, versions folded from facts, the policy's
word on who sees and corrects an order, the service on a real SQLite ledger (one order per conversation, a
correction only by the team's lead, with a reason, on the newest version), the sales report against a hand count
(targets with a ramp, days worked without a sale, the commission split), `hotline check` on [sales], and on a
virtual day an agent's sale through the dialer: the order and the sale disposition, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.model.facts import Fact
from engine.policy import Actor, Policy, Role
from engine.store.store import Store, migrate
from sales.model import KINDS, OrderError, fold, money, order_fields, parse_order
from sales.report import sales_report
from sales.services import Sales
from sales.settings import SalesSettings
from tests.site_check import check_names

SH = ZoneInfo("Asia/Shanghai")
GROUPS = {"2001": frozenset({"north"}), "2002": frozenset({"north"}), "3001": frozenset({"south"})}
POLICY = Policy(lambda a: GROUPS.get(a, frozenset()))
LEAD_N = Actor("lead-n", Role.TEAM_LEAD, via="web", teams=frozenset({"north"}))
LEAD_S = Actor("lead-s", Role.TEAM_LEAD, via="web", teams=frozenset({"south"}))


def at(day: int, hour: int = 10) -> float:
    return dt.datetime(2026, 3, day, hour, tzinfo=SH).timestamp()


def test_an_orders_fields_are_read_and_a_wrong_one_is_named():
    assert money("199") == 19900 and money("199.5") == 19950 and money("0.05") == 5
    for bad in ("", "1,000", "-3", "1.234", "abc"):
        with pytest.raises(OrderError, match="amount"):
            money(bad)
    got = parse_order('{"product": "gold plan", "quantity": "2", "amount": "398.00"}', ["gold plan"])
    assert (got.product, got.quantity, got.amount) == ("gold plan", 2, 39800)
    assert order_fields({"product": "x", "quantity": 1, "amount": 12.5}).amount == 1250
    cases = [({"product": "", "quantity": 1, "amount": 1}, "product: name the product"),
             ({"product": "tin", "quantity": 1, "amount": 1}, "not one of the site's products (gold plan)"),
             ({"product": "gold plan", "quantity": 0, "amount": 1}, "quantity '0': a whole number 1-9999"),
             ({"product": "gold plan", "quantity": "1.5", "amount": 1}, "quantity"),
             ({"product": "gold plan", "quantity": 1, "amount": "0"}, "amount: more than 0"),
             ({"product": "gold plan", "quantity": 1, "amount": "2000000"}, "at most 1000000")]  # fmt: skip
    for values, says in cases:
        with pytest.raises(OrderError, match=says.replace("(", r"\(").replace(")", r"\)")):
            order_fields(values, ["gold plan"])
    with pytest.raises(OrderError, match="JSON object"):
        parse_order("gold plan, 2, 398")
    # a JSON number is read as written: three decimals refused, not rounded; other digits than 0-9 are no quantity
    with pytest.raises(OrderError, match="'199.999': a sum with at most two decimals"):
        parse_order('{"product": "gold plan", "quantity": 1, "amount": 199.999}')
    assert parse_order('{"product": "gold plan", "quantity": 1, "amount": 600.57}').amount == 60057
    with pytest.raises(OrderError, match="quantity"):
        order_fields({"product": "x", "quantity": "²", "amount": 1})


def _fact(kind: str, t: float, oid: str, version: int, **data: Any) -> Fact:
    return Fact(kind, t, "c1", "c1", f"{kind}:{oid}:{version}", {"order": oid, "version": version, **data})


def test_versions_fold_in_order_and_a_correction_without_its_order_is_left_out():
    facts = [_fact("sale.corrected", at(3), "sale-c1", 2, agent="2001", product="b", quantity=1, amount=500,
                   reason="wrong price", by="lead-n"),
             _fact("sale.order", at(2), "sale-c1", 1, agent="2001", product="b", quantity=1, amount=900),
             _fact("sale.order", at(2), "sale-c1", 1, agent="2001", product="b", quantity=1, amount=900),
             _fact("sale.corrected", at(3), "sale-c9", 2, agent="2001", product="b", quantity=1, amount=1)]  # fmt: skip
    orders = fold(facts)
    assert list(orders) == ["sale-c1"]
    o = orders["sale-c1"]
    assert [v.version for v in o.versions] == [1, 2] and o.placed_at == at(2)
    assert (o.now.amount, o.now.reason, o.now.by) == (500, "wrong price", "lead-n")


def test_who_sees_and_corrects_an_order():
    agent = Actor("2002", Role.AGENT, via="web")
    assert POLICY.order_refusal(agent, "read", "north", "2001") is None, "its own team's"
    assert POLICY.order_refusal(agent, "read", "south", "3001") == "the order is team south's: 2002 sees its own team's"
    assert POLICY.order_refusal(agent, "correct", "north", "2002").startswith("an order is corrected by its team")
    assert POLICY.order_refusal(LEAD_N, "correct", "north", "2001") is None
    assert POLICY.order_refusal(LEAD_N, "correct", "south", "3001") == \
        "the order is team south's: lead-n does not lead it"
    assert POLICY.order_refusal(Actor("m", Role.MANAGER), "correct", "south", "3001") is None
    assert POLICY.order_refusal(Actor("q", Role.QA), "read", "north", "2001").startswith("orders are for")


class _Clock:
    t = at(2)

    def now(self) -> float:
        return self.t


def test_the_service_on_a_real_ledger_one_order_per_call_and_corrections_by_the_teams_lead(tmp_path):
    async def main() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
        await asyncio.to_thread(migrate, url)
        store = Store(url)
        clock = _Clock()

        async def record(facts: list[Fact]) -> None:
            await store.append(facts, clock.now())

        sales = Sales(SalesSettings.of({}), store.facts, record, clock.now, lambda: POLICY,
                      {"2001": "north", "3001": "south"}, {"renewals": "south"})  # fmt: skip
        try:
            order = '{"product": "gold plan", "quantity": 1, "amount": "199"}'
            oid = await sales.place("c1", "2001", "renewals", 7, order)
            assert oid == "sale-c1"
            with pytest.raises(OrderError, match="call c1 has order sale-c1 already: its team lead corrects it"):
                await sales.place("c1", "2001", "renewals", 7, order)
            o = await sales.order(oid)
            assert o is not None and o.now.team == "north", "the seller's own team, not the campaign's"
            with pytest.raises(PermissionError, match="lead-s does not lead it"):
                await sales.correct(LEAD_S, oid, 1, {"product": "gold plan", "quantity": 1, "amount": "99"}, "x")
            with pytest.raises(OrderError, match="reason: say why"):
                await sales.correct(LEAD_N, oid, 1, {"product": "gold plan", "quantity": 1, "amount": "99"}, " ")
            with pytest.raises(OrderError, match="nothing changed"):
                await sales.correct(LEAD_N, oid, 1, {"product": "gold plan", "quantity": 1, "amount": "199.00"}, "x")
            clock.t = at(3)
            v2 = await sales.correct(LEAD_N, oid, 1, {"product": "gold plan", "quantity": 2, "amount": "398"},
                                     "two were sold")  # fmt: skip
            assert (v2.version, v2.amount, v2.by) == (2, 39800, "lead-n")
            with pytest.raises(OrderError, match="is at version 2 now, not 1"):
                await sales.correct(LEAD_N, oid, 1, {"product": "gold plan", "quantity": 3, "amount": "1"}, "again")
            kinds = [f.kind for f in await store.facts("c1")]
            assert kinds == ["sale.order", "sale.corrected"], "every version kept, in the ledger"
            got = await sales.orders(at(2, 0), at(3, 0))
            assert [(o.id, o.now.version, o.now.amount) for o in got] == [("sale-c1", 2, 39800)]
            assert await sales.orders(at(3, 0), at(4, 0)) == [], "counted on the day it was placed"
            assert await sales.orders(at(2, 0), at(3, 0), Actor("3001", Role.AGENT)) == [], "another team's"
            assert len(await sales.orders(at(2, 0), at(3, 0), Actor("2001", Role.AGENT))) == 1
        finally:
            await store.close()

    asyncio.run(main())


def test_the_sales_report_against_a_hand_count():
    s = SalesSettings.of({"daily_target": 800, "targets": {"2026-03-03": 600}, "products": []})
    facts = [
        _fact("sale.order", at(2, 9), "sale-a", 1, agent="2001", team="north", product="p", quantity=1, amount=50000),
        _fact("sale.order", at(2, 15), "sale-b", 1, agent="2001", team="north", product="p", quantity=2, amount=45050),
        _fact("sale.order", at(3, 11), "sale-c", 1, agent="3001", team="south", product="p", quantity=1, amount=30000),
        # placed on the 3rd, corrected on the 4th: counts on the 3rd at its newest amount
        _fact("sale.corrected", at(4, 9), "sale-c", 2, agent="3001", team="south", product="p", quantity=1,
              amount=20000),
    ]  # fmt: skip
    facts = [Fact(f.kind, f.at, f.data["order"], f.uniqueid, f.key, f.data) for f in facts]
    worked = {("2026-03-02", "2001"), ("2026-03-02", "2002"), ("2026-03-03", "3001"), ("2026-03-03", "2001")}
    r = sales_report(fold(facts).values(), worked, s, SH, teams={"2001": "north", "2002": "north", "3001": "south"},
                     names={"2001": "Wang"})  # fmt: skip
    rows = {(x["day"], x["agent"]): x for x in r["rows"]}
    a = rows[("2026-03-02", "2001")]
    # 500.00 + 450.50 = 950.50 against 800: 118.81 %; the agent's 11 % is 104.555, rounded half up 104.56
    assert (a["orders"], a["quantity"], a["sales"], a["target"], a["attainment"], a["commission_agent"]) == \
        (2, 3, 950.5, 800.0, 1.1881, 104.56)  # fmt: skip
    assert rows[("2026-03-02", "2002")]["sales"] == 0 and rows[("2026-03-02", "2002")]["target"] == 800.0
    assert rows[("2026-03-03", "2001")]["target"] == 600.0, "the ramp's target from the 3rd"
    assert rows[("2026-03-03", "3001")]["sales"] == 200.0
    teams = {t["team"]: t for t in r["teams"]}
    # north: 950.50 of 800 + 800 + 600 = 2200; its lead's 1.5 % is 14.2575 -> 14.26
    assert (teams["north"]["sales"], teams["north"]["target"], teams["north"]["commission_team_lead"]) == \
        (950.5, 2200.0, 14.26)  # fmt: skip
    assert r["total"]["sales"] == 1150.5 and r["total"]["target"] == 2800.0
    # all sales 1150.50: agent 11 % 126.555 -> 126.56, lead 1.5 % 17.2575 -> 17.26, director 1 % 11.505 -> 11.51,
    # others 1.5 % 17.26; 15 % in all, 172.59
    assert r["commission"] == {"commission_agent": 126.56, "commission_team_lead": 17.26,
                               "commission_director": 11.51, "commission_others": 17.26,
                               "commission_total": 172.59}  # fmt: skip
    only = sales_report(fold(facts).values(), worked, s, SH, teams={"2001": "north", "3001": "south"}, names={},
                        agents=frozenset({"3001"}))  # fmt: skip
    assert [x["agent"] for x in only["rows"]] == ["3001"] and only["total"]["sales"] == 200.0
    # 2001 moved to team south since: its past sales stay north's, and so does north's lead's commission
    moved = sales_report(fold(facts).values(), worked, s, SH, teams={"2001": "south", "2002": "north", "3001": "south"},
                         names={})  # fmt: skip
    by = {t["team"]: t for t in moved["teams"]}
    assert (by["north"]["sales"], by["north"]["commission_team_lead"]) == (950.5, 14.26)
    north_rows = [(x["day"], x["agent"], x["team"], x["sales"], x["target"]) for x in moved["rows"]
                  if x["agent"] == "2001"]  # fmt: skip
    # its days' targets now go to its own (new) team's rows, once a day; its sales to the team it sold for
    assert north_rows == [("2026-03-02", "2001", "north", 950.5, 0.0), ("2026-03-02", "2001", "south", 0.0, 800.0),
                          ("2026-03-03", "2001", "south", 0.0, 600.0)]  # fmt: skip
    assert moved["total"]["target"] == r["total"]["target"], "a target counts once, whatever the team"
    # a team's report: its rows only, and no other team's target
    north = sales_report(fold(facts).values(), worked, s, SH, teams={"2001": "south", "2002": "north",
                                                                     "3001": "south"}, names={}, team="north")
    assert [t["team"] for t in north["teams"]] == ["north"] and north["total"]["target"] == 800.0


@pytest.mark.parametrize(("lines", "says"), [
    ("commission = { agent = 90, director = 20 }\n", "sales.commission: the shares add up to more than 100 %"),
    ("commission = { boss = 1 }\n", "sales.commission: unknown share(s) boss"),
    ('targets = { "2026-13-01" = 600 }\n', "sales.targets: '2026-13-01': not a date"),
    ("daily_target = 800.555\n", "sales.daily_target: must be a sum of 0 or more with at most two decimals"),
    ('products = ["a", "a"]\n', "sales.products: names a product twice"),
])  # fmt: skip
def test_hotline_check_names_a_wrong_sales_setting(tmp_path: Path, capsys, lines: str, says: str):
    check_names(tmp_path, capsys, "sales", lines, says)


def test_an_agents_sale_on_a_virtual_day_places_its_order_and_gives_the_sale_disposition_once():
    from sim.day import run_day
    from tests.test_vtime import MemoryLeads, shell_free_inbound

    said: dict = {}
    facts: list = []

    def hook(eng):  # type: ignore[no-untyped-def]
        dialer = eng.features["dialer"]
        runner = dialer.runners[0]
        runner.leads = MemoryLeads(400)

        async def agent_sells() -> None:
            seat = runner.seats["2002"]
            while seat.last is None or seat.state != "wrap":
                await eng.clock.sleep(1)
            order = json.dumps({"product": "gold plan", "quantity": 1, "amount": "199.00"})
            said["bad"] = await _refused(dialer.control("2002", "sale", '{"product": "gold plan"}'))
            said["reply"] = await dialer.control("2002", "sale", order)
            said["again"] = await _refused(dialer.control("2002", "sale", order))

        eng.spawn(agent_sells(), "agent-2002")

    asyncio.run(run_day(hours=0.3, seed=4, outbound_agents=3, amd=False, on_engine=hook, facts_out=facts,
                        inbound=shell_free_inbound()))  # fmt: skip
    assert said["bad"] == "quantity '': a whole number 1-9999", said
    assert said["again"].endswith("already: its team lead corrects it")
    orders = [f for f in facts if f.kind in KINDS]
    assert len(orders) == 1 and orders[0].data["amount"] == 19900 and orders[0].data["agent"] == "2002"
    assert said["reply"] == f"2002: call {orders[0].call_id} sale, order sale-{orders[0].call_id}"
    dispositions = [f for f in facts if f.kind == "outbound.disposition" and f.call_id == orders[0].call_id]
    assert [(d.data["code"], d.data["label"]) for d in dispositions] == [("1", "sale")]


async def _refused(work: Any) -> str:
    try:
        await work
    except ValueError as exc:
        return str(exc)
    return "done"
