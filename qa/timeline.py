"""A recorded call's timeline for the replay page, from the ledger (pure): what happened, when, in seconds from
the recording's start (negative before it: the menu, the queue, the ring).

Each marker is (seconds, kind, label); a click on one seeks the recording there (a marker before the recording
starts seeks to its start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.model.facts import Fact


@dataclass(frozen=True)
class Marker:
    at: float  # seconds from the recording's start
    kind: str  # arrival, menu, queue, ring, connect, hold, unhold, transfer, survey, case, dial, answer, end
    label: str

    def as_dict(self) -> dict[str, object]:
        return {"at": round(self.at, 2), "kind": self.kind, "label": self.label}


def _label(f: Fact) -> tuple[str, str] | None:
    d = f.data
    k = f.kind
    if k == "channel.new" and d.get("role") == "caller":
        return "arrival", "call arrives"
    if k == "ivr.step" and d.get("step") not in (None, "", "hangup"):
        return "menu", f"{d.get('node', '')}: {d.get('step')}".strip()
    if k == "call.queued":
        return "queue", f"queue {d.get('service', '')}".strip()
    if k == "agent.offer":
        return "ring", f"rings agent {d.get('agent', '')}".strip()
    if k in ("hold", "unhold"):
        return k, k
    if k == "ivr.transfer":
        return "transfer", f"transfer to {d.get('number', '')}".strip()
    if k == "ivr.survey":
        return "survey", f"survey score {d.get('score')}"
    if k == "ivr.message" and d.get("ok"):
        return "case", f"{d.get('kind', 'message')} recorded, case {d.get('case', '')}".strip()
    if k == "outbound.placed":
        return "dial", f"dialed (campaign {d.get('campaign', '')})"
    if k == "outbound.verdict":
        return "answer", f"answered, AMD {d.get('amd', '-')}"
    if k == "outbound.connect":
        return "connect", f"connected to agent {d.get('agent', '')}".strip()
    if k == "call.end":
        return "end", "call ends"
    return None


def timeline(facts: Sequence[Fact], started_at: float) -> list[Marker]:
    """The call's markers in time order; ``started_at``: when the recording started (the connect)."""
    out: list[Marker] = []
    seen_menu: set[str] = set()
    for f in sorted(facts, key=lambda f: f.at):
        got = _label(f)
        if got is None:
            continue
        kind, label = got
        if kind == "menu":  # a node visited again (a repeat) is one marker, at its first visit
            if label in seen_menu:
                continue
            seen_menu.add(label)
        out.append(Marker(f.at - started_at, kind, label))
    # the connect of an inbound call: the recording starts there (MixMonitor runs from the bridge)
    if not any(m.kind == "connect" for m in out):
        out.append(Marker(0.0, "connect", "connected to the agent: the recording starts"))
    return sorted(out, key=lambda m: m.at)
