"""Campaign report from the compliance ledger: outcomes, conversations, and both abandon rates.

US (FTC, 30-day campaign rate): abandoned ÷ live answers (connected + abandoned), as measured.
UK (Ofcom, 24 h): (abandoned + estimated AMD false positives) ÷ (live answers + the same estimate): people
AMD hung up on as machines count as abandoned. The estimate is machine verdicts × the false-positive share;
with no QA labels yet it is the prior below (1 %, docs/compliance.md#amd).

``rule`` says which of the two the campaign's dials were placed under (its profile, recorded on every
``outbound.placed``): "us", "uk" or "custom"; dials recorded before the rule was (always the US window)
count as "us"; a campaign whose profile changed shows each, joined by "+".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.model.facts import Fact

FP_SHARE_PRIOR = 0.01


def campaign_report(facts: Iterable[Fact], fp_share: float = FP_SHARE_PRIOR) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    rules: dict[str, set[str]] = {}

    def rep(name: str) -> dict[str, Any]:
        return out.setdefault(name, {"dials": 0, "outcomes": {}, "machines": 0, "connected": 0, "abandoned": 0,
                                     "talk_seconds": 0.0, "after_greeting": [], "late_connects": 0})  # fmt: skip

    for f in facts:
        if not f.kind.startswith("outbound."):
            continue
        r = rep(str(f.data.get("campaign", "")))
        if f.kind == "outbound.placed":
            r["dials"] += 1
            rules.setdefault(str(f.data.get("campaign", "")), set()).add(str(f.data.get("rule") or "us"))
        elif f.kind == "outbound.result":
            o = str(f.data.get("outcome"))
            r["outcomes"][o] = r["outcomes"].get(o, 0) + 1
        elif f.kind == "outbound.verdict":
            r["outcomes"]["answered"] = r["outcomes"].get("answered", 0) + 1
        elif f.kind == "outbound.machine":
            r["machines"] += 1
        elif f.kind == "outbound.connect":
            r["connected"] += 1
            wait = float(f.data.get("after_greeting") or 0.0)
            r["after_greeting"].append(wait)
            r["late_connects"] += wait > 2.0
        elif f.kind == "outbound.abandon":
            r["abandoned"] += 1
        elif f.kind == "outbound.talk_end":
            r["talk_seconds"] += float(f.data.get("talk") or 0.0)
    for name, r in out.items():
        r["rule"] = "+".join(sorted(rules.get(name, {"us"})))
        live = r["connected"] + r["abandoned"]
        fp = r["machines"] * fp_share
        waits = sorted(r.pop("after_greeting"))
        r["live"] = live
        r["abandon_rate_us"] = round(r["abandoned"] / live, 4) if live else None
        r["abandon_rate_uk"] = round((r["abandoned"] + fp) / (live + fp), 4) if live + fp else None
        r["connect_after_greeting_p50"] = round(waits[len(waits) // 2], 3) if waits else None
        r["connect_after_greeting_max"] = round(waits[-1], 3) if waits else None
        r["talk_seconds"] = round(r["talk_seconds"], 1)
    return out


def add_definitions(report: dict[str, dict[str, Any]], versions: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Add to each campaign the definition versions it ran under (``definitions``: hash and first-seen time,
    oldest first; each in force until the next one's first-seen time). Campaigns with stored definitions but
    no dials get an entry too."""
    for v in versions:
        report.setdefault(v.campaign, {}).setdefault("definitions", []).append(v.summary())
    return report
