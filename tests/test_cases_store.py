"""Cases on real stores: opened, linked and closed from the engine's facts as they are written, the table equal to
its rebuild from the ledger (SQLite and PostgreSQL); an overdue case raised once on the engine's clock (virtual
time) and once on the team page's alerts; closed cases' personal data purged with their counts kept; the
`hotline cases` commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cases.plugin import cases_of, watch
from cases.report import cases_report
from engine.cli import main as cli_main
from engine.clock import VirtualClock
from engine.config import load_site
from engine.live.bus import Change
from engine.model.facts import Fact
from engine.store.store import Store, migrate
from engine.store.tables import leads
from engine.web.team.alerts import AlertBook
from engine.web.wallboard.settings import WallboardSettings

SH = ZoneInfo("Asia/Shanghai")
NUMBER, OTHER = "13800138000", "13900139000"  # as callers' numbers arrive; cases keep them in E.164
E164, OTHER_E164 = "+8613800138000", "+8613900139000"


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> float:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH).timestamp()


T0 = at(2026, 3, 2, 10)  # a Monday


def site_file(tmp_path: Path, url: str) -> Path:
    p = tmp_path / "site.toml"
    p.write_text(f'[site]\nname = "t"\n\n[asterisk]\nlab = true\n\n[store]\nurl = "{url}"\n\n'
                 '[hotline]\nnumber = "4000"\nagent = "1001"\n\n'
                 '[cases]\noverdue_every = 600\nafter_sale_codes = ["sale"]\nkeep_days = 30\nfollow_up_days = 1\n\n'
                 '[[agents]]\nid = "1001"\ngroups = ["front"]\n\n[[agents]]\nid = "2001"\ngroups = ["sales"]\n')
    return p


def site_of(tmp_path: Path, url: str) -> Any:
    return load_site(site_file(tmp_path, url))


class Ledger:
    """The engine's ledger face on a real store: facts written at the clock's time, then the fact hooks told."""

    def __init__(self, store: Store, clock: Any) -> None:
        self.store, self.clock = store, clock
        self.hooks: list[Any] = []
        self.tasks: list[asyncio.Task[Any]] = []

    async def record(self, facts: list[Fact]) -> None:
        await self.store.append(facts, self.clock.now())
        for hook in self.hooks:
            hook(facts)

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        await self.record([Fact(kind, self.clock.now(), call_id, uniqueid, key, data)])

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]:  # fmt: skip
        return await self.store.facts(call_id, kinds, since)

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        return task

    async def settle(self) -> None:
        while self.tasks:
            await self.tasks.pop(0)


def fact(what: str, t: float, call: str, /, **data: Any) -> Fact:
    return Fact(what, t, call, call, f"{what}:{call}:{t}", data)


async def opened(url: str, tmp_path: Path, clock: Any, publish: Any = None) -> tuple[Any, Ledger, Store]:
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    ledger = Ledger(store, clock)
    cases = cases_of(site_of(tmp_path, url), ledger, store.engine, publish)
    ledger.hooks.append(cases.on_facts(ledger.spawn))
    return cases, ledger, store


def by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in rows}


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


async def a_day(ledger: Ledger) -> None:
    """A complaint left in the menu, a call back asked for, a poor survey; the complaining customer calls again
    the next day, the other before its call back (written in E.164) is made; then the call back connects."""
    await ledger.record([fact("channel.new", T0, "A", role="caller", caller=NUMBER),
                         fact("ivr.message", T0 + 30, "A", kind="complaint", ok=True, file="/m/case-A.wav",
                              seconds=12.5)])  # fmt: skip
    await ledger.record([fact("channel.new", T0 + 60, "B", role="caller", caller=OTHER),
                         fact("acd.callback", T0 + 90, "B", number="+86" + OTHER, service="hotline")])
    await ledger.record([fact("channel.new", T0 + 120, "C", role="caller", caller="13700137000"),
                         fact("ivr.survey", T0 + 400, "C", score=1, agent="1001")])  # fmt: skip
    await ledger.settle()
    await ledger.record([fact("channel.new", T0 + 86400, "D", role="caller", caller=NUMBER)])
    await ledger.record([fact("channel.new", T0 + 1800, "E", role="caller", caller=OTHER)])
    await ledger.record([fact("acd.callback_connected", T0 + 3600, "B", agent="1001", attempt=1, call="L")])
    await ledger.settle()


def test_cases_from_the_facts_a_follow_up_call_closes_its_case_and_the_rebuild_equals_the_table(store_url, tmp_path):
    async def main() -> None:
        cases, ledger, store = await opened(store_url, tmp_path, Clock(T0))
        try:
            await a_day(ledger)
            rows = await cases.store.rows()
            got = by_kind(rows)
            assert set(got) == {"complaint", "follow_up", "low_survey"}
            c = got["complaint"]
            assert (c["source"], c["number"], c["status"], c["team"]) == ("menu", E164, "open", "front")
            assert [(x["call"], x["what"]) for x in c["links"]] == [("A", "message"), ("D", "call")]
            assert c["due_at"] == at(2026, 3, 10)  # Mon 2 Mar + 5 working days: Tue 3 to Fri 6, Mon 9; to its end
            fu = got["follow_up"]
            assert (fu["status"], fu["resolved_at"], fu["resolution"]) == ("closed", T0 + 3600,
                                                                          "follow-up call connected")
            assert fu["due_at"] == at(2026, 3, 4)  # one working day: Tue 3 Mar, to its end
            assert [(x["call"], x["what"]) for x in fu["links"]] == [("B", "call"), ("E", "call"),
                                                                   ("B", "follow_up_call")]  # fmt: skip
            low = got["low_survey"]
            assert (low["owner"], low["team"], low["number"]) == ("1001", "front", "+8613700137000")
            # the same facts read again (a restart's catch-up): nothing new, nothing changed
            await cases.catch_up(T0 - 10)
            assert await cases.store.rows() == rows
            # the poor survey is looked into and resolved; its customer calls again two days later (a repeat
            # contact), then ten days later (no longer about it: repeat_days is 7)
            await cases.resolve(low["id"], "called, apologised", "lead1", T0 + 7200)
            await ledger.record([fact("channel.new", T0 + 2 * 86400, "F", role="caller", caller="13700137000")])
            await ledger.record([fact("channel.new", T0 + 10 * 86400, "G", role="caller", caller="13700137000")])
            await ledger.settle()
            again = await cases.store.get(low["id"])
            assert [(x["call"], x["what"]) for x in again["links"]] == [("C", "call"), ("F", "repeat")]
            assert again["status"] == "resolved"
            rows = await cases.store.rows()
            # the table made again from the ledger alone is the one kept as the facts came
            await cases.rebuild()
            assert await cases.store.rows() == rows
        finally:
            await store.close()

    asyncio.run(main())


def test_an_engine_that_was_away_catches_up_to_the_same_cases(tmp_path):
    async def kept(folder: Path, live: bool) -> list[dict[str, Any]]:
        folder.mkdir()
        cases, ledger, store = await opened(f"sqlite+aiosqlite:///{folder / 'store.db'}", folder, Clock(T0))
        try:
            if not live:
                ledger.hooks.clear()  # the engine was away: the facts are in the ledger, no case was touched
            await a_day(ledger)
            if not live:
                assert await cases.store.rows() == []
                await cases.catch_up(T0 - 10)
            return await cases.store.rows()
        finally:
            await store.close()

    async def main() -> None:
        as_they_came = await kept(tmp_path / "live", True)
        assert len(as_they_came) == 3
        assert await kept(tmp_path / "away", False) == as_they_came

    asyncio.run(main())


def test_a_campaigns_promise_and_an_after_sale_return_call_close_when_the_lead_is_reached(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"

    async def main() -> None:
        cases, ledger, store = await opened(url, tmp_path, Clock(T0))
        try:
            async with store.engine.begin() as conn:
                lead = (await conn.execute(leads.insert().values(campaign="spring", phone=OTHER, name="",
                                                                 imported_at=T0))).inserted_primary_key[0]  # fmt: skip
            promised = T0 + 7200
            await ledger.record([fact("outbound.disposition", T0, "d1", code="sale", label="Sale", lead=lead,
                                      agent="2001", campaign="spring"),
                                 fact("outbound.callback", T0 + 1, "d1", agent="2001", lead=lead, at=promised,
                                      own=True, campaign="spring")])  # fmt: skip
            await ledger.settle()
            got = {r["source"]: r for r in await cases.store.rows()}
            assert got["promised_callback"]["due_at"] == promised and got["promised_callback"]["number"] == OTHER_E164
            assert got["after_sale"]["due_at"] == at(2026, 3, 6)  # three working days after Mon 2 Mar
            assert got["after_sale"]["team"] == "sales"
            # a dial to another lead closes nothing; the dial to this lead connects late for the promise
            await ledger.record([fact("outbound.placed", T0 + 9000, "d2", lead=lead + 1),
                                 fact("outbound.connect", T0 + 9010, "d2", agent="2001"),
                                 fact("outbound.placed", T0 + 9100, "d3", lead=lead),
                                 fact("outbound.connect", T0 + 9110, "d3", agent="2001")])  # fmt: skip
            await ledger.settle()
            got = {r["source"]: r for r in await cases.store.rows()}
            assert {r["status"] for r in got.values()} == {"closed"}
            on_time = {f.data["case"]: f.data["on_time"] for f in await store.facts(None, ("case.resolved",))}
            assert on_time == {got["promised_callback"]["id"]: False, got["after_sale"]["id"]: True}
            rep = cases_report(await cases.store.rows(), at(2026, 3, 2), at(2026, 3, 9), SH, goal=0.6)
            assert (rep["follow_ups"]["follow_ups_due"], rep["follow_ups"]["follow_ups_done_on_time"]) == (2, 1)
        finally:
            await store.close()

    asyncio.run(main())


async def run_until(clock: VirtualClock, until: float, ledger: Ledger, limit: int = 2000) -> None:
    """Virtual time up to ``until`` (epoch), each wake-up's store work finished (real I/O) before the next."""
    for _ in range(limit):
        for _ in range(500):  # the watcher's store work is real I/O: wait until it sleeps on the clock again
            await asyncio.sleep(0.002)
            if clock.next_deadline() is not None:
                break
        await ledger.settle()
        nxt = clock.next_deadline()
        assert nxt is not None
        if clock.now() - clock.monotonic() + nxt > until:
            return
        clock.advance_to(nxt)
    raise AssertionError("virtual time did not get there")


def test_an_overdue_case_is_raised_once_on_the_engine_clock_and_once_on_the_team_page(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    clock = VirtualClock(start=at(2026, 3, 2, 9))
    told: list[Change] = []

    async def main() -> None:
        cases, ledger, store = await opened(url, tmp_path, clock, told.append)
        task = asyncio.create_task(watch(cases, clock))
        try:
            await ledger.record([fact("channel.new", clock.now(), "A", role="caller", caller=NUMBER),
                                 fact("acd.callback", clock.now(), "A", number=NUMBER)])  # fmt: skip
            await ledger.settle()
            (row,) = await cases.store.rows()
            assert row["due_at"] == at(2026, 3, 4)  # due by the end of Tue 3 Mar
            await run_until(clock, at(2026, 3, 3, 23, 59), ledger)
            assert told == [] and not await store.facts(None, ("case.overdue",))
            await run_until(clock, at(2026, 3, 6), ledger)  # two days past it, a check every 10 minutes
            overdue = await store.facts(None, ("case.overdue",))
            assert len(overdue) == 1 and at(2026, 3, 4) < overdue[0].at <= at(2026, 3, 4) + 600
            assert [(c.topic, c.key, c.data["overdue"], c.data["team"]) for c in told] == \
                [("case", row["id"], True, "front")]  # fmt: skip
            assert told[0].data["number"] == "**********8000"  # the bus never carries the number in full
            # the team page's alerts over what the bus said, with the engine's clock ticking: one alert raised
            book = AlertBook(WallboardSettings.of(site_of(tmp_path, url)["wallboard"]))
            events = book.change(told[0], clock.now())
            for k in range(30):
                events += book.tick(clock.now() + k)
            assert [(e.op, e.alert.kind, e.alert.key) for e in events] == [("raised", "case_overdue", row["id"])]
            # resolved by hand: the bus says so and the alert clears
            await cases.resolve(row["id"], "called back, sorted", "lead1", clock.now(), close=True)
            assert told[-1].data["overdue"] is False
            assert [e.op for e in book.change(told[-1], clock.now())] == ["cleared"]
            await run_until(clock, clock.now() + 3600, ledger)
            assert len(await store.facts(None, ("case.overdue",))) == 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await store.close()

    asyncio.run(main())


def test_closed_cases_lose_the_number_after_keep_days_and_still_count(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    clock = Clock(T0)

    async def main() -> None:
        cases, ledger, store = await opened(url, tmp_path, clock)
        try:
            await ledger.record([fact("channel.new", T0, "A", role="caller", caller=NUMBER),
                                 fact("ivr.message", T0 + 1, "A", kind="complaint", ok=True)])  # fmt: skip
            await ledger.settle()
            (row,) = await cases.store.rows()
            await cases.resolve(row["id"], "refunded", "1001", T0 + 100, close=True)
            assert await cases.purge(T0 + 29 * 86400) == []  # kept 30 days
            assert await cases.purge(T0 + 31 * 86400) == [row["id"]]
            (after,) = await cases.store.rows()
            assert (after["number"], after["note"], after["status"]) == ("", "", "closed")
            with pytest.raises(ValueError, match="purged"):
                await cases.move(row["id"], "open", "1001", T0 + 32 * 86400)
            rep = cases_report([after], at(2026, 3, 2), at(2026, 3, 3), SH)
            assert (rep["complaints"][0]["opened"], rep["complaints"][0]["resolved_on_time"]) == (1, 1)
            await cases.rebuild()
            assert await cases.store.rows() == [after]
        finally:
            await store.close()

    asyncio.run(main())


def test_an_agent_files_a_complaint_about_its_latest_call(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    clock = Clock(T0 + 600)

    async def main() -> None:
        cases, ledger, store = await opened(url, tmp_path, clock)
        try:
            with pytest.raises(ValueError, match="no call"):
                await cases.complaint("1001", "web", "", clock.now())
            await ledger.record([fact("channel.new", T0, "A", role="caller", caller=OTHER),
                                 fact("agent.offer", T0 + 5, "A", agent="1001", leg="L1"),
                                 fact("channel.new", T0 + 200, "B", role="caller", caller=NUMBER),
                                 fact("agent.offer", T0 + 205, "B", agent="1001", leg="L2")])  # fmt: skip
            await ledger.settle()
            said = await cases.complaint("1001", "phone", "rude reply about the bill", clock.now())
            (row,) = await cases.store.rows()
            assert said == f"complaint case {row['id']} opened, due 2026-03-09"
            assert (row["call_id"], row["number"], row["source"], row["owner"]) == ("B", E164, "feature_code", "1001")
            with pytest.raises(ValueError, match="already"):
                await cases.complaint("1001", "web", "", clock.now())
        finally:
            await store.close()

    asyncio.run(main())


def test_the_cases_commands(tmp_path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    site = str(site_file(tmp_path, url))

    async def seed() -> str:
        cases, ledger, store = await opened(url, tmp_path, Clock(T0))
        try:
            await ledger.record([fact("channel.new", T0, "A", role="caller", caller=NUMBER),
                                 fact("ivr.message", T0 + 1, "A", kind="complaint", ok=True)])  # fmt: skip
            await ledger.settle()
            return (await cases.store.rows())[0]["id"]
        finally:
            await store.close()

    case_id = asyncio.run(seed())
    assert cli_main(["cases", "list", "--site", site, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == case_id and listed["number"] == "**********8000"
    assert cli_main(["cases", "assign", case_id, "1001", "--by", "lead1", "--site", site, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["owner"]) == ("in_progress", "1001")
    assert [f["fact"] for f in shown["facts"]] == ["case.opened", "case.linked", "case.assigned", "case.status"]
    with pytest.raises(SystemExit) as out:
        cli_main(["cases", "assign", case_id, "9999", "--site", site])
    assert out.value.code == 2 and "no agent '9999'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as out:
        cli_main(["cases", "show", "nope", "--site", site])
    assert out.value.code == 2 and "no case 'nope'" in capsys.readouterr().err
    assert cli_main(["cases", "resolve", case_id, "refunded", "--close", "--site", site, "--numbers", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["status"], done["resolution"], done["number"]) == ("closed", "refunded", E164)
    with pytest.raises(SystemExit) as out:
        cli_main(["cases", "resolve", case_id, "again", "--site", site])
    assert out.value.code == 2 and "closed: it cannot become resolved" in capsys.readouterr().err
    with pytest.raises(SystemExit) as out:
        cli_main(["cases", "assign", case_id, "2001", "--site", site])
    assert out.value.code == 2 and "closed: reopen it first" in capsys.readouterr().err
    assert cli_main(["cases", "reopen", case_id, "--why", "the refund never came", "--site", site, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["status"], again["resolved_at"], again["closed_at"]) == ("open", None, None)
    assert again["facts"][-1]["why"] == "the refund never came"
    with pytest.raises(SystemExit) as out:
        cli_main(["cases", "close", case_id, "--site", site])
    assert out.value.code == 2 and "open: it cannot become closed" in capsys.readouterr().err
    assert cli_main(["cases", "list", "--status", "open", "--site", site]) == 0
    assert case_id in capsys.readouterr().out


def test_the_engine_keeps_cases_an_agents_complaint_and_the_customers_next_call(tmp_path):
    """Wired by the composition root on the virtual PBX: the agent's complaint (the service API, as its page and
    *30 send it) opens a case on the caller's number, and the same caller's next call is linked to it."""
    from composition import running
    from engine.clock import ScaledClock
    from engine.policy import Actor, Role
    from engine.service_api import Request
    from sim.pbx.model import CalleeBehavior, CallerScript
    from sim.pbx.server import VirtualPbxServer

    lab_site = Path(__file__).resolve().parent.parent / "examples" / "lab-site.toml"

    async def main() -> None:
        clock = ScaledClock(10.0)
        server = VirtualPbxServer(clock, tmp_path)
        await server.start()
        site = server.engine_site(load_site(lab_site), tmp_path / "e.db")
        server.pbx.endpoints["agent1001"] = CalleeBehavior("answer", 1.0)
        try:
            async with running(site, clock=clock) as eng:
                server.agi.port = eng.agi.port

                async def calls_done(n: int) -> None:
                    for _ in range(2400):  # 2 min real: only keeps a hang from hanging the suite
                        await asyncio.sleep(0.05)
                        if len(await eng.store.records()) == n and not server.pbx.channels:
                            return
                    raise AssertionError("the calls did not end")

                server.pbx.inbound(CallerScript(caller=NUMBER, digits=[(1.0, "1")], talk=5.0))
                await calls_done(1)
                out = await eng.features["api"].do(Actor("1001", Role.AGENT, via="web"),
                                                   Request("complaint", "1001", "asked for a manager"))  # fmt: skip
                assert out.ok, out.text
                server.pbx.inbound(CallerScript(caller=NUMBER, digits=[(1.0, "1")], talk=3.0))
                await calls_done(2)
                for _ in range(100):  # the link is written by a task of the fact hook's
                    (row,) = await eng.features["cases"].store.rows()
                    if len(row["links"]) == 2:
                        break
                    await asyncio.sleep(0.05)
                first, second = sorted(await eng.store.records(), key=lambda r: r["arrived_at"])
                assert (row["kind"], row["source"], row["owner"], row["number"]) == ("complaint", "agent_page",
                                                                                     "1001", E164)  # fmt: skip
                assert [x["call"] for x in row["links"]] == [first["call_id"], second["call_id"]]
                assert out.text == f"complaint case {row['id']} opened, due " + \
                    dt.datetime.fromtimestamp(row["due_at"] - 1, SH).strftime("%Y-%m-%d")  # fmt: skip
        finally:
            await server.close()

    asyncio.run(main())


def test_hotline_report_cases_counts_a_days_complaint_follow_up_and_survey(tmp_path, capsys):
    """`hotline report cases` on the store a_day leaves: the complaint opened Monday 2 March and due at the end of
    Monday 9 March is open every day after and overdue from the 10th; the call back due at the end of Tuesday 3
    March was done on Monday, on time; the low survey is counted; only the resolved follow-up counts for FCR."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    site = str(site_file(tmp_path, url))

    async def seed() -> None:
        _cases, ledger, store = await opened(url, tmp_path, Clock(T0))
        try:
            await a_day(ledger)
        finally:
            await store.close()

    asyncio.run(seed())
    out = tmp_path / "cases.json"
    assert cli_main(["report", "cases", "--site", site, "--from", "2026-03-02", "--to", "2026-03-10",
                     "--json", str(out)]) == 0  # fmt: skip
    assert "first-contact resolution" in capsys.readouterr().out
    r = json.loads(out.read_text())
    days = {row["period"]: row for row in r["rows"]}
    assert len(days) == 9
    assert (days["2026-03-02"]["opened"], days["2026-03-02"]["by_source"]) == (1, {"menu": 1})
    assert [days[d]["open"] for d in sorted(days)] == [1] * 9
    assert [days[d]["overdue"] for d in sorted(days)] == [0] * 8 + [1]
    assert [d for d, row in days.items() if row["follow_ups_due"]] == ["2026-03-03"]
    assert (r["total"]["follow_ups_due"], r["total"]["follow_ups_done_on_time"], r["total"]["follow_up_rate"]) == (
        1, 1, 1.0)
    assert (r["low_survey_opened"], r["cases_resolved"], r["repeat_contacts"]) == (1, 1, 0)
    # a team's cases only: team sales has none of them
    assert cli_main(["report", "cases", "--site", site, "--from", "2026-03-02", "--team", "sales",
                     "--json", str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_text())["total"]["opened"] == 0
