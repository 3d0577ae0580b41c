"""IVR report from the ledger: per node, how many callers entered, chose each option, were invalid,
timed out, fell to the default, or hung up there; callers over the session limit; degraded calls; and
the post-call survey (CSAT: mean and top-2-box share of 4s and 5s, per agent, docs/metrics.md#csat)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from engine.model.facts import Fact


def ivr_report(facts: Iterable[Fact]) -> dict[str, Any]:
    nodes: dict[str, Counter[str]] = defaultdict(Counter)
    options: dict[str, Counter[str]] = defaultdict(Counter)
    calls: set[str] = set()
    overflow = degraded = callbacks = messages = transfers = 0
    scores: dict[str, list[int]] = defaultdict(list)
    for f in facts:
        if f.kind == "ivr.step":
            node, step = str(f.data.get("node")), str(f.data.get("step"))
            calls.add(f.call_id)
            if step == "enter":
                nodes[node]["entered"] += 1
            elif step == "digit":
                options[node][str(f.data.get("detail"))] += 1
            elif step in ("invalid", "timeout", "hangup", "default", "open", "closed", "holiday", "collected"):
                nodes[node][step] += 1
        elif f.kind == "ivr.overflow":
            overflow += 1
        elif f.kind == "ivr.degraded":
            degraded += 1
        elif f.kind == "ivr.callback":
            callbacks += 1
        elif f.kind == "ivr.message":
            messages += 1
        elif f.kind == "ivr.transfer":
            transfers += 1
        elif f.kind == "ivr.survey" and f.data.get("score") is not None:
            scores[str(f.data.get("agent") or "-")].append(int(f.data["score"]))
    all_scores = [s for v in scores.values() for s in v]

    def csat(v: list[int]) -> dict[str, Any]:
        return {"responses": len(v), "mean": round(sum(v) / len(v), 2) if v else None,
                "top2": round(sum(1 for s in v if s >= 4) / len(v), 3) if v else None}  # fmt: skip

    return {
        "calls_in_menu": len(calls),
        "over_limit": overflow,
        "degraded": degraded,
        "callbacks": callbacks,
        "messages": messages,
        "transfers": transfers,
        "nodes": {n: {**dict(c), "options": dict(options.get(n, {}))} for n, c in sorted(nodes.items())},
        "survey": {"all": csat(all_scores), "by_agent": {a: csat(v) for a, v in sorted(scores.items())}},
    }


def format_report(r: dict[str, Any]) -> str:
    out = [f"callers in the menu: {r['calls_in_menu']}   over the session limit: {r['over_limit']}   "
           f"degraded (engine unreachable): {r['degraded']}",
           f"call backs requested: {r['callbacks']}   messages recorded: {r['messages']}   "
           f"transfers out: {r['transfers']}", "",
           f"{'node':<18}{'entered':>8}{'invalid':>8}{'timeout':>8}{'default':>8}{'hang-up':>8}  options"]  # fmt: skip
    for name, c in r["nodes"].items():
        opts = "  ".join(f"{d}:{n}" for d, n in sorted(c["options"].items()))
        extra = "  ".join(f"{k}:{c[k]}" for k in ("open", "closed", "holiday", "collected") if c.get(k))
        counts = "".join(f"{c.get(k, 0):>8}" for k in ("entered", "invalid", "timeout", "default", "hangup"))
        out.append(f"{name:<18}{counts}  {opts}{'  ' + extra if extra else ''}")
    s = r["survey"]["all"]
    out += ["", f"survey: {s['responses']} response(s), mean {s['mean']}, top-2-box {s['top2']}"]
    for agent, v in r["survey"]["by_agent"].items():
        out.append(f"  agent {agent}: {v['responses']} response(s), mean {v['mean']}, top-2-box {v['top2']}")
    return "\n".join(out)
