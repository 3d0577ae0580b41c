"""A call back seen late: the engine lagging behind Asterisk (a starved machine) may apply a whole call back, the
agent's answer, the customer's answer, the talk and both hang-ups, before the connector looks at the model. That
was a conversation: the customer must not be called again."""

from __future__ import annotations

import asyncio
from typing import Any

from acd.waiting import CallbackPlan
from engine.model.facts import Fact
from tests.test_acd_parts import CALL, _ami, acd, waiting

AGENT = "PJSIP/1001-00000002"
CUSTOMER = "PJSIP/trunk-00000003"
NUMBER = "+8613800138000"


def test_a_call_back_over_before_the_connector_looks_is_a_conversation_not_an_attempt_to_retry(tmp_path):
    w = acd(tmp_path, fail=False)
    connector = w.d.call_back
    written = w.ledger.written

    async def facts(call_id: str | None = None, kinds: tuple[str, ...] = (), since: Any = None) -> list[Fact]:
        return [f for f in written if call_id is None or f.call_id == call_id]

    w.ledger.facts = facts

    async def until(predicate: Any, timeout: float) -> bool:
        leg = next((a for a in w.model.associations if a.startswith("cb-")), None)
        if leg is not None and leg not in w.model.ended:
            cust = "1796143900.9"
            frames = [
                _ami("Newchannel", leg, AGENT), _ami("Newstate", leg, AGENT, ChannelState="6"),
                _ami("OriginateResponse", leg, AGENT, Response="Success", Reason="4"),
                _ami("Newchannel", cust, CUSTOMER, Linkedid=leg),
                _ami("DialBegin", leg, AGENT, DestUniqueid=cust),
                _ami("Newstate", cust, CUSTOMER, Linkedid=leg, ChannelState="6"),
                _ami("DialEnd", leg, AGENT, DestUniqueid=cust, DialStatus="ANSWER"),
                _ami("BridgeEnter", leg, AGENT, BridgeUniqueid="b2"),
                _ami("BridgeEnter", cust, CUSTOMER, Linkedid=leg, BridgeUniqueid="b2"),
                _ami("BridgeLeave", cust, CUSTOMER, Linkedid=leg, BridgeUniqueid="b2"),
                _ami("Hangup", cust, CUSTOMER, Linkedid=leg, Cause="16"),
                _ami("BridgeLeave", leg, AGENT, BridgeUniqueid="b2"), _ami("Hangup", leg, AGENT, Cause="16"),
            ]  # fmt: skip
            for i, frame in enumerate(frames):
                w.now[0] += 1.0 if i != 9 else 60.0  # a minute's talk
                written.extend(w.model.apply(frame, w.now[0]))
        return bool(predicate())

    async def caught_up(timeout: float) -> bool:
        return True

    connector.calls.until, connector.calls.caught_up = until, caught_up

    async def sleep(seconds: float) -> None:
        w.now[0] += seconds

    connector.clock.sleep = sleep

    async def run() -> None:
        await w.d.agents.control("1001", "login")
        waiting(w, on_line=False, callback=CallbackPlan(NUMBER))  # nobody on the line: the caller hung up
        d = w.d.router.next_decision(w.now[0])
        assert d is not None
        await w.d._assign(d, w.now[0])
        for coro in w.spawned:
            await coro

    asyncio.run(run())
    kinds = [f.kind for f in written if f.kind.startswith("acd.")]
    assert "acd.callback_attempt" not in kinds, "no second attempt: the customer talked"
    assert "acd.callback_connected" in kinds and "acd.callback_done" in kinds, kinds
    done = next(f for f in written if f.kind == "acd.callback_done")
    assert done.data["outcome"] == "connected" and done.data["talk"] >= 60.0
    assert CALL not in w.d.line.queued and CALL not in w.d.callbacks.parked
    assert not [a for a in w.actions.sent if a["Action"] == "Hangup"], "nothing left to hang up"
