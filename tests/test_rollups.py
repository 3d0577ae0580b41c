"""The reports' rollups on both real stores: rows kept up to date while a seeded two days of facts arrive in
batches (calls derived into records by the store, as the engine does) equal the rows of a rebuild, and both equal
the bucket rows ``reports.buckets`` counts in one go from the whole ledger; the local days equal those rows summed
per day; the SQL query layer's sums equal the same rows folded in Python."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.model.facts import Fact
from engine.store.store import Store, migrate
from engine.store.tables import grades, report_agent_days, report_buckets, report_days
from reports import agent_report, service_report
from reports.buckets import Bucket, SiteRules, buckets, interval_of
from reports.fold import Filter
from reports.rollup_plan import days, offsets, period_start
from reports.rollup_query import RollupQuery
from reports.rollup_reads import COUNTED
from reports.rollups import Rollups, ZoneChanged

T0 = 1_800_003_600.0  # a Tuesday morning in Shanghai
ZONE = "Asia/Shanghai"
RULES = SiteRules(sl_targets={"hotline": 15.0, "sales": 20.0})


def _f(kind: str, at: float, call_id: str = "", uid: str = "", **data: Any) -> Fact:
    return Fact(kind, round(at, 3), call_id, uid or call_id, f"{kind}:{call_id}:{uid}:{at:.3f}:{data.get('agent', '')}",
                data)  # fmt: skip


def inbound(cid: str, q: float, agent: str, service: str, wait: float, talk: float, wrap: float,
            answered: bool) -> list[Fact]:  # fmt: skip
    """A caller's call as the engine writes it: arrival, queue, then an agent's answer or the caller's hang-up."""
    leg = f"{cid}-a"
    out = [_f("channel.new", q - 20, cid, cid, role="caller", caller="13800000001", exten="4001"),
           _f("channel.up", q - 19, cid, cid), _f("call.queued", q, cid, cid, service=service)]  # fmt: skip
    if answered:
        c = q + wait
        out += [_f("route.decision", c - 4, cid, cid, agent=agent, step=int(wait > 20), service=service),
                _f("agent.offer", c - 4, cid, leg, agent=agent, leg=leg, service=service),
                _f("channel.up", c - 0.5, cid, leg), _f("bridge.enter", c - 0.2, cid, cid, bridge="b"),
                _f("bridge.enter", c, cid, leg, bridge="b"), _f("channel.hangup", c + talk, cid, cid),
                _f("call.end", c + talk + 0.5, cid, cid),
                _f("agent.wrap_up", c + talk + wrap, cid, "", agent=agent, seconds=wrap, began=c + talk)]  # fmt: skip
    else:
        out += [_f("hangup.request", q + wait, cid, cid), _f("channel.hangup", q + wait, cid, cid),
                _f("call.end", q + wait + 0.5, cid, cid)]  # fmt: skip
    return out


def status(agent: str, at: float, action: str, st: str, reason: str = "") -> Fact:
    return _f("agent.status", at, agent=agent, action=action, status=st, reason=reason, state="idle")


def two_days(seed: int) -> tuple[list[Fact], list[dict[str, Any]]]:
    """Inbound agents A and B, campaign agent C, over two days; calls that cross interval bounds, pauses, a
    session left up overnight, surveys, the guard, overflow, grades made the next day."""
    rnd = random.Random(seed)
    facts: list[Fact] = []
    grade_rows: list[dict[str, Any]] = []
    for day in range(2):
        base = T0 + day * 86400
        for agent in ("A", "B"):
            facts += [status(agent, base + rnd.uniform(0, 600), "login", "available"),
                      status(agent, base + 3 * 3600 + rnd.uniform(0, 900), "pause", "paused",
                             rnd.choice(["lunch", "break"])),
                      status(agent, base + 4 * 3600, "resume", "available"),
                      status(agent, base + 8 * 3600 + rnd.uniform(0, 900), "logout", "logged_out")]  # fmt: skip
        if day == 0:
            facts.append(_f("dialer.session", base + 300, "s-C", agent="C", campaign="renew", state="up"))
        for n in range(40):
            cid = f"c{day}-{n}"
            q = base + 900 + n * 620 + rnd.uniform(0, 300)
            agent, answered = rnd.choice("AB"), rnd.random() < 0.8
            service = rnd.choice(["hotline", "hotline", "sales"])
            wait = rnd.uniform(2, 40)
            facts += inbound(cid, q, agent, service, wait, rnd.uniform(30, 1500), rnd.uniform(0, 60), answered)
            if answered and rnd.random() < 0.5:
                facts.append(_f("ivr.survey", q + wait + 1600, cid, cid, agent=agent, score=rnd.randint(1, 5)))
            if answered and rnd.random() < 0.3:
                g = {"id": f"g-{cid}", "recording": cid, "call_id": cid, "agent": agent, "form": "f", "form_hash": "h",
                     "grader": "qa", "grader_role": "qa", "version": 1, "answers": {}, "marks": [], "score": 60.0 + n,
                     "critical_failed": [], "created_at": base + 86400 + n}  # fmt: skip
                grade_rows.append(g)
                facts.append(_f("qa.graded", g["created_at"], cid, "", grade=g["id"]))
        for n in range(60):
            did, at = f"d{day}-{n}", base + 400 + n * 450 + rnd.uniform(0, 100)
            facts += [_f("outbound.placed", at, did, campaign="renew", lead=n, rule="us"),
                      _f("outbound.result", at + 20, did, campaign="renew", outcome=rnd.choice(["answered", "busy"]))]
            if rnd.random() < 0.5:
                talk = rnd.uniform(20, 1200)
                facts += [_f("outbound.verdict", at + 15, did, campaign="renew", amd="HUMAN", rule="us"),
                          _f("outbound.connect", at + 16, did, campaign="renew", agent="C", after_greeting=1.0),
                          _f("outbound.talk_end", at + 16 + talk, did, campaign="renew", agent="C", talk=talk),
                          _f("outbound.disposition", at + 20 + talk, did, campaign="renew", agent="C", code="1",
                             label=rnd.choice(["sale", "no sale"]))]  # fmt: skip
        facts += [_f("acd.guard", base + 5000, agent="C", action="reserve", service="hotline"),
                  _f("ivr.overflow", base + 7000, f"o{day}", f"o{day}")]
    facts.append(_f("agent.paused", T0 + 86400 + 5 * 3600, agent="B", reason="missed"))
    facts.append(_f("dialer.session", T0 + 86400 + 9 * 3600, "s-C", agent="C", campaign="renew", state="down"))
    facts.sort(key=lambda f: (f.at, f.key))
    return facts, grade_rows


async def _rows(store: Store, table: Any) -> list[Bucket]:
    async with store.engine.connect() as conn:
        got = (await conn.execute(select(table).order_by(*table.primary_key.columns))).mappings().all()
    return [Bucket.from_row(r) for r in got]


async def _feed(store: Store, facts: list[Fact], grade_rows: list[dict[str, Any]], done: set[str]) -> None:
    """Write facts as the engine does: the facts, then the records of the calls they end, then the grades."""
    await store.append(facts, facts[-1].at)
    for f in facts:
        if f.kind in ("call.end", "agent.wrap_up"):
            await store.update_record(f.call_id)
    ids = {f.data["grade"] for f in facts if f.kind == "qa.graded"}
    rows = [g for g in grade_rows if g["id"] in ids and g["id"] not in done]
    if rows:
        async with store.engine.begin() as conn:
            await conn.execute(grades.insert(), rows)
        done.update(g["id"] for g in rows)


def _local(at: int, interval: str) -> int:
    """The local start of ``at``'s quarter hour, hour or day in Shanghai."""
    t = dt.datetime.fromtimestamp(at, ZoneInfo(ZONE))
    t = t if interval == "15m" else t.replace(minute=0) if interval == "1h" else t.replace(hour=0, minute=0)
    return int(t.timestamp())


def _same(got: list[Bucket], want: dict[tuple[Any, ...], Bucket]) -> None:
    def flat(b: Bucket) -> dict[str, Any]:
        row = b.as_row()
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}

    assert {b.key: flat(b) for b in got} == {b.key: flat(b) for b in want.values()}


def _only(b: Bucket, reads: tuple[str, ...]) -> Bucket:
    """``b`` with the fields a report does not read at their defaults, as its view gives them."""
    return Bucket(**{f.name: getattr(b, f.name) for f in dataclasses.fields(Bucket)
                     if f.name in reads or f.name in ("start", "service", "agent", "campaign")})  # fmt: skip


async def _query(store: Store, want: list[Bucket], start: int, end: int) -> None:
    """The query layer's SQL sums equal the stored rows folded here per period and kept keys."""
    q = RollupQuery(store.engine, ZONE, "hotline")
    for interval in ("15m", "1h", "1d"):
        folded: dict[tuple[Any, ...], Bucket] = {}
        for b in want:
            k = (_local(b.start, interval), b.service, b.agent, b.campaign)
            c = dataclasses.replace(b, start=k[0])
            folded[k] = folded[k].add(c) if k in folded else c
        _same(await q.rows(start, end, interval), folded)
    by_agent: dict[tuple[Any, ...], Bucket] = {}
    for b in want:
        if b.agent:
            k = (_local(b.start, "1d"), b.agent)
            c = dataclasses.replace(b, start=k[0], service="", campaign="")
            by_agent[k] = by_agent[k].add(c) if k in by_agent else c
    _same(await q.rows(start, end, "1d", "agents"), {k: _only(b, agent_report.READS) for k, b in by_agent.items()})
    assert sum(b.pause_s.get("lunch", 0) for b in by_agent.values()) > 0
    # a query's filter in SQL: one agent's rows, with the calls of one service and its time outside any service
    one = sorted({k[1] for k in by_agent})[0]
    mine: dict[tuple[Any, ...], Bucket] = {}
    for b in want:
        if b.agent == one and b.service in ("hotline", ""):
            k = (_local(b.start, "1d"), b.agent)
            c = dataclasses.replace(b, start=k[0], service="", campaign="")
            mine[k] = mine[k].add(c) if k in mine else c
    flt = Filter(agents=frozenset({one}), services=frozenset({"hotline"}))
    assert mine and mine != {k: v for k, v in by_agent.items() if k[1] == one}, "the service filter left calls out"
    _same(await q.rows(start, end, "1d", "agents", flt), {k: _only(b, agent_report.READS) for k, b in mine.items()})
    calls: dict[tuple[Any, ...], Bucket] = {}
    for b in want:
        if b.service and (b.arrived or b.offered):
            k = (_local(b.start, "1h"), b.service)
            c = dataclasses.replace(b, start=k[0], agent="", campaign="")
            calls[k] = calls[k].add(c) if k in calls else c
    _same(await q.rows(start, end, "1h", "services"), {k: _only(b, service_report.READS) for k, b in calls.items()})


async def _check(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        facts, grade_rows = two_days(7)
        roll = Rollups(store.engine, RULES, ZONE)
        cuts = sorted(random.Random(3).sample(range(1, len(facts)), 6))
        done: set[str] = set()
        for a, b in zip([0, *cuts], [*cuts, len(facts)], strict=True):
            await _feed(store, facts[a:b], grade_rows, done)
            assert await roll.refresh() > 0
        kept, kept_days = await _rows(store, report_buckets), await _rows(store, report_days)
        kept_agents = await _rows(store, report_agent_days)
        assert await roll.refresh() == 0, "nothing new: nothing counted"

        # straight from the whole ledger in one count, independent of the rollups' reads
        records = await store.records()
        counted = [f for f in await store.facts() if f.kind in COUNTED]
        start, end = interval_of(facts[0].at), facts[-1].at + 0.001  # counted up to the newest fact
        want = buckets(records, counted, RULES, start, end, grade_rows)
        assert len(want) > 300
        assert kept == want
        days_by_add: dict[tuple[Any, ...], Bucket] = {}
        for b in want:  # summed per Shanghai day with the buckets' own merge
            c = dataclasses.replace(b, start=_local(b.start, "1d"))
            days_by_add[c.key] = days_by_add[c.key].add(c) if c.key in days_by_add else c
        assert kept_days == [days_by_add[k] for k in sorted(days_by_add)]
        assert all((b.start + 8 * 3600) % 86400 == 0 for b in kept_days), "days begin at Shanghai's midnight"
        assert len({b.start for b in kept_days}) == 3  # the calls' two days and the grades' third
        agent_days: dict[tuple[Any, ...], Bucket] = {}
        for b in kept_days:  # each agent's day over every service and campaign, with the buckets' own merge
            if b.agent:
                c = dataclasses.replace(b, service="", campaign="")
                agent_days[c.key] = agent_days[c.key].add(c) if c.key in agent_days else c
        assert len({b.agent for b in kept_agents}) == 3 and len(kept_agents) < len([b for b in kept_days if b.agent])
        assert kept_agents == [agent_days[k] for k in sorted(agent_days)]

        await _query(store, want, _local(start, "1d"), _local(int(end), "1d") + 86400)

        assert await roll.rebuild() == len(want)
        assert await _rows(store, report_buckets) == want
        assert await _rows(store, report_days) == kept_days
        assert await _rows(store, report_agent_days) == kept_agents
        st = await roll.status()
        assert (st.rows, st.ledger_id, st.horizon, st.timezone) == (len(want), st.newest_fact, end, ZONE)
    finally:
        await store.close()


def test_rollups_kept_as_facts_arrive_equal_a_rebuild_and_a_count_of_the_whole_ledger(store_url: str) -> None:
    asyncio.run(_check(store_url))


async def _moved(url: str) -> None:
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        facts, _ = two_days(1)
        await store.append(facts[:50], T0)
        roll = Rollups(store.engine, RULES, ZONE)
        await roll.refresh()
        with pytest.raises(ZoneChanged, match="Asia/Tokyo"):
            await Rollups(store.engine, RULES, "Asia/Tokyo").refresh()
    finally:
        await store.close()


def test_a_changed_timezone_asks_for_a_rebuild(tmp_path) -> None:
    asyncio.run(_moved(f"sqlite+aiosqlite:///{tmp_path / 's.db'}"))


async def _held(url: str) -> None:
    """A caller's call whose end is written but whose record is not derived yet holds the watermark before the end
    (the next refresh counts the call once its record is there); an outbound dial's end, which never gets one,
    does not."""
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        roll = Rollups(store.engine, RULES, ZONE)
        dial = [_f("outbound.placed", T0, "d1", campaign="renew", lead=1), _f("call.end", T0 + 30, "d1", "d1")]
        await store.append(dial, T0)
        await roll.refresh()
        assert (await roll.status()).ledger_id == (await roll.status()).newest_fact
        call = inbound("c1", T0 + 100, "A", "hotline", 5, 60, 0, True)
        await store.append(call, T0)  # its record is not derived yet
        await roll.refresh()
        st = await roll.status()
        assert st.ledger_id < st.newest_fact
        assert not [b for b in await _rows(store, report_buckets) if b.answered], "no record: nothing counted yet"
        await store.update_record("c1")
        await roll.refresh()
        got = [b for b in await _rows(store, report_buckets) if b.answered]
        assert [(b.service, b.agent, b.answered) for b in got] == [("hotline", "A", 1)]
        assert (await roll.status()).ledger_id == (await roll.status()).newest_fact
    finally:
        await store.close()


def test_a_call_ended_without_its_record_yet_is_counted_once_the_record_is_there(tmp_path) -> None:
    asyncio.run(_held(f"sqlite+aiosqlite:///{tmp_path / 's.db'}"))


def test_local_periods_across_a_daylight_saving_change() -> None:
    """New York's 2027 spring change (March 14, 2:00 local, UTC-5 to UTC-4): the offsets piece by piece, local days
    of 23 and 24 hours, and period numbers back to their local starts."""
    ny = ZoneInfo("America/New_York")
    mar13 = int(dt.datetime(2027, 3, 13, tzinfo=ny).timestamp())
    change = int(dt.datetime(2027, 3, 14, 3, tzinfo=ny).timestamp())  # 2:00 EST is 3:00 EDT
    assert offsets(mar13, mar13 + 3 * 86400, ny) == [(change, -5 * 3600), (0, -4 * 3600)]
    spans = days([(mar13, mar13 + 2 * 86400)], ny)
    assert [(b - a) / 3600 for a, b in spans] == [24, 23, 24]
    mar14 = spans[1][0]
    assert (mar14 + -5 * 3600) // 86400 == (change + 3600 + -4 * 3600) // 86400, "both sides of the change: one day"
    assert period_start((mar14 - 5 * 3600) // 86400, 86400, ny) == mar14
    assert period_start((change - 4 * 3600) // 3600, 3600, ny) == change


def test_a_view_reading_a_field_buckets_lack_is_refused_at_once():
    import pytest

    from reports.rollup_query import View, views

    # the reports' own load
    assert set(views("hotline")) == {"agents", "sales", "campaigns", "services", "hotline", "all"}
    with pytest.raises(ValueError, match="talk_summ"):
        View(("agent",), lambda t: t.c.agent != "", True, ("agent", "talk_summ"))


async def _migrated(url: str) -> None:
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    from engine.store import store as store_module

    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        facts, grade_rows = two_days(5)
        await _feed(store, facts, grade_rows, set())
        await Rollups(store.engine, RULES, ZONE).rebuild()
        kept = await _rows(store, report_agent_days)
    finally:
        await store.close()
    assert len(kept) > 3
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    await asyncio.to_thread(command.downgrade, cfg, "0016")  # a store from before the agent-day table
    await asyncio.to_thread(command.upgrade, cfg, "head")
    store = Store(url)
    try:
        assert await _rows(store, report_agent_days) == kept, "the migration sums the day rows as the rollups do"
    finally:
        await store.close()


def test_the_migration_fills_the_agent_days_from_the_day_rows_already_counted(store_url: str) -> None:
    asyncio.run(_migrated(store_url))
