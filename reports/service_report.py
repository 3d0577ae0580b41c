"""The services report: per interval and service, the inbound figures of docs/metrics.md#inbound, the abandoned
calls (callers masked) and the longest wait. Pure: buckets and records in, a report dict out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from engine.privacy import mask_number
from reports.buckets import Bucket, SiteRules, call_time
from reports.fold import Filter, Periods, fold, total
from reports.formulas import formula, ratio

COLUMNS = ("period", "service", "offered", "answered", "abandoned", "short_abandoned", "other", "asa",
           "service_level", "abandon_rate", "aht", "longest_wait", "callbacks", "voicemails", "timeouts")  # fmt: skip


# the bucket fields this report reads (its filter's and its figures'): the rollups sum these and no other
READS = ("service", "agent", "campaign", "arrived", "offered", "answered", "abandoned", "short_abandoned", "other",
         "wait_sum", "wait_n", "sl_within", "sl_late_abandons", "handle_sum", "handled", "wait_max", "callbacks",
         "voicemails", "timeouts", "talk_sum", "hold_sum", "wrap_sum")  # fmt: skip


def figures(b: Bucket) -> dict[str, Any]:
    """The service figures of one (folded) bucket."""
    return {
        "offered": b.offered,
        "answered": b.answered,
        "abandoned": b.abandoned,
        "short_abandoned": b.short_abandoned,
        "other": b.other,
        "asa": ratio(b.wait_sum, b.wait_n, 2),
        "service_level": ratio(b.sl_within, b.answered + b.sl_late_abandons),
        "abandon_rate": ratio(b.abandoned, b.answered + b.abandoned),
        "aht": ratio(b.handle_sum, b.handled, 1),
        "longest_wait": round(b.wait_max, 1),
        "callbacks": b.callbacks,
        "voicemails": b.voicemails,
        "timeouts": b.timeouts,
        # the sums behind them, so totals can be checked against other reports
        "talk": round(b.talk_sum, 1),
        "hold": round(b.hold_sum, 1),
        "wrap_up": round(b.wrap_sum, 1),
    }


def abandoned_calls(records: Iterable[Mapping[str, Any]], rules: SiteRules, periods: Periods, start: float,
                    end: float, services: frozenset[str] | None) -> list[dict[str, Any]]:  # fmt: skip
    """Every abandoned call of the range, oldest first; the caller's number masked (engine/privacy.py)."""
    out = []
    for r in records:
        t = call_time(r)
        if r["outcome"] != "abandoned" or r.get("queued_at") is None or not start <= t < end:
            continue
        if services is not None and str(r.get("service") or "") not in services:
            continue
        wait = float(r["ended_at"]) - float(r["queued_at"]) if r.get("ended_at") is not None else None
        out.append({"time": dt.datetime.fromtimestamp(t, periods.tz).strftime("%Y-%m-%d %H:%M:%S"),
                    "service": str(r.get("service") or ""), "caller": mask_number(str(r.get("caller") or "")),
                    "wait": None if wait is None else round(wait, 1), "call_id": str(r["call_id"]),
                    "short": wait is not None and wait <= rules.short_abandon})  # fmt: skip
    return sorted(out, key=lambda a: a["time"])


def services_report(rows: Iterable[Bucket], periods: Periods, flt: Filter,
                    abandoned: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    calls = [b for b in rows if b.service and flt.keeps(b) and (b.arrived or b.offered)]
    folded = fold(calls, lambda b: (periods.start_of(b.start), b.service), READS)
    out_rows = [{"period": periods.label(p), "service": s, **figures(b)} for (p, s), b in folded.items()]
    return {
        "columns": list(COLUMNS),
        "rows": out_rows,
        "total": {"period": "total", "service": "", **figures(total(calls, READS))},
        "abandoned_calls": abandoned,
        "formulas": {c: formula(c) for c in COLUMNS if formula(c)} | {"abandoned_calls": formula("abandoned_calls")},
    }
