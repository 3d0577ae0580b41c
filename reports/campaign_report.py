"""The campaigns report: `hotline campaign report`'s figures (dialer/report.py) per period, team and campaign.
Rates use dialer/report.py's formulas; the false-positive share comes from the range's QA labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dialer.report import abandon_rates, fp_share_from
from reports.buckets import Bucket
from reports.fold import Filter, Periods, fold, total
from reports.formulas import formula

COLUMNS = ("period", "team", "campaign", "dials", "outcomes", "machines", "conversations", "abandoned", "live",
           "abandon_rate_us", "abandon_rate_uk", "late_connects", "talk", "dispositions")  # fmt: skip


# the bucket fields this report reads (its filter's and its figures'): the rollups sum these and no other
READS = ("campaign", "out_abandoned", "out_connected", "out_machines", "out_qa_people", "out_qa_labels", "dials",
         "out_outcomes", "out_late", "out_talk_s", "dispositions")  # fmt: skip


def figures(b: Bucket, fp_share: float) -> dict[str, Any]:
    us, uk = abandon_rates(b.out_abandoned, b.out_connected, b.out_machines, fp_share)
    return {
        "dials": b.dials,
        "outcomes": dict(sorted(b.out_outcomes.items())),
        "machines": b.out_machines,
        "conversations": b.out_connected,
        "abandoned": b.out_abandoned,
        "live": b.out_connected + b.out_abandoned,
        "abandon_rate_us": us,
        "abandon_rate_uk": uk,
        "late_connects": b.out_late,
        "talk": round(b.out_talk_s, 1),
        "dispositions": dict(sorted(b.dispositions.items())),
    }


def campaigns_report(rows: Iterable[Bucket], periods: Periods, flt: Filter, teams: Mapping[str, str],
                     fp_share: float | None = None) -> dict[str, Any]:  # fmt: skip
    """``teams``: campaign -> its team (``team`` in ``[[campaigns]]``); ``flt.campaigns`` picks campaigns."""
    mine = [b for b in rows if b.campaign and (flt.campaigns is None or b.campaign in flt.campaigns)]
    every = total(mine, READS)
    share = fp_share if fp_share is not None else fp_share_from(every.out_qa_people, every.out_qa_labels)
    by_campaign = fold(mine, lambda b: (periods.start_of(b.start), teams.get(b.campaign, ""), b.campaign), READS)
    by_team = fold(mine, lambda b: (periods.start_of(b.start), teams.get(b.campaign, "")), READS)
    return {
        "fp_share": round(share, 4),
        "columns": list(COLUMNS),
        "rows": [{"period": periods.label(p), "team": t, "campaign": c, **figures(b, share)}
                 for (p, t, c), b in by_campaign.items()],  # fmt: skip
        "teams": [{"period": periods.label(p), "team": t, "campaign": "", **figures(b, share)}
                  for (p, t), b in by_team.items()],  # fmt: skip
        "total": {"period": "total", "team": "", "campaign": "", **figures(every, share)},
        "formulas": {c: formula(c, "campaigns") for c in COLUMNS if formula(c, "campaigns")},
    }
