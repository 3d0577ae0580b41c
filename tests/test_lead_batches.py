"""Lead batches on a real SQLite store through `hotline leads`: a small file imported as a batch with its source,
cost and team; its quality report against a hand count (valid numbers, duplicates in the file and bought before,
do-not-call share, connect rate, conversations and sales per 1000 leads, cost per lead and per sale) from the
store and the ledger's dial facts; and its destruction: the same figures kept, the batch's numbers and names gone
from the leads table, its index and the database file, nothing of them in the logs, another batch untouched."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3

from crm.lookup import CustomerLookup
from engine.cli import main as cli_main
from engine.model.facts import Fact
from engine.store.store import Store
from tests.test_leads import site  # noqa: F401 - the fixture: a site file with campaigns on a SQLite file

# ten data rows: two bad, one number repeated in the file, one bought before (batch 1), one on the do-not-call list
FILE = """phone,name,city
13800000001,Zhao Yi,Shenzhen
13800000002,Qian Er,Shenzhen
1380000,Sun San,Guangzhou
13800000003,Li Si,Guangzhou
13800000002,Qian Er again,Shenzhen
13900000009,Zhou Wu,Dongguan
13800000004,Wu Liu,Dongguan
,Zheng Qi,Foshan
13800000005,Wang Ba,Foshan
13800000006,Feng Jiu,Foshan
"""
EARLIER = "phone,name\n13900000009,Zhou Wu\n13700000000,Chen Shi\n"
DNC = "phone\n13800000006\n"


def _db(site_file) -> str:  # type: ignore[no-untyped-def]
    return str(site_file.parent / "cli.db")


def _leads(site_file, batch: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(_db(site_file)) as db:
        return db.execute("select id, phone, name, status from leads where batch = ? order by id", (batch,)).fetchall()


def test_a_batch_its_quality_by_hand_and_its_destruction_keeping_only_the_figures(site, tmp_path, capsys,  # noqa: F811
                                                                                  caplog):  # fmt: skip
    (tmp_path / "earlier.csv").write_text(EARLIER)
    (tmp_path / "bought.csv").write_text(FILE)
    (tmp_path / "dnc.csv").write_text(DNC)
    assert cli_main(["leads", "import", "summer", str(tmp_path / "earlier.csv"), "--site", str(site)]) == 0
    assert cli_main(["leads", "dnc", str(tmp_path / "dnc.csv"), "--site", str(site)]) == 0
    capsys.readouterr()
    assert cli_main(["leads", "import", "summer", str(tmp_path / "bought.csv"), "--source", "ListCo March",
                     "--cost", "300", "--team", "north", "--site", str(site)]) == 1  # bad rows  # fmt: skip
    out = capsys.readouterr()
    # the repeated number is a bad row to the importer (a duplicate), a valid number to the batch's figures
    assert out.out.splitlines()[0] == "imported 6, already present 1, bad 3"
    assert "batch 2 of campaign summer" in out.err
    mine = _leads(site, 2)
    assert [p for _, p, _, _ in mine] == ["+8613800000001", "+8613800000002", "+8613800000003", "+8613800000004",
                                          "+8613800000005", "+8613800000006"]  # fmt: skip
    ids = {p: i for i, p, _, _ in mine}

    # the dialer's facts about them: three leads dialed (one twice), two reached an agent, one sale
    def fact(kind: str, at: float, call: str, **data: object) -> Fact:
        return Fact(kind, at, call, call, f"{kind}:{call}", dict(data))

    t = 2e9
    facts = [fact("outbound.placed", t, "d1", lead=ids["+8613800000001"], campaign="summer"),
             fact("outbound.placed", t + 1, "d2", lead=ids["+8613800000001"], campaign="summer"),
             fact("outbound.placed", t + 2, "d3", lead=ids["+8613800000002"], campaign="summer"),
             fact("outbound.placed", t + 3, "d4", lead=ids["+8613800000003"], campaign="summer"),
             fact("outbound.connect", t + 10, "d2", agent="2001"), fact("outbound.connect", t + 11, "d3", agent="2002"),
             fact("sale.order", t + 60, "d2", order="sale-d2", version=1, lead=ids["+8613800000001"], amount=19900),
             # a dial of batch 1's lead: not this batch's
             fact("outbound.placed", t + 4, "d5", lead=1, campaign="summer"), fact("outbound.connect", t + 12, "d5")]
    asyncio.run(_append(f"sqlite+aiosqlite:///{_db(site)}", facts))

    assert cli_main(["leads", "batches", "--json", "--site", str(site)]) == 0
    got = {b["batch"]: b for b in json.loads(capsys.readouterr().out)["batches"]}
    b = got[2]
    # by hand: 10 rows, 8 valid; 1 repeated + 1 bought before of 8; 1 of the 6 imported on the do-not-call list;
    # 3 dialed, 2 of them reached an agent; 2 conversations and 1 sale per 6 leads; 300.00 for 6 leads, 1 sale
    assert (b["source"], b["team"], b["cost"], b["file_rows"], b["valid"], b["repeated"], b["already"]) == \
        ("ListCo March", "north", 300.0, 10, 8, 1, 1, )  # fmt: skip
    assert (b["valid_share"], b["duplicate_share"], b["imported"], b["dnc"], b["dnc_share"]) == \
        (0.8, 0.25, 6, 1, 0.1667)  # fmt: skip
    assert (b["dialed"], b["connected"], b["connect_rate"], b["conversations"], b["sales"], b["sales_amount"]) == \
        (3, 2, 0.6667, 2, 1, 199.0)  # fmt: skip
    assert (b["conversations_per_1000"], b["sales_per_1000"], b["cost_per_lead"], b["cost_per_sale"]) == \
        (333.3, 166.7, 50.0, 300.0)  # fmt: skip
    assert got[1]["imported"] == 2 and got[1]["source"] == "earlier.csv", "a file's name is its source by default"
    assert {r[3] for r in _leads(site, 2)} == {"new"} and all(r[2] for r in _leads(site, 2))

    # a lead of it being dialed: nothing is destroyed
    with sqlite3.connect(_db(site)) as db:
        db.execute("update leads set status = 'dialing' where id = ?", (ids["+8613800000005"],))
    assert cli_main(["leads", "destroy", "2", "--site", str(site)]) == 2
    assert "batch 2: 1 lead(s) being dialed now" in capsys.readouterr().err
    assert all(p for _, p, _, _ in _leads(site, 2)), "every lead of it kept"
    with sqlite3.connect(_db(site)) as db:
        db.execute("update leads set status = 'new' where id = ?", (ids["+8613800000005"],))

    caplog.set_level(logging.INFO)
    assert cli_main(["leads", "destroy", "2", "--json", "--site", str(site)]) == 0
    kept = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in kept.items() if k != "destroyed_at"} == b, "the figures it had"
    assert cli_main(["leads", "batches", "--json", "--site", str(site)]) == 0
    again = {x["batch"]: x for x in json.loads(capsys.readouterr().out)["batches"]}
    assert again[2] == kept and again[1]["imported"] == 2
    assert [(p, n, s) for _, p, n, s in _leads(site, 2)] == [(None, "", "purged")] * 6
    assert all(p for _, p, _, _ in _leads(site, 1)), "the other batch keeps its leads"
    raw = b"".join(f.read_bytes() for f in site.parent.glob("cli.db*"))
    for number in ("13800000001", "13800000004", "Zhao Yi", "Wang Ba", "Shenzhen"):
        assert number.encode() not in raw, number
    assert b"13700000000" in raw and b"Chen Shi" in raw, "the check would see data that is there"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "personal data of 6 lead(s) destroyed" in logged and "1380000000" not in logged
    found = asyncio.run(_card(f"sqlite+aiosqlite:///{_db(site)}", "13800000004"))
    assert found == [], "the screen pop no longer finds the destroyed lead"
    assert cli_main(["leads", "destroy", "2", "--site", str(site)]) == 2
    assert "batch 2 was destroyed already" in capsys.readouterr().err
    assert cli_main(["leads", "destroy", "9", "--site", str(site)]) == 2
    assert "no batch 9" in capsys.readouterr().err


async def _append(url: str, facts: list[Fact]) -> None:
    store = Store(url)
    try:
        await store.append(facts, 2e9)
    finally:
        await store.close()


async def _card(url: str, number: str) -> list:
    store = Store(url)
    try:
        card = await CustomerLookup(store.engine, "CN", lambda: 2e9).card(number)
        return card.leads if card is not None else []
    finally:
        await store.close()
