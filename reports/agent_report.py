"""The agents report: per agent and period (a day by default), work time and pauses, calls, handle times,
occupancy, dispositions, survey CSAT and QA score. Pure: buckets in, a report dict out.

Its inbound sums (calls, talk, hold, wrap-up) are the services report's answered calls split by the answering
agent, so the sum over agents equals the services' totals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reports.buckets import Bucket, interval_of
from reports.fold import Filter, Periods, fold, total
from reports.formulas import formula

COLUMNS = ("period", "agent", "name", "first_login", "last_logout", "logged_in", "pause", "inbound_calls",
           "outbound_conversations", "talk", "hold", "wrap_up", "aht", "outbound_talk", "occupancy", "dispositions",
           "csat", "csat_top2", "qa_score", "follow_ups_due", "follow_ups_on_time")  # fmt: skip


# the bucket fields this report reads (its filter's and its figures'): the rollups sum these and no other
READS = ("service", "agent", "first_login", "last_logout", "logged_in_s", "pause_s", "handled", "out_connected",
         "talk_sum", "hold_sum", "wrap_sum", "handle_sum", "out_talk_s", "busy_s", "available_s", "dispositions",
         "survey_sum", "survey_n", "survey_top2", "qa_sum", "qa_n")  # fmt: skip


def figures(b: Bucket, clock: Callable[[float], str]) -> dict[str, Any]:
    """The agent figures of one (folded) bucket; ``clock``: a moment as local "YYYY-MM-DD HH:MM:SS". Called once
    per row of a year's report (some 14,000): ratios inline (``reports.formulas.ratio``'s rounding), names sorted
    only where there are two or more."""
    first, last, handled, busy = b.first_login, b.last_logout, b.handled, b.busy_s
    worked, surveys, graded = busy + b.available_s, b.survey_n, b.qa_n
    pause, done = b.pause_s, b.dispositions
    return {
        "first_login": None if first is None else clock(first),
        "last_logout": None if last is None else clock(last),
        "logged_in": round(b.logged_in_s, 1),
        "pause": {k: round(pause[k], 1) for k in (sorted(pause) if len(pause) > 1 else pause)},
        "inbound_calls": handled,
        "outbound_conversations": b.out_connected,
        "talk": round(b.talk_sum, 1),
        "hold": round(b.hold_sum, 1),
        "wrap_up": round(b.wrap_sum, 1),
        "aht": round(b.handle_sum / handled, 1) if handled else None,
        "outbound_talk": round(b.out_talk_s, 1),
        "occupancy": round(busy / worked, 4) if worked else None,
        "dispositions": {k: done[k] for k in sorted(done)} if len(done) > 1 else dict(done),
        "csat": round(b.survey_sum / surveys, 2) if surveys else None,
        "csat_top2": round(b.survey_top2 / surveys, 3) if surveys else None,
        "qa_score": round(b.qa_sum / graded, 1) if graded else None,
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
    owners = fups.keys() - folded.keys()
    for p, a in owners:  # an owner with follow-ups due and no time on record that period
        folded[(p, a)] = Bucket(p, agent=a)
    label, clock, none = periods.label, periods.clock, (0, 0)
    out_rows = []
    for (p, a), b in sorted(folded.items()) if owners else folded.items():  # fold gives them in key order
        due, on_time = fups.get((p, a), none)
        row = {"period": label(p), "agent": a, "name": names.get(a, "")}
        row.update(figures(b, clock))
        row["follow_ups_due"], row["follow_ups_on_time"] = due, on_time
        out_rows.append(row)
    every = total(mine, READS)
    return {
        "columns": list(COLUMNS),
        "rows": out_rows,
        "total": {"period": "total", "agent": "", "name": "", **figures(every, clock),
                  "first_login": None, "last_logout": None, "follow_ups_due": sum(v[0] for v in fups.values()),
                  "follow_ups_on_time": sum(v[1] for v in fups.values())},  # fmt: skip
        "formulas": {c: formula(c) for c in COLUMNS if formula(c)},
    }
