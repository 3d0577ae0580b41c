"""Close a call that ended while the engine was away, from Asterisk's own records: a pure function.

The ledger holds what the engine saw before it went away (the caller's channel, its menu, the offer to an
agent, perhaps the bridge); CEL holds every channel event Asterisk wrote meanwhile. The facts missing from
the ledger are made from CEL rows under the same keys the call model uses (``up:<uid>``,
``benter:<uid>:<bridge>``, ``hangup:<uid>``...), so appending them adds only what the ledger lacks: a replay
that is idempotent, whatever the engine had written before it died. Each carries ``reconstructed: true``.

Without CEL rows for the caller, the CDR's end (to the second) closes it; without either, the call is closed
at its last known fact and marked approximate, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.asterisk.call_logs import CdrCall, CelEvent
from engine.model.facts import Fact, fact_key

RECONSTRUCTED = "reconstructed"
APPROXIMATE = "approximate"


@dataclass(frozen=True)
class Closing:
    facts: list[Fact]  # the missing facts, call.end last
    closed: str  # RECONSTRUCTED or APPROXIMATE
    reason: str


def endpoint_of(channel: str) -> str:
    """``PJSIP/agent1001-0000002a`` -> ``agent1001``."""
    tech, _, rest = channel.partition("/")
    return rest.rsplit("-", 1)[0] if tech and rest else ""


def call_channels(call_id: str, facts: list[Fact], cel: list[CelEvent]) -> set[str]:
    """Every channel of the call: those the ledger knows, its offers' legs, and those CEL links to it (an agent
    leg takes the caller's Linkedid when it enters the bridge). An always-on agent's session channel is not one:
    it outlives the caller and serves the calls after it, so it neither keeps the call open nor ends with it."""
    uids = {f.uniqueid for f in facts if f.kind == "channel.new"}
    uids |= {str(f.data.get("leg")) for f in facts
             if f.kind == "agent.offer" and f.data.get("leg") and not f.data.get("session")}  # fmt: skip
    uids |= {e.uniqueid for e in cel if e.linkedid == call_id}
    return uids


def replay(call_id: str, facts: list[Fact], cel: list[CelEvent], agents_by_endpoint: Mapping[str, str]) -> list[Fact]:
    """The facts of ``call_id`` that CEL holds, under the model's keys (those the ledger has are skipped when
    appended): for a call still live after a gap in the link too, e.g. a bridge entered while AMI was cut."""
    uids = call_channels(call_id, facts, cel)
    events = sorted((e for e in cel if e.uniqueid in uids), key=lambda e: e.at)
    known_new = {f.uniqueid for f in facts if f.kind == "channel.new"}
    offered = {str(f.data.get("leg")) for f in facts if f.kind == "agent.offer"}
    queued = next((f for f in facts if f.kind == "call.queued"), None)
    out: list[Fact] = []

    def add(kind: str, e: CelEvent, *key_parts: object, **data: object) -> None:
        out.append(Fact(kind, e.at, call_id, e.uniqueid, fact_key(kind, *key_parts), {**data, "reconstructed": True}))

    in_bridge: dict[str, set[str]] = {}
    for e in events:
        uid = e.uniqueid
        if e.event == "CHAN_START" and uid not in known_new:
            agent = agents_by_endpoint.get(endpoint_of(e.channel), "")
            role = "agent" if agent else "other"
            add("channel.new", e, uid, channel=e.channel, role=role, caller=e.caller, exten=e.exten,
                context=e.context, **({"agent": agent} if agent else {}))  # fmt: skip
            if agent and uid not in offered:
                # the engine rang this agent but died before writing the offer: the leg says who it was
                add("agent.offer", e, uid, agent=agent, leg=uid,
                    service=str(queued.data.get("service", "")) if queued else "")  # fmt: skip
        elif e.event == "ANSWER":
            add("channel.up", e, uid)
        elif e.event == "BRIDGE_ENTER":
            bid = str(e.extra.get("bridge_id", ""))
            members = in_bridge.setdefault(bid, set())
            add("bridge.enter", e, uid, bid, bridge=bid, peers=sorted(members))
            members.add(uid)
        elif e.event == "BRIDGE_EXIT":
            bid = str(e.extra.get("bridge_id", ""))
            in_bridge.get(bid, set()).discard(uid)
            add("bridge.leave", e, uid, bid, bridge=bid)
        elif e.event == "HANGUP":
            if e.extra.get("hangupsource") == e.channel:
                add("hangup.request", e, uid, cause=str(e.extra.get("hangupcause", "")))
            add("channel.hangup", e, uid, cause=str(e.extra.get("hangupcause", "")), cause_txt="")
    return out


def close_call(call_id: str, facts: list[Fact], cel: list[CelEvent], cdr: Mapping[str, CdrCall],
               agents_by_endpoint: Mapping[str, str]) -> Closing:  # fmt: skip
    """The facts that complete ``call_id`` (whose channels are all gone), ending with its ``call.end``."""
    caller = next(f for f in facts if f.kind == "channel.new" and f.data.get("role") == "caller")
    uids = call_channels(call_id, facts, cel)
    known_new = {f.uniqueid for f in facts if f.kind == "channel.new"}
    out = replay(call_id, facts, cel, agents_by_endpoint)
    hung = {f.uniqueid: f.at for f in out if f.kind == "channel.hangup"}
    hung.update({f.uniqueid: f.at for f in facts if f.kind == "channel.hangup"})
    cuid = caller.uniqueid
    closed, reason, source = RECONSTRUCTED, "", "cel"
    if cuid not in hung:
        row = cdr.get(cuid)
        if row is not None and row.end is not None:
            source = "cdr"
            end = row.end
            if row.answer is not None and not any(f.kind == "channel.up" and f.uniqueid == cuid for f in facts):
                out.append(Fact("channel.up", row.answer, call_id, cuid, fact_key("channel.up", cuid),
                                {"reconstructed": True}))  # fmt: skip
        else:
            closed = APPROXIMATE
            reason = f"Asterisk has no CEL or CDR record of the end of channel {cuid}: closed at its last known fact"
            end = max([f.at for f in facts] + [f.at for f in out])
        exact = closed == RECONSTRUCTED
        out.append(Fact("channel.hangup", end, call_id, cuid, fact_key("channel.hangup", cuid),
                        {"cause": "", "reconstructed": exact, "approx": not exact}))  # fmt: skip
        hung[cuid] = end
    end_at = max(hung.values())
    seen = known_new | {f.uniqueid for f in out if f.kind == "channel.new"}
    for uid in sorted(uids - set(hung)):
        if uid in seen:
            # a leg with no end of its own on record: it cannot have outlived the call
            out.append(Fact("channel.hangup", end_at, call_id, uid, fact_key("channel.hangup", uid),
                            {"cause": "", "approx": True}))  # fmt: skip
    if closed == APPROXIMATE:
        source = ""
    out.append(Fact("call.end", end_at, call_id, cuid, fact_key("call.end", call_id),
                    {"closed": closed, "reason": reason, "source": source}))  # fmt: skip
    return Closing(out, closed, reason)
