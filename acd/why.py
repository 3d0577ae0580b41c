"""`hotline why CALL_ID`: every routing decision for a call, with the candidates and why each was skipped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.model.facts import Fact


def explain_call(facts: list[Fact], tz: Any = None) -> list[str]:
    lines: list[str] = []
    offers = {f.data.get("leg"): f for f in facts if f.kind == "agent.offer"}
    answered = {f.uniqueid for f in facts if f.kind == "channel.up"}
    decisions = [f for f in facts if f.kind == "route.decision"]
    if not decisions:
        return ["no routing decision recorded for this call"]
    for n, d in enumerate(decisions, start=1):
        when = dt.datetime.fromtimestamp(d.at, tz).strftime("%Y-%m-%d %H:%M:%S")
        agent = d.data.get("agent")
        legs = [leg for leg, o in offers.items() if o.data.get("agent") == agent and o.at >= d.at]
        result = "answered" if legs and legs[0] in answered else "not answered"
        how = f"strategy {d.data['strategy']}, " if d.data.get("strategy") else ""  # older decisions lack it
        lines.append(f"decision {n} at {when}: service {d.data.get('service')}, agent {agent} "
                     f"({how}score {d.data.get('score')}, rule step {d.data.get('step')}) -> {result}")  # fmt: skip
        for c in d.data.get("candidates", []):
            lines.append(f"  {c['agent']:<12} {c['reason']}")
    return lines
