"""The ``cases`` report (pure): the complaint daily report and the follow-up report, from the ``cases`` table's
rows, each figure with the formula it is counted by (``FORMULAS``, printed under the figures).

Days are the site's calendar days in ``tz``; the range is [start, end). A case's times are those of its facts:
opened, resolved (the latest resolution standing), due. A reopened case counts as not resolved.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

FORMULAS: dict[str, str] = {
    "opened": "complaints whose case was opened that day",
    "by_source": "the day's opened complaints by where they came from (menu, agent_page, feature_code, cli)",
    "resolved": "complaints resolved that day",
    "resolved_on_time": "complaints resolved that day at or before their due time",
    "open": "complaints opened by the day's end and not resolved by then",
    "overdue": "of those open at the day's end, the ones whose due time had passed by then",
    "follow_ups_due": "follow-ups whose due time falls in the range",
    "follow_ups_done": "of those due, the ones resolved (the follow-up call connected, or resolved by hand)",
    "follow_ups_done_on_time": "of those due, the ones resolved at or before their due time",
    "follow_up_rate": "follow_ups_done ÷ follow_ups_due (none due: no rate)",
    "goal_met": "follow_up_rate ≥ the site's goal ([cases] follow_up_goal)",
    "cases_resolved": "cases of any kind resolved in the range",
    "repeat_contacts": "of those, the ones whose customer called again within [cases] repeat_days of the resolution "
                       "(a call linked as a repeat)",
    "first_contact_resolution": "(cases_resolved − repeat_contacts) ÷ cases_resolved (none resolved: none)",
}


COMPLAINT_COLUMNS = ("opened", "by_source", "resolved", "resolved_on_time", "open", "overdue")
FOLLOW_UP_COLUMNS = ("follow_ups_due", "follow_ups_done", "follow_ups_done_on_time", "follow_up_rate")


def _days(start: float, end: float, tz: ZoneInfo) -> list[tuple[str, float, float]]:
    """Each local day touching [start, end) as (ISO date, its start, its end), clipped to the range."""
    out = []
    day = dt.datetime.fromtimestamp(start, tz).date()
    while True:
        a = dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        if a >= end:
            return out
        nxt = day + dt.timedelta(days=1)
        b = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp()
        out.append((day.isoformat(), max(a, start), min(b, end)))
        day = nxt


def _within(t: Any, a: float, b: float) -> bool:
    return t is not None and a <= float(t) < b


def complaint_day(rows: list[Mapping[str, Any]], a: float, b: float) -> dict[str, Any]:
    opened = [r for r in rows if _within(r["opened_at"], a, b)]
    resolved = [r for r in rows if _within(r["resolved_at"], a, b)]
    still = [r for r in rows if float(r["opened_at"]) < b and not _within(r["resolved_at"], float("-inf"), b)]
    return {
        "opened": len(opened),
        "by_source": dict(sorted(Counter(str(r["source"]) for r in opened).items())),
        "resolved": len(resolved),
        "resolved_on_time": sum(1 for r in resolved if float(r["resolved_at"]) <= float(r["due_at"])),
        "open": len(still),
        "overdue": sum(1 for r in still if float(r["due_at"]) < b),
    }


def follow_ups(rows: list[Mapping[str, Any]], a: float, b: float, goal: float) -> dict[str, Any]:
    # due "by the end of a day" is that day's end: due on that day, not the next
    due = [r for r in rows if r["due_at"] is not None and a < float(r["due_at"]) <= b]
    done = [r for r in due if r["resolved_at"] is not None]
    rate = len(done) / len(due) if due else None
    return {
        "follow_ups_due": len(due),
        "follow_ups_done": len(done),
        "follow_ups_done_on_time": sum(1 for r in done if float(r["resolved_at"]) <= float(r["due_at"])),
        "follow_up_rate": None if rate is None else round(rate, 4),
        "goal": goal,
        "goal_met": None if rate is None else rate >= goal,
    }


def first_contact(rows: list[Mapping[str, Any]], a: float, b: float) -> dict[str, Any]:
    resolved = [r for r in rows if _within(r["resolved_at"], a, b)]
    again = [r for r in resolved if any(x.get("what") == "repeat" and float(x["at"]) > float(r["resolved_at"])
                                        for x in r.get("links") or [])]  # fmt: skip
    share = (len(resolved) - len(again)) / len(resolved) if resolved else None
    return {"cases_resolved": len(resolved), "repeat_contacts": len(again),
            "first_contact_resolution": None if share is None else round(share, 4)}  # fmt: skip


def cases_report(cases: Iterable[Mapping[str, Any]], start: float, end: float, tz: str | ZoneInfo, *,
                 goal: float = 0.6) -> dict[str, Any]:  # fmt: skip
    """``cases``: rows of the ``cases`` table (any superset of what the range needs). ``goal``: the follow-up
    rate the site aims at."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    rows = list(cases)
    complaints = [r for r in rows if r["kind"] == "complaint"]
    fups = [r for r in rows if r["kind"] == "follow_up"]
    days = _days(start, end, zone)
    daily = [{"day": d, **complaint_day(complaints, a, b)} for d, a, b in days]
    fu_days = [{"day": d, **follow_ups(fups, a, b, goal)} for d, a, b in days]
    fu_all = follow_ups(fups, start, end, goal)
    return {
        "report": "cases",
        "from": start,
        "to": end,
        "timezone": str(zone),
        "complaints": daily,
        "follow_ups": {**fu_all, "days": fu_days},
        "low_survey_opened": sum(1 for r in rows if r["kind"] == "low_survey" and _within(r["opened_at"], start, end)),
        **first_contact(rows, start, end),
        "formulas": FORMULAS,
        **_table(daily, fu_days, fu_all),
    }


def _table(daily: list[dict[str, Any]], fu_days: list[dict[str, Any]], fu_all: dict[str, Any]) -> dict[str, Any]:
    """The same figures as the tables the other reports write out (``columns``, ``rows``, ``total``): a row per
    day, complaints then follow-ups; the total's open and overdue are the range's end's."""
    rows = [{"period": c["day"], **{k: c[k] for k in COMPLAINT_COLUMNS}, **{k: f[k] for k in FOLLOW_UP_COLUMNS}}
            for c, f in zip(daily, fu_days, strict=True)]  # fmt: skip
    by_source: Counter[str] = Counter()
    for c in daily:
        by_source.update(c["by_source"])
    total = {"period": "total", "opened": sum(c["opened"] for c in daily), "by_source": dict(sorted(by_source.items())),
             "resolved": sum(c["resolved"] for c in daily),
             "resolved_on_time": sum(c["resolved_on_time"] for c in daily),
             "open": daily[-1]["open"] if daily else 0, "overdue": daily[-1]["overdue"] if daily else 0,
             **{k: fu_all[k] for k in FOLLOW_UP_COLUMNS}}  # fmt: skip
    return {"columns": ["period", *COMPLAINT_COLUMNS, *FOLLOW_UP_COLUMNS], "rows": rows, "total": total}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def format_text(report: Mapping[str, Any]) -> str:
    """The report as the terminal shows it: the complaint table by day, the follow-up figures, the formulas."""
    lines = [f"Complaint daily report ({report['timezone']})",
             f"{'day':<10}  {'opened':>6}  {'resolved':>8}  {'on time':>7}  {'open':>5}  {'overdue':>7}  by source"]
    for d in report["complaints"]:
        src = ", ".join(f"{k} {v}" for k, v in d["by_source"].items()) or "-"
        lines.append(f"{d['day']:<10}  {d['opened']:>6}  {d['resolved']:>8}  {d['resolved_on_time']:>7}  "
                     f"{d['open']:>5}  {d['overdue']:>7}  {src}")  # fmt: skip
    f = report["follow_ups"]
    met = "-" if f["goal_met"] is None else "met" if f["goal_met"] else "NOT met"
    lines += ["", "Follow-up report",
              f"due {f['follow_ups_due']}, done {f['follow_ups_done']}, done on time {f['follow_ups_done_on_time']}, "
              f"follow-up rate {_pct(f['follow_up_rate'])} against the goal of {_pct(f['goal'])}: {met}",
              f"low survey cases opened: {report['low_survey_opened']}",
              f"first-contact resolution: {_pct(report['first_contact_resolution'])} of {report['cases_resolved']} "
              f"resolved case(s), {report['repeat_contacts']} called again", "", "Formulas"]  # fmt: skip
    lines += [f"  {k}: {v}" for k, v in report["formulas"].items()]
    return "\n".join(lines)
