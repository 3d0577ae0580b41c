"""The formula of every figure a report prints, printed under it (docs/metrics.md is the long form). The service
figures are engine/store/stats.py's own words, so a report and the demo's statistics say the same thing."""

from __future__ import annotations

from engine.store.stats import FORMULAS as STATS

SATISFACTION_TARGET = 95.0  # the site's rule: customer satisfaction of 95 or more (per cent)

FORMULAS: dict[str, str] = {
    **{k: v for k, v in STATS.items() if k != "service_level"},
    "service_level": "answered within T / (answered + abandoned after T), T = each call's service's sl_target",
    "timeouts": "callers who left after the service's max_wait (in other)",
    "longest_wait": "the longest queue wait of any offered call: to the connect, or to the end when not answered",
    "abandoned_calls": "each abandoned call (short ones marked): time, service, masked caller, wait",
    # the agents report
    "first_login": "the first login of the period (site time); none when the agent was logged in already",
    "last_logout": "the last logout of the period (site time); none when the agent stayed logged in",
    "logged_in": "seconds available or paused (a campaign agent: its session up)",
    "pause": "seconds paused, per reason",
    "inbound_calls": "queued calls the agent answered (counted when they entered the queue)",
    "outbound_conversations": "dialer calls connected to the agent (outbound.connect)",
    "talk": "connect to the first hang-up, minus hold, seconds, over answered calls",
    "hold": "Hold to Unhold on either leg, seconds, over answered calls",
    "wrap_up": "hang-up to ready again (agent.wrap_up), seconds, over answered calls",
    "outbound_talk": "seconds of dialer conversations (outbound.talk_end)",
    "occupancy": "(talk + hold + wrap-up + outbound talk) / (that + available idle time), time cut at the "
                 "period's bounds; paused and logged-out time excluded",
    "dispositions": "the agent's dispositions of dialer calls, by label",
    "csat": "mean survey score (1-5) of the agent's calls",
    "csat_top2": "share of the agent's survey scores that are 4 or 5 (top-2-box)",
    "qa_score": "mean QA score (0-100) of the agent's graded calls; a corrected grade counts once, as corrected",
    # the hotline sheet
    "ring_3": "answered with ring time <= 15 s (3 rings, from the agent's alerting) / answered with a ring time",
    "overflowed": "answered calls routed at a service rule step after the first (an overflow step)",
    "lent": "answered calls taken by an outbound agent the dialer lent to the hotline",
    "guard_reserves": "times the guard held an outbound agent back from the dialer for the hotline",
    "over_limit": "callers over the menu's session limit (sent to the overflow message)",
    "surveys": "survey responses of the hotline's calls",
    "satisfaction": "top-2-box share of survey scores (4s and 5s), per cent",
    "satisfaction_met": "satisfaction >= the target of 95",
    # the campaigns report (dialer/report.py, docs/compliance.md)
    "dials": "calls the dialer placed (outbound.placed)",
    "outcomes": "dial results by outcome; answered = a verdict was given",
    "machines": "answering machines detected",
    "conversations": "calls connected to an agent",
    "live": "conversations + abandoned (live answers)",
    "abandon_rate_us": "abandoned / live answers",
    "abandon_rate_uk": "(abandoned + machines x fp share) / (live answers + machines x fp share)",
    "late_connects": "connects later than the rule's window (US 2 s from the greeting's end, UK 2.3 s from answer)",
}  # fmt: skip

# the campaigns report's own figures of the same name
CAMPAIGN_FORMULAS = {
    "abandoned": "live answers no agent took within the rule's window (outbound.abandon, the abandon message)",
    "talk": "seconds of conversations (outbound.talk_end)",
}


def formula(name: str, report: str = "") -> str:
    if report == "campaigns" and name in CAMPAIGN_FORMULAS:
        return CAMPAIGN_FORMULAS[name]
    return FORMULAS.get(name, "")


def ratio(num: float, den: float, digits: int = 4) -> float | None:
    return round(num / den, digits) if den else None
