"""Campaign report from the compliance ledger: outcomes, conversations, and both abandon rates.

US (FTC, 30-day campaign rate): abandoned ÷ live answers (connected + abandoned), as measured.
UK (Ofcom, 24 h): (abandoned + estimated AMD false positives) ÷ (live answers + the same estimate): people
AMD hung up on as machines count as abandoned. The estimate is machine verdicts × the false-positive share:
the share of QA-labelled machine verdicts that were people, drawn toward the prior below (1 %,
docs/compliance.md#amd) with the weight of PRIOR_LABELS labels, so a handful of labels cannot swing it.

Both rates are given over everything stored and over their own window before the newest fact (US: the last
30 days, UK: the last 24 hours), which is what the rules limit.

``rule`` says which of the two the campaign's dials were placed under (its profile, recorded on every
``outbound.placed``): "us", "uk" or "custom"; dials recorded before the rule was (always the US window)
count as "us"; a campaign whose profile changed shows each, joined by "+". A connect is late when it came
after its own rule's window: 2 s from the greeting's end (US, custom), 2.3 s from the answer (UK).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.model.facts import Fact

FP_SHARE_PRIOR = 0.01
PRIOR_LABELS = 100
US_WINDOW = 30 * 86400.0
UK_WINDOW = 86400.0
# the rule's window, from which moment of the verdict (docs/compliance.md#abandoned-call)
LIMITS = {"uk": ("answered_at", 2.3), "us": ("greeting_end", 2.0), "custom": ("greeting_end", 2.0)}


def fp_share_from(people: int, labels: int, prior: float = FP_SHARE_PRIOR) -> float:
    return (people + prior * PRIOR_LABELS) / (labels + PRIOR_LABELS)


def abandon_rates(abandoned: int, connected: int, machines: int, fp_share: float) -> tuple[float | None, float | None]:
    live = connected + abandoned
    fp = machines * fp_share
    us = round(abandoned / live, 4) if live else None
    uk = round((abandoned + fp) / (live + fp), 4) if live + fp else None
    return us, uk


def campaign_report(facts: Iterable[Fact], fp_share: float | None = None) -> dict[str, dict[str, Any]]:
    """``fp_share`` fixes the false-positive share (tests, what-ifs); by default it comes from QA labels."""
    out: dict[str, dict[str, Any]] = {}
    rules: dict[str, set[str]] = {}
    verdicts: dict[str, Fact] = {}
    # per campaign, (time, kind) of the facts the windowed rates count
    timeline: dict[str, list[tuple[float, str]]] = {}
    newest = 0.0

    def rep(name: str) -> dict[str, Any]:
        return out.setdefault(name, {"dials": 0, "outcomes": {}, "machines": 0, "connected": 0, "abandoned": 0,
                                     "talk_seconds": 0.0, "after_greeting": [], "late_connects": 0,
                                     "qa_labels": 0, "qa_people": 0})  # fmt: skip

    for f in facts:
        if not f.kind.startswith("outbound."):
            continue
        name = str(f.data.get("campaign", ""))
        r = rep(name)
        newest = max(newest, f.at)
        if f.kind == "outbound.placed":
            r["dials"] += 1
            rules.setdefault(name, set()).add(str(f.data.get("rule") or "us"))
        elif f.kind == "outbound.result":
            o = str(f.data.get("outcome"))
            r["outcomes"][o] = r["outcomes"].get(o, 0) + 1
        elif f.kind == "outbound.verdict":
            r["outcomes"]["answered"] = r["outcomes"].get("answered", 0) + 1
            verdicts[f.call_id] = f
        elif f.kind == "outbound.machine":
            r["machines"] += 1
            timeline.setdefault(name, []).append((f.at, "machine"))
        elif f.kind == "outbound.connect":
            r["connected"] += 1
            timeline.setdefault(name, []).append((f.at, "connected"))
            wait = float(f.data.get("after_greeting") or 0.0)
            r["after_greeting"].append(wait)
            r["late_connects"] += late_connect(f, verdicts.get(f.call_id), wait)
        elif f.kind == "outbound.abandon":
            r["abandoned"] += 1
            timeline.setdefault(name, []).append((f.at, "abandoned"))
        elif f.kind == "outbound.talk_end":
            r["talk_seconds"] += float(f.data.get("talk") or 0.0)
        elif f.kind == "outbound.qa":
            r["qa_labels"] += 1
            r["qa_people"] += not f.data.get("machine")
    for name, r in out.items():
        r["rule"] = "+".join(sorted(rules.get(name, {"us"})))
        share = fp_share if fp_share is not None else fp_share_from(r.pop("qa_people"), r["qa_labels"])
        r.pop("qa_people", None)
        r["fp_share"] = round(share, 4)
        waits = sorted(r.pop("after_greeting"))
        r["live"] = r["connected"] + r["abandoned"]
        r["abandon_rate_us"], r["abandon_rate_uk"] = abandon_rates(r["abandoned"], r["connected"], r["machines"], share)
        for key, window, pick in (("abandon_rate_us_30d", US_WINDOW, 0), ("abandon_rate_uk_24h", UK_WINDOW, 1)):
            n = {"connected": 0, "abandoned": 0, "machine": 0}
            for at, kind in timeline.get(name, []):
                if at > newest - window:
                    n[kind] += 1
            r[key] = abandon_rates(n["abandoned"], n["connected"], n["machine"], share)[pick]
        r["connect_after_greeting_p50"] = round(waits[len(waits) // 2], 3) if waits else None
        r["connect_after_greeting_max"] = round(waits[-1], 3) if waits else None
        r["talk_seconds"] = round(r["talk_seconds"], 1)
    return out


def late_connect(connect: Fact, verdict: Fact | None, after_greeting: float) -> bool:
    """Later than the window of the rule the dial was placed under (from its verdict); without a verdict
    carrying the rule (older records) the US reading of ``after_greeting``."""
    if verdict is None or "at" not in connect.data:
        return after_greeting > 2.0
    start_key, limit = LIMITS.get(str(verdict.data.get("rule") or "us"), LIMITS["us"])
    start = verdict.data.get(start_key)
    if start is None:
        return after_greeting > 2.0
    return float(connect.data["at"]) - float(start) > limit


def add_definitions(report: dict[str, dict[str, Any]], versions: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Add to each campaign the definition versions it ran under (``definitions``: hash and first-seen time,
    oldest first; each in force until the next one's first-seen time). Campaigns with stored definitions but
    no dials get an entry too."""
    for v in versions:
        report.setdefault(v.campaign, {}).setdefault("definitions", []).append(v.summary())
    return report
