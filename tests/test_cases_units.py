"""Cases without I/O: working days on the 2026 Chinese calendar (dates checked by hand against the State
Council's holiday notice as the holidays library carries it), the case state machine, what each fact means for
cases, and the complaint and follow-up reports on rows made by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from acd.feature_codes import FeatureCodes
from cases.calendar import WorkCalendar
from cases.model import CLOSED, IN_PROGRESS, OPEN, RESOLVED, Case, can_move, fold, is_overdue, shown_number
from cases.report import FORMULAS, cases_report, format_text
from cases.settings import CasesSettings
from cases.sources import Contact, Opening, read
from engine.clock import VirtualClock
from engine.config import ConfigError, load_site
from engine.live.bus import Change
from engine.model.facts import Fact
from engine.policy import Actor, Policy, Role
from engine.service_api import Backends, Request, ServiceApi
from engine.web.auth import Console
from engine.web.team.stream import team_filter

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> float:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH).timestamp()


# ---- the calendar ----------------------------------------------------------------------------------------------
def test_a_complaint_on_the_friday_before_the_spring_festival_is_due_on_the_right_working_day():
    # Spring Festival 2026: Mon 16 Feb to Mon 23 Feb off (16-20 holidays and days off, 21-22 the weekend, 23 a
    # day off), Sat 14 Feb and Sat 28 Feb worked in their place. From Fri 13 Feb, five working days are
    # Sat 14 (1), Tue 24 (2), Wed 25 (3), Thu 26 (4), Fri 27 (5): due by the end of Fri 27 Feb.
    cal = WorkCalendar("Asia/Shanghai", "CN")
    assert cal.due(at(2026, 2, 13, 16, 30), 5) == at(2026, 2, 28)
    # a plain Monday-to-Friday count would say Fri 20 Feb, in the middle of the holiday
    assert WorkCalendar("Asia/Shanghai", "").due(at(2026, 2, 13, 16, 30), 5) == at(2026, 2, 21)
    # one working day: the make-up Saturday itself
    assert cal.due(at(2026, 2, 13, 9), 1) == at(2026, 2, 15)


def test_national_day_and_its_make_up_saturday():
    # 1-7 Oct 2026 off (with the weekend of 3-4 Oct), Sat 10 Oct worked: from Wed 30 Sep, Thu 8 (1), Fri 9 (2),
    # Sat 10 (3), Mon 12 (4), Tue 13 (5)
    assert WorkCalendar("Asia/Shanghai", "CN").due(at(2026, 9, 30, 11), 5) == at(2026, 10, 14)


def test_the_site_file_overrides_the_calendar():
    # an extra day off on Wed 25 Feb moves the fifth working day to the second make-up Saturday, 28 Feb;
    # making Sun 15 Feb a working day brings it back to Fri 27
    off = WorkCalendar("Asia/Shanghai", "CN", extra_holidays=[dt.date(2026, 2, 25)])
    assert off.due(at(2026, 2, 13, 10), 5) == at(2026, 3, 1)
    both = WorkCalendar("Asia/Shanghai", "CN", [dt.date(2026, 2, 25)], [dt.date(2026, 2, 15)])
    assert both.due(at(2026, 2, 13, 10), 5) == at(2026, 2, 28)


def test_a_bad_cases_setting_is_named_with_its_line(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[asterisk]\nlab = true\n\n[cases]\ncomplaint_days = 5\nholidays = ["2026-02-30"]\n'
                    'country = "XX"\nfollow_up_goal = 60\n')  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_site(site)
    text = str(err.value)
    assert "site.toml:6: cases.holidays: '2026-02-30' is not a date (YYYY-MM-DD)" in text
    assert "site.toml:7: cases.country:" in text
    assert "site.toml:8: cases.follow_up_goal:" in text


# ---- the state machine -----------------------------------------------------------------------------------------
def case(**kw: object) -> Case:
    return Case(**{"id": "c1", "kind": "complaint", "source": "menu", "opened_at": 0.0, "due_at": 100.0, **kw})


def test_moves_the_machine_allows_and_refuses():
    assert can_move(case(), IN_PROGRESS) is None
    assert can_move(case(), CLOSED) == "case c1 is open: it cannot become closed"
    assert can_move(case(status=RESOLVED), IN_PROGRESS) is None  # reopened: the answer did not settle it
    assert can_move(case(status=CLOSED), OPEN) is None
    assert "purged" in (can_move(case(status=CLOSED, purged_at=5.0), OPEN) or "")
    assert can_move(case(status=CLOSED), RESOLVED) is not None


def fact(what: str, t: float, **data: object) -> Fact:
    return Fact(what, t, "c1", "", f"{what}:{t}", {"case": "c1", **data})


def test_the_fold_follows_the_facts_and_ignores_a_refused_move():
    facts = [fact("case.opened", 1, kind="complaint", source="menu", due_at=100.0, number="13800138000"),
             fact("case.status", 2, status="closed"),  # refused: an open case is not closed
             fact("case.assigned", 3, owner="1001", team="front"), fact("case.status", 4, status="in_progress"),
             fact("case.resolved", 5, resolution="refunded"), fact("case.status", 6, status="in_progress"),
             fact("case.resolved", 7, resolution="refunded twice"), fact("case.status", 8, status="closed"),
             fact("case.purged", 9)]  # fmt: skip
    c = fold(facts)["c1"]
    assert (c.status, c.owner, c.team, c.resolution, c.resolved_at, c.closed_at) == \
        (CLOSED, "1001", "front", "refunded twice", 7, 8)  # fmt: skip
    assert c.number == "" and c.purged_at == 9
    assert not is_overdue(c, 1000.0)
    assert is_overdue(fold(facts[:4])["c1"], 101.0) and not is_overdue(fold(facts[:4])["c1"], 100.0)


def test_a_number_is_shown_to_those_who_call_back_only():
    assert shown_number("13800138000", Role.TEAM_LEAD) == "13800138000"
    assert shown_number("13800138000", Role.AGENT) == "*******8000"
    assert shown_number("13800138000", Role.QA) == "*******8000"


# ---- the sources -----------------------------------------------------------------------------------------------
RULES = CasesSettings.of({"after_sale_codes": ["sale"], "survey_below": 3}, "Asia/Shanghai")


def f(what: str, call: str, **data: object) -> Fact:
    return Fact(what, 10.0, call, call, f"{what}:{call}", data)


def test_what_each_fact_means():
    dials: dict[str, str] = {}
    assert read(f("ivr.message", "a", kind="complaint", ok=True, file="x.wav", seconds=3), RULES, dials).kind == \
        "complaint"  # fmt: skip
    assert read(f("ivr.message", "a", kind="voicemail", ok=True), RULES, dials) is None
    assert read(f("ivr.message", "a", kind="complaint", ok=False), RULES, dials) is None
    cb = read(f("acd.callback", "b", number="+8613800138000"), RULES, dials)
    assert isinstance(cb, Opening) and (cb.kind, cb.source, cb.number) == ("follow_up", "callback", "+8613800138000")
    promised = read(f("outbound.callback", "d1", agent="2001", lead=7, at=99.0, own=True), RULES, dials)
    assert isinstance(promised, Opening) and (promised.lead, promised.owner, promised.due_at) == ("7", "2001", 99.0)
    assert read(f("outbound.disposition", "d1", code="sale", lead=7, agent="2001"), RULES, dials).source == "after_sale"
    assert read(f("outbound.disposition", "d1", code="no_interest", lead=7), RULES, dials) is None
    assert read(f("ivr.survey", "c", score=2, agent="1001"), RULES, dials).kind == "low_survey"
    assert read(f("ivr.survey", "c", score=3, agent="1001"), RULES, dials) is None
    assert read(f("ivr.survey", "c", score=None, agent="1001"), RULES, dials) is None
    # a campaign dial to the lead: placed names the lead, the connect closes its follow-ups
    assert read(f("outbound.placed", "d2", lead=7), RULES, dials) is None
    got = read(f("outbound.connect", "d2", agent="2001"), RULES, dials)
    assert got == Contact("d2", 10.0, lead="7", connects_follow_up=True)
    assert read(f("channel.new", "e", role="caller", caller="13800138000"), RULES, dials) == \
        Contact("e", 10.0, number="13800138000")  # fmt: skip
    assert read(f("channel.new", "e", role="agent", caller="1001"), RULES, dials) is None
    # the same source always makes the same case
    assert cb.case_id == read(f("acd.callback", "b", number="1"), RULES, dials).case_id


# ---- the report ------------------------------------------------------------------------------------------------
def row(kind: str, source: str, opened: float, due: float, resolved: float | None = None,
        repeat_at: float | None = None) -> dict[str, object]:  # fmt: skip
    links = [{"call": "x", "what": "repeat", "at": repeat_at}] if repeat_at is not None else []
    return {"kind": kind, "source": source, "opened_at": opened, "due_at": due, "resolved_at": resolved,
            "links": links}  # fmt: skip


def test_the_complaint_daily_report_and_the_follow_up_rate():
    d1, d2, d3 = at(2026, 3, 2), at(2026, 3, 3), at(2026, 3, 4)
    rows = [
        # opened and resolved on day 1, on time; the customer called about it again after
        row("complaint", "menu", d1 + 3600, d2 + 7200, d1 + 7200, repeat_at=d1 + 9000),
        row("complaint", "agent_page", d1 + 5000, d1 + 6000, d2 + 100),  # resolved on day 2, late
        row("complaint", "menu", d1 + 9000, d2 + 50),  # never resolved: open both days, overdue on day 2
        row("complaint", "feature_code", d2 + 10, d3 + 99999),  # opened day 2, open, not yet due
        row("follow_up", "callback", d1, d1 + 100, d1 + 50),  # done on time
        # done late; a repeat before its (latest) resolution is not a call about it again after
        row("follow_up", "after_sale", d1, d1 + 200, d1 + 300, repeat_at=d1 + 100),
        row("follow_up", "callback", d1, d2 + 10),  # not done
        row("follow_up", "callback", d1, d3 + 10),  # due after the range: not counted
    ]
    rep = cases_report(rows, d1, d3, "Asia/Shanghai", goal=0.6)
    day1, day2 = rep["complaints"]
    assert day1 == {"day": "2026-03-02", "opened": 3, "by_source": {"agent_page": 1, "menu": 2}, "resolved": 1,
                    "resolved_on_time": 1, "open": 2, "overdue": 1}  # fmt: skip
    assert day2 == {"day": "2026-03-03", "opened": 1, "by_source": {"feature_code": 1}, "resolved": 1,
                    "resolved_on_time": 0, "open": 2, "overdue": 1}  # fmt: skip
    fu = rep["follow_ups"]
    # 3 due in the range, 2 done (one on time): 66.7 % against 60 %
    assert (fu["follow_ups_due"], fu["follow_ups_done"], fu["follow_ups_done_on_time"]) == (3, 2, 1)
    assert fu["follow_up_rate"] == pytest.approx(2 / 3, abs=1e-4) and fu["goal_met"] is True
    assert [d["follow_ups_due"] for d in fu["days"]] == [2, 1]
    # the table the other reports' outputs write: a row a day, the total's open and overdue the range's end's
    assert [r["period"] for r in rep["rows"]] == ["2026-03-02", "2026-03-03"]
    assert rep["total"] == {"period": "total", "opened": 4,
                            "by_source": {"agent_page": 1, "feature_code": 1, "menu": 2}, "resolved": 2,
                            "resolved_on_time": 1, "open": 2, "overdue": 1, "follow_ups_due": 3,
                            "follow_ups_done": 2, "follow_ups_done_on_time": 1,
                            "follow_up_rate": fu["follow_up_rate"]}  # fmt: skip
    assert all(set(r) == set(rep["columns"]) for r in [*rep["rows"], rep["total"]])
    # four cases resolved in the range, one called about again: 3 of 4 first-contact resolved
    assert (rep["cases_resolved"], rep["repeat_contacts"], rep["first_contact_resolution"]) == (4, 1, 0.75)
    text = format_text(rep)
    assert "66.7 %" in text and "met" in text and "75.0 %" in text
    assert all(v in text for v in FORMULAS.values())
    assert cases_report([], d1, d2, "Asia/Shanghai")["follow_ups"]["follow_up_rate"] is None


# ---- the complaint action --------------------------------------------------------------------------------------
def test_a_complaint_is_the_agents_own_action_through_the_service_api():
    asked: list[tuple[str, str, str]] = []
    facts: list[Fact] = []

    async def complaint(agent: str, via: str, note: str) -> str:
        asked.append((agent, via, note))
        return "complaint case c1 opened"

    async def nothing(agent: str, action: str, arg: str) -> str:
        raise AssertionError("not the ACD's")

    async def record(fs: list[Fact]) -> None:
        facts.extend(fs)

    api = ServiceApi(Policy(lambda a: frozenset({"front"})), Backends(nothing, complaint=complaint), record,
                     VirtualClock(), frozenset({"1001", "1002"}))  # fmt: skip

    async def main() -> None:
        own = await api.do(Actor("1001", Role.AGENT, via="web"), Request("complaint", "1001", "rude"))
        other = await api.do(Actor("1002", Role.AGENT, via="phone"), Request("complaint", "1001", ""))
        assert (own.ok, own.text) == (True, "complaint case c1 opened")
        assert not other.ok and other.refused_by == "policy"
        assert asked == [("1001", "web", "rude")]
        assert [(f.data["action"], f.data["ok"]) for f in facts] == [("complaint", True), ("complaint", False)]

    asyncio.run(main())


# ---- the overdue case on the team page -------------------------------------------------------------------------
def test_an_overdue_case_reaches_its_own_teams_lead_only():
    case = Change("case", "c1", 5.0, {"team": "front", "overdue": True, "status": "open", "due_at": 1.0})
    other = Change("case", "c2", 5.0, {"team": "back", "overdue": True, "status": "open", "due_at": 1.0})
    keep = team_filter(frozenset({"1001"}), lambda c: True, "front")
    assert keep(case) and not keep(other)
    assert not team_filter(frozenset({"1001"}), lambda c: True)(case)  # a stream of no team: none
    console = Console.__new__(Console)  # visible() reads nothing of the console's own for this topic
    seen = {role: console.visible(Actor("x", role, teams=frozenset({"front"})), case) for role in Role}
    assert seen == {Role.AGENT: False, Role.TEAM_LEAD: True, Role.QA: False, Role.MANAGER: True, Role.ADMIN: False,
                    Role.TRAINING: False}


def test_star_30_on_an_agents_phone_is_its_complaint(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[site]\nname = "t"\n[asterisk]\nlab = true\n[hotline]\nnumber = "400"\nagent = "1001"\n'
                    '[[agents]]\nid = "1001"\nendpoint = "agent1001"\n')  # fmt: skip
    asked: list[tuple[str, str, str]] = []

    async def complaint(agent: str, via: str, note: str) -> str:
        asked.append((agent, via, note))
        return "complaint case c1 opened"

    async def nothing(agent: str, action: str, arg: str) -> str:
        raise AssertionError("not the ACD's")

    async def record(fs: list[Fact]) -> None:
        return None

    class Agi:
        channel = "PJSIP/agent1001-0000002a"
        env = type("Env", (), {"args": ["complaint"]})()
        streamed: list[str] = []

        async def answer(self) -> None:
            return None

        async def stream(self, prompt: str) -> None:
            self.streamed.append(prompt)

    api = ServiceApi(Policy(lambda a: frozenset()), Backends(nothing, complaint=complaint), record, VirtualClock(),
                     frozenset({"1001"}))  # fmt: skip
    agi = Agi()
    asyncio.run(FeatureCodes(load_site(site).agents, api)(agi))  # type: ignore[arg-type]
    assert asked == [("1001", "phone", "")] and agi.streamed == ["beep"]


def test_the_cases_report_writes_out_as_the_other_reports_do(tmp_path):
    import csv

    from openpyxl import load_workbook

    from reports import export

    d1 = at(2026, 3, 2)
    rows = [row("complaint", "menu", d1 + 60, d1 + 9e5, d1 + 120), row("follow_up", "callback", d1, d1 + 100)]
    rep = cases_report(rows, d1, d1 + 86400, "Asia/Shanghai")
    export.write_csv(rep, str(tmp_path / "c.csv"))
    export.write_xlsx(rep, str(tmp_path / "c.xlsx"))
    with open(tmp_path / "c.csv", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == rep["columns"] and [r[0] for r in got[1:]] == ["2026-03-02", "total"]
    assert got[1][rep["columns"].index("opened")] == "1" and got[1][rep["columns"].index("follow_ups_due")] == "1"
    wb = load_workbook(tmp_path / "c.xlsx")
    assert wb.sheetnames == ["cases", "formulas"] and wb["cases"].max_row == 3


def test_a_due_time_at_a_days_end_reads_as_that_days_24_00():
    from cases.calendar import due_label

    sh = ZoneInfo("Asia/Shanghai")
    assert due_label(dt.datetime(2026, 3, 10, tzinfo=sh).timestamp(), sh) == "2026-03-09 24:00"
    assert due_label(dt.datetime(2026, 3, 10, 9, 30, tzinfo=sh).timestamp(), sh) == "2026-03-10 09:30"
