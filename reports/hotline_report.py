"""The hotline sheet: the 400 line's quality per period: answered within 3 rings (ring time <= 15 s from the
agent's alerting), service level, abandons, overflow to outbound agents and the guard's use, satisfaction
against 95. Pure: buckets in, a report dict out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reports.buckets import Bucket
from reports.fold import Periods, fold, total
from reports.formulas import SATISFACTION_TARGET, formula, ratio

COLUMNS = ("period", "offered", "answered", "ring_3", "service_level", "abandon_rate", "asa", "aht", "overflowed",
           "lent", "guard_reserves", "over_limit", "surveys", "satisfaction", "satisfaction_met")  # fmt: skip


# the bucket fields this report reads (its filter's and its figures'): the rollups sum these and no other
READS = ("service", "agent", "over_limit", "offered", "answered", "ring_within", "ring_known", "sl_within",
         "sl_late_abandons", "abandoned", "wait_sum", "wait_n", "handle_sum", "handled", "overflowed", "lent",
         "guard_reserves", "survey_top2", "survey_n")  # fmt: skip


def figures(b: Bucket) -> dict[str, Any]:
    sat = ratio(100 * b.survey_top2, b.survey_n, 1)
    return {
        "offered": b.offered,
        "answered": b.answered,
        "ring_3": ratio(b.ring_within, b.ring_known),
        "ring_known": b.ring_known,
        "service_level": ratio(b.sl_within, b.answered + b.sl_late_abandons),
        "abandon_rate": ratio(b.abandoned, b.answered + b.abandoned),
        "asa": ratio(b.wait_sum, b.wait_n, 2),
        "aht": ratio(b.handle_sum, b.handled, 1),
        "overflowed": b.overflowed,
        "lent": b.lent,
        "guard_reserves": b.guard_reserves,
        "over_limit": b.over_limit,
        "surveys": b.survey_n,
        "satisfaction": sat,
        "satisfaction_met": None if sat is None else sat >= SATISFACTION_TARGET,
    }


def hotline_report(rows: Iterable[Bucket], periods: Periods, service: str) -> dict[str, Any]:
    """``service``: the hotline's (``[hotline] service``); the menu's session limit belongs to the line too."""
    mine = [b for b in rows if b.service == service or (not b.service and not b.agent and b.over_limit)]
    folded = fold(mine, lambda b: periods.start_of(b.start), READS)
    return {
        "service": service,
        "satisfaction_target": SATISFACTION_TARGET,
        "columns": list(COLUMNS),
        "rows": [{"period": periods.label(p), **figures(b)} for p, b in folded.items()],
        "total": {"period": "total", **figures(total(mine, READS))},
        "formulas": {c: formula(c) for c in COLUMNS if formula(c)},
    }
