"""The agents report: per agent and period (a day by default), work time and pauses, calls, handle times,
occupancy, dispositions, survey CSAT and QA score. Pure: buckets in, a report dict out.

Its inbound sums (calls, talk, hold, wrap-up) are the services report's answered calls split by the answering
agent, so the sum over agents equals the services' totals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reports.buckets import Bucket, interval_of
from reports.fold import Filter, Periods, fold, total
from reports.formulas import formula, ratio

COLUMNS = ("period", "agent", "name", "first_login", "last_logout", "logged_in", "pause", "inbound_calls",
           "outbound_conversations", "talk", "hold", "wrap_up", "aht", "outbound_talk", "occupancy", "dispositions",
           "csat", "csat_top2", "qa_score", "follow_ups_due", "follow_ups_on_time")  # fmt: skip


# the bucket fields this report reads (its filter's and its figures'): the rollups sum these and no other
READS = ("service", "agent", "first_login", "last_logout", "logged_in_s", "pause_s", "handled", "out_connected",
         "talk_sum", "hold_sum", "wrap_sum", "handle_sum", "out_talk_s", "busy_s", "available_s", "dispositions",
         "survey_sum", "survey_n", "survey_top2", "qa_sum", "qa_n")  # fmt: skip


def _clock(at: float | None, periods: Periods) -> str | None:
    return None if at is None else periods.clock(at)  # "YYYY-MM-DD HH:MM:SS", local


def figures(b: Bucket, periods: Periods) -> dict[str, Any]:
    return {
        "first_login": _clock(b.first_login, periods),
        "last_logout": _clock(b.last_logout, periods),
        "logged_in": round(b.logged_in_s, 1),
        "pause": {k: round(b.pause_s[k], 1) for k in sorted(b.pause_s)},  # names sorted: cheaper than items
        "inbound_calls": b.handled,
        "outbound_conversations": b.out_connected,
        "talk": round(b.talk_sum, 1),
        "hold": round(b.hold_sum, 1),
        "wrap_up": round(b.wrap_sum, 1),
        "aht": ratio(b.handle_sum, b.handled, 1),
        "outbound_talk": round(b.out_talk_s, 1),
        "occupancy": ratio(b.busy_s, b.busy_s + b.available_s),
        "dispositions": {k: b.dispositions[k] for k in sorted(b.dispositions)},
        "csat": ratio(b.survey_sum, b.survey_n, 2),
        "csat_top2": ratio(b.survey_top2, b.survey_n, 3),
        "qa_score": ratio(b.qa_sum, b.qa_n, 1),
    }


def _follow_ups(cases: Iterable[Mapping[str, Any]], periods: Periods, flt: Filter) -> dict[tuple[int, str], list[int]]:
    """(period, owner) -> [due, done on time] of the follow-up cases due in that period (due by a day's end is due
    on that day, so the moment is taken just before the due time)."""
    out: dict[tuple[int, str], list[int]] = {}
    for c in cases:
        owner = str(c.get("owner") or "")
        if c.get("kind") != "follow_up" or not owner or c.get("due_at") is None:
            continue
        if flt.agents is not None and owner not in flt.agents:
            continue
        due = float(c["due_at"])
        counts = out.setdefault((periods.start_of(interval_of(due - 0.001)), owner), [0, 0])
        counts[0] += 1
        counts[1] += int(c.get("resolved_at") is not None and float(c["resolved_at"]) <= due)
    return out


def agents_report(rows: Iterable[Bucket], periods: Periods, flt: Filter, names: Mapping[str, str],
                  cases: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:  # fmt: skip
    """``flt.services`` narrows the calls counted, never the agents' time (which belongs to no service); ``cases``:
    rows of the cases table, whose follow-ups due in the range are counted for their owners."""
    mine = [b for b in rows if b.agent and (flt.agents is None or b.agent in flt.agents)
            and (flt.services is None or b.service in flt.services or not b.service)]  # fmt: skip
    folded = fold(mine, lambda b: (periods.start_of(b.start), b.agent), READS)
    fups = _follow_ups(cases, periods, flt)
    for p, a in fups.keys() - folded.keys():  # an owner with follow-ups due and no time on record that period
        folded[(p, a)] = Bucket(p, agent=a)
    out_rows = [{"period": periods.label(p), "agent": a, "name": names.get(a, ""), **figures(b, periods),
                 "follow_ups_due": fups.get((p, a), [0, 0])[0], "follow_ups_on_time": fups.get((p, a), [0, 0])[1]}
                for (p, a), b in sorted(folded.items())]  # fmt: skip
    every = total(mine, READS)
    return {
        "columns": list(COLUMNS),
        "rows": out_rows,
        "total": {"period": "total", "agent": "", "name": "", **figures(every, periods),
                  "first_login": None, "last_logout": None, "follow_ups_due": sum(v[0] for v in fups.values()),
                  "follow_ups_on_time": sum(v[1] for v in fups.values())},  # fmt: skip
        "formulas": {c: formula(c) for c in COLUMNS if formula(c)},
    }
