"""The daily sample (pure): which of each agent's calls of the day a team lead scores.

Every agent who took a recorded call that day gets ``sample_per_agent`` calls picked (twice as many for a new
hire), so every agent is scored every day it works. The pick leans toward risk: each call weighs 1 plus the
weights of its risks (very short or long, transferred, a low survey score, a complaint, a long silence,
talking over each other) and is drawn by weighted sampling without replacement (Efraimidis-Spirakis: the
calls with the largest u^(1/w)). u comes from a hash of the day and the call, not from a random generator, so
the sample is the same however often it is asked for, and a call that arrives later in the day can only
displace picks of a lower key. A call already graded that day stays in the sample: the work done counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qa.settings import QaSettings

RISKS = {"short": 2.0, "long": 1.0, "transfer": 2.0, "low_survey": 3.0, "complaint": 3.0, "silence": 1.0,
         "talk_over": 1.0}  # fmt: skip
SILENCE_RISK = 10.0  # seconds of the call's longest silence
TALK_OVER_RISK = 5.0  # seconds of both talking at once


@dataclass(frozen=True)
class CallFacts:
    """What the ledger says of a call beyond its recording: the sample's risks."""

    transferred: bool = False
    survey: int | None = None
    complaint: bool = False


@dataclass(frozen=True)
class Pick:
    recording: str
    agent: str
    started_at: float
    seconds: float
    risks: tuple[str, ...]
    weight: float
    graded: bool
    new_hire: bool = False
    key: float = field(default=0.0, compare=False)

    def view(self, tz: dt.tzinfo) -> dict[str, Any]:
        """As a page lists it: the start in the site's time, the length as m:ss."""
        m, sec = divmod(int(round(self.seconds)), 60)
        return {**self.as_dict(), "time": dt.datetime.fromtimestamp(self.started_at, tz).strftime("%H:%M"),
                "length": f"{m}:{sec:02d}"}  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {"recording": self.recording, "agent": self.agent, "started_at": self.started_at,
                "seconds": round(self.seconds, 1), "risks": list(self.risks), "weight": self.weight,
                "graded": self.graded, "new_hire": self.new_hire}  # fmt: skip


def risks_of(row: Mapping[str, Any], facts: CallFacts, s: QaSettings) -> tuple[str, ...]:
    out = []
    if row["seconds"] <= s.short_call:
        out.append("short")
    if row["seconds"] >= s.long_call:
        out.append("long")
    if facts.transferred:
        out.append("transfer")
    if facts.survey is not None and facts.survey <= s.low_survey:
        out.append("low_survey")
    if facts.complaint:
        out.append("complaint")
    talk = row.get("talk") or {}
    if float(talk.get("silence_longest") or 0) >= SILENCE_RISK:
        out.append("silence")
    if float(talk.get("talk_over") or 0) >= TALK_OVER_RISK:
        out.append("talk_over")
    return tuple(out)


def new_hire(hired: str, day: dt.date, days: int) -> bool:
    if not hired:
        return False
    return 0 <= (day - dt.date.fromisoformat(hired)).days <= days


def _u(day: dt.date, recording: str) -> float:
    """A number in (0, 1) fixed by the day and the call."""
    h = int.from_bytes(hashlib.sha256(f"{day.isoformat()}|{recording}".encode()).digest()[:8], "big")
    return (h + 1) / (2**64 + 1)


def daily_sample(day: dt.date, rows: Iterable[Mapping[str, Any]], facts: Mapping[str, CallFacts],
                 hired: Mapping[str, str], graded: set[str], s: QaSettings) -> dict[str, list[Pick]]:  # fmt: skip
    """Agent -> its picks of ``day``, riskiest first. ``rows``: the day's recordings (index rows) with an agent;
    ``facts``: each call's risks from the ledger; ``hired``: agent -> hire date; ``graded``: recordings graded."""
    by_agent: dict[str, list[Pick]] = {}
    for row in rows:
        agent = str(row.get("agent") or "")
        if not agent or row.get("purged_at") is not None:
            continue
        risks = risks_of(row, facts.get(row["call_id"], CallFacts()), s)
        weight = 1.0 + sum(RISKS[r] for r in risks)
        is_new = new_hire(hired.get(agent, ""), day, s.new_hire_days)
        key = _u(day, row["id"]) ** (1.0 / weight)
        by_agent.setdefault(agent, []).append(Pick(row["id"], agent, float(row["started_at"]), float(row["seconds"]),
                                                   risks, weight, row["id"] in graded, is_new, key))  # fmt: skip
    out: dict[str, list[Pick]] = {}
    for agent, calls in sorted(by_agent.items()):
        quota = s.sample_per_agent * (2 if calls[0].new_hire else 1)
        done = [c for c in calls if c.graded]
        rest = sorted((c for c in calls if not c.graded), key=lambda c: -c.key)
        picks = done + rest[: max(0, quota - len(done))]
        out[agent] = sorted(picks, key=lambda c: (-c.weight, c.started_at))
    return out
