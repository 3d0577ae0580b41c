"""The reports folded from hand-built buckets (tests/test_report_buckets.py's timeline: its comments give every
second), periods in the site's timezone, and the store's reads on SQLite and PostgreSQL. Expected figures are
worked out by hand from that timeline."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from engine.cli.report import days
from engine.config import load_site
from engine.model.facts import Fact
from engine.store.store import Store, migrate
from reports.agent_report import agents_report
from reports.buckets import buckets
from reports.campaign_report import campaigns_report
from reports.fold import Filter, Periods, day_range
from reports.formulas import FORMULAS
from reports.hotline_report import hotline_report
from reports.service_report import abandoned_calls, services_report
from reports.services import Reports
from reports.store import ReportStore
from tests.test_report_buckets import FACTS, GRADES, RECORDS, RULES, S

UTC = ZoneInfo("UTC")
DAY = Periods("1d", UTC)
ROWS = buckets(RECORDS, FACTS, RULES, S, S + 1800, GRADES)


def test_services_report_by_day():
    got = services_report(ROWS, DAY, Filter(), abandoned_calls(RECORDS, RULES, DAY, S, S + 1800, None))
    rows = {r["service"]: r for r in got["rows"]}
    h = rows["hotline"]
    # c1, c2 answered (waits 12 and 30; c1 within 15), c3 short, c4 abandoned after 40 s, c7 a call back
    assert (h["offered"], h["answered"], h["abandoned"], h["short_abandoned"], h["other"]) == (5, 2, 1, 1, 1)
    assert h["asa"] == 21.0 and h["aht"] == 92.5 and h["longest_wait"] == 60.0
    assert h["service_level"] == round(1 / 3, 4) and h["abandon_rate"] == round(1 / 3, 4)
    assert rows["sales"]["service_level"] == 1.0  # 18 s within its own 20 s
    assert got["total"]["offered"] == 6
    assert [(a["call_id"], a["short"], a["caller"]) for a in got["abandoned_calls"]] == [
        ("c3", True, "*******0000"), ("c4", False, "*******0000")]  # fmt: skip
    only_sales = services_report(ROWS, DAY, Filter(services=frozenset({"sales"})), [])
    assert [r["service"] for r in only_sales["rows"]] == ["sales"]


def test_agents_report_by_day():
    got = agents_report(ROWS, DAY, Filter(), {"A": "Ann"})
    a = next(r for r in got["rows"] if r["agent"] == "A")
    assert (a["name"], a["inbound_calls"], a["logged_in"], a["pause"]) == ("Ann", 2, 1200, {"lunch": 300})
    assert a["occupancy"] == round(190 / (190 + 710), 4)  # busy 130 + 60; available 470 + 240
    assert (a["csat"], a["csat_top2"], a["qa_score"]) == (5.0, 1.0, 80.0)
    assert a["last_logout"] == dt.datetime.fromtimestamp(S + 1200, UTC).strftime("%Y-%m-%d %H:%M:%S")
    c = next(r for r in got["rows"] if r["agent"] == "C")
    assert (c["outbound_conversations"], c["outbound_talk"], c["dispositions"]) == (1, 100, {"sale": 1})
    sales = agents_report(ROWS, DAY, Filter(agents=frozenset({"A"}), services=frozenset({"sales"})), {})
    assert [(r["agent"], r["inbound_calls"], r["logged_in"]) for r in sales["rows"]] == [("A", 1, 1200)]


def test_agents_report_counts_the_follow_ups_an_agent_owns_by_the_day_they_fall_due():
    midnight = S - S % 86400 + 86400  # the end of the timeline's day (UTC)
    cases = [
        {"kind": "follow_up", "owner": "A", "due_at": midnight, "resolved_at": midnight - 60},  # due that day, on time
        {"kind": "follow_up", "owner": "A", "due_at": midnight, "resolved_at": midnight + 60},  # done late
        {"kind": "follow_up", "owner": "D", "due_at": midnight, "resolved_at": None},  # an owner with no time here
        {"kind": "follow_up", "owner": "A", "due_at": midnight + 86400, "resolved_at": None},  # the next day
        {"kind": "complaint", "owner": "A", "due_at": midnight, "resolved_at": None},  # not a follow-up
    ]
    got = agents_report(ROWS, DAY, Filter(), {}, cases)
    by = {(r["period"], r["agent"]): (r["follow_ups_due"], r["follow_ups_on_time"]) for r in got["rows"]}
    day = dt.datetime.fromtimestamp(S, UTC).strftime("%Y-%m-%d")
    after = dt.datetime.fromtimestamp(midnight, UTC).strftime("%Y-%m-%d")
    assert by[(day, "A")] == (2, 1) and by[(day, "D")] == (1, 0) and by[(after, "A")] == (1, 0)
    assert (got["total"]["follow_ups_due"], got["total"]["follow_ups_on_time"]) == (4, 1)
    # a team's report counts its own agents' follow-ups only
    only_a = agents_report(ROWS, DAY, Filter(agents=frozenset({"A"})), {}, cases)
    assert only_a["total"]["follow_ups_due"] == 3


def test_hotline_sheet_and_campaigns():
    got = hotline_report(ROWS, DAY, "hotline")
    t = got["total"]
    # c1 rang 8 s, c2 20 s; c1 was routed at rule step 1; one guard hold, one caller over the limit; c2 by a lent agent
    assert (t["ring_3"], t["overflowed"], t["guard_reserves"], t["over_limit"], t["lent"]) == (0.5, 1, 1, 1, 1)
    assert (t["surveys"], t["satisfaction"], t["satisfaction_met"]) == (2, 50.0, False)  # a 5 and a 3
    camp = campaigns_report(ROWS, DAY, Filter(), {"renew": "sales-team"}, fp_share=0.0)
    r = camp["rows"][0]
    assert (r["team"], r["dials"], r["machines"], r["conversations"], r["live"]) == ("sales-team", 2, 1, 1, 1)
    assert (r["abandon_rate_us"], r["dispositions"]) == (0.0, {"sale": 1})
    assert camp["teams"][0]["dials"] == 2


def test_every_figure_has_a_formula():
    keys = {"period", "service", "agent", "name", "team", "campaign"}
    for got in (services_report(ROWS, DAY, Filter(), []), agents_report(ROWS, DAY, Filter(), {}),
                hotline_report(ROWS, DAY, "hotline"), campaigns_report(ROWS, DAY, Filter(), {})):  # fmt: skip
        assert set(got["columns"]) - keys <= set(got["formulas"]), got["columns"]
    assert FORMULAS["aht"].startswith("(talk + hold + wrap-up)")


def test_periods_follow_the_site_timezone():
    kathmandu = ZoneInfo("Asia/Kathmandu")  # 5:45 ahead of UTC: its hours are not UTC's
    at = dt.datetime(2027, 3, 5, 10, 30, tzinfo=kathmandu)
    start = int(at.timestamp()) // 900 * 900
    assert dt.datetime.fromtimestamp(Periods("1h", kathmandu).start_of(start), kathmandu) == at.replace(minute=0)
    midnight = at.replace(hour=0, minute=0)
    assert dt.datetime.fromtimestamp(Periods("1d", kathmandu).start_of(start), kathmandu) == midnight
    a, b = day_range(dt.date(2027, 3, 5), dt.date(2027, 3, 6), ZoneInfo("Asia/Shanghai"))
    assert b - a == 2 * 86400 and dt.datetime.fromtimestamp(a, ZoneInfo("Asia/Shanghai")).hour == 0


def test_default_days():
    today = dt.date(2027, 1, 10)
    assert days(today, None, None) == (today, today)
    assert days(today, dt.date(2027, 1, 1), None) == (dt.date(2027, 1, 1), today)
    assert days(today, None, dt.date(2027, 1, 5)) == (dt.date(2027, 1, 5), dt.date(2027, 1, 5))
    assert days(today, dt.date(2027, 2, 1), None) == (dt.date(2027, 2, 1), dt.date(2027, 2, 1))


def queued_call(c: str, at: float, agent: str | None, caller: str = "13800000001") -> list[Fact]:
    """A caller queued 5 s after arriving; answered by ``agent`` after a 3 s ring and talking 60 s, or (no agent)
    hanging up after 20 s of waiting."""
    out = [Fact("channel.new", at, c, c, f"channel.new:{c}", {"role": "caller", "caller": caller,
                                                               "exten": "4001234567"}),
           Fact("channel.up", at + 1, c, c, f"channel.up:{c}", {}),
           Fact("call.queued", at + 5, c, c, f"call.queued:{c}", {"service": "hotline", "digit": "1"})]  # fmt: skip
    if agent is not None:
        a = f"{c}-a"
        out += [Fact("agent.offer", at + 6, c, a, f"agent.offer:{a}", {"agent": agent, "leg": a}),
                Fact("channel.up", at + 9, c, a, f"channel.up:{a}", {}),
                Fact("bridge.enter", at + 9, c, c, f"bridge.enter:{c}", {}),
                Fact("bridge.enter", at + 9, c, a, f"bridge.enter:{a}", {}),
                Fact("hangup.request", at + 69, c, c, f"hangup.request:{c}", {}),
                Fact("channel.hangup", at + 69, c, c, f"channel.hangup:{c}", {})]  # fmt: skip
    else:
        out += [Fact("hangup.request", at + 25, c, c, f"hangup.request:{c}", {}),
                Fact("channel.hangup", at + 25, c, c, f"channel.hangup:{c}", {})]  # fmt: skip
    return [*out, Fact("call.end", out[-1].at, c, c, f"call.end:{c}", {})]


def test_the_store_reads_on_both_stores(store_url, tmp_path):
    async def go() -> None:
        await asyncio.to_thread(migrate, store_url)
        st = Store(store_url)
        try:
            login = Fact("agent.status", S - 3600, "", "", "agent.status:1001:login", {"agent": "1001",
                         "action": "login", "status": "available", "reason": "", "state": "idle"})  # fmt: skip
            await st.append([login, *queued_call("k1", S + 100, "1001"), *queued_call("k2", S + 400, None),
                             *queued_call("k0", S - 2000, "1001")], S + 1000)  # fmt: skip
            # a console user added later (on the wall clock, engine or not) says nothing of the agents' time
            await st.append([Fact("user.added", S + 800, "", "", "user.added:lead1", {"user": "lead1"})], S + 800)
            await st.rebuild_records()
            rs = ReportStore(st.engine)
            newest = await rs.newest(S + 900)
            assert newest == S + 425  # k2's end
            facts = await rs.facts(S, newest + 0.001)
            assert [f.kind for f in facts] == ["agent.status"], "the status before the range, nothing else asked"
            # grades made in the range: one of k0 (its record lies before the range), one of a call without a record
            async with st.engine.begin() as conn:
                for gid, call in (("g0", "k0"), ("gx", "out-1")):
                    await conn.execute(text(
                        "INSERT INTO grades (id, recording, call_id, agent, form, form_hash, grader, grader_role, "
                        "version, reason, answers, comments, marks, score, critical_failed, blind, created_at) VALUES "
                        f"('{gid}', '{call}', '{call}', '1001', 'f', 'h', 'qa1', 'qa', 1, '', '{{}}', '', '[]', 90, "
                        f"'[]', false, {S + 500})"))  # fmt: skip
            assert {g["id"]: bool(g["recorded"]) for g in await rs.grades(S)} == {"g0": True, "gx": False}
            # counted straight, the range holds the grade of the call without a record, not k0's (k0's interval has it)
            site = tmp_path / "site.toml"
            site.write_text('[site]\nname = "t"\n[asterisk]\nlab = true\n[hotline]\nnumber = "400"\nagent = "1001"\n'
                            f'[store]\nurl = "{store_url}"\n[[agents]]\nid = "1001"\n')  # fmt: skip
            counted = await Reports(load_site(site), rs).from_ledger(S, S + 900)
            assert sum(b.qa_n for b in counted) == 1
            rows = buckets(await rs.records(S, S + 900), facts, RULES, S, newest + 0.001, await rs.grades(S))
            got = services_report(rows, DAY, Filter(), [])["total"]
            assert (got["offered"], got["answered"], got["abandoned"], got["asa"]) == (2, 1, 1, 4.0)
            me = agents_report(rows, DAY, Filter(), {})["rows"][0]
            # logged in from before the range to the newest fact; busy the 60 s of talk
            assert (me["agent"], me["inbound_calls"], me["talk"]) == ("1001", 1, 60.0)
            assert me["logged_in"] == pytest.approx(425, abs=0.01)
        finally:
            await st.close()

    asyncio.run(go())


def test_a_fold_sums_as_bucket_add_does():
    """fold sums plain rows for speed: the sums are Bucket.add's, maxima, earliest and latest moments included."""
    import random

    from reports.buckets import Bucket
    from reports.fold import fold, total

    rnd = random.Random(7)
    rows = [Bucket(900 * i, service=rnd.choice(("a", "b")), agent=rnd.choice(("1", "2", "3")),
                   offered=rnd.randint(0, 5), wait_max=rnd.uniform(0, 60), talk_sum=rnd.uniform(0, 300),
                   first_login=rnd.choice((None, 1000.0 + i)), last_logout=rnd.choice((None, 5000.0 - i)),
                   pause_s={rnd.choice(("lunch", "break")): rnd.uniform(0, 100)})
            for i in range(300)]  # fmt: skip
    by_hand: dict[str, Bucket] = {}
    for b in rows:
        by_hand[b.agent] = by_hand[b.agent].add(b) if b.agent in by_hand else b
    assert fold(rows, lambda b: b.agent) == dict(sorted(by_hand.items()))
    everything = rows[0]
    for b in rows[1:]:
        everything = everything.add(b)
    assert total(rows) == everything and total([]) == Bucket(0)
