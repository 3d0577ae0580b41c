"""The dialer's campaigns as the live feed shows them: lines in use, pacing, abandon rate, seats (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from dialer.runner import CampaignRunner


def campaigns_now(runners: Iterable[CampaignRunner]) -> dict[str, dict[str, Any]]:
    out = {}
    for r in runners:
        pacer = r.pacer
        lives, abandons = int(getattr(pacer, "lives", 0)), int(getattr(pacer, "abandons", 0))
        rate = getattr(pacer, "rate_now", None)
        out[r.c.name] = {
            "mode": r.c.mode,
            "dialing": r.dialing,
            "lines": len(r.dials),
            "line_limit": r.line_limit,
            "waiting": r.waiting,  # answered customers looking for an agent now
            "pacing_level": round(float(rate), 4) if rate is not None else None,  # the pacer's abandon allowance
            "abandon_rate": round(abandons / lives, 4) if lives else None,
            "seats": dict(sorted(Counter(s.state for s in r.seats.values()).items())),
        }
    return out
