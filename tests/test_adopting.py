"""Taking back callers after a resync (acd/adopting.py) while the IVR hands over the same callers."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from acd.adopting import Adoption
from acd.dispatcher import Dispatcher
from engine.dialplan import WAIT_CONTEXT
from engine.model.calls import Channel
from engine.model.facts import Fact
from ivr.session import Waiting

CALL = "1796143868.0"
FACTS = [
    Fact("channel.new", 100.0, CALL, CALL, f"new:{CALL}", {"role": "caller", "channel": "PJSIP/trunk-1"}),
    Fact("call.queued", 103.0, CALL, CALL, f"queued:{CALL}", {"service": "hotline"}),
]


class Router:
    services = {"hotline": object()}

    def __init__(self) -> None:
        self.enqueued: list[str] = []

    def enqueue(self, caller: Any) -> None:
        self.enqueued.append(caller.call_id)


def world(on_read: Any, facts_: list[Fact] = FACTS, context: str = WAIT_CONTEXT) -> SimpleNamespace:
    """A dispatcher's state for the mixin: the caller waiting in the dialplan, its facts in the ledger;
    ``on_read`` runs while the ledger is read (another task's turn)."""

    async def facts(call_id: str | None = None, kinds: Any = None) -> list[Fact]:
        await asyncio.sleep(0)
        on_read()
        return facts_

    async def open_calls(since: float) -> list[str]:
        return [CALL]

    async def until(predicate: Any, timeout: float) -> None:
        return None

    chan = Channel(CALL, CALL, "PJSIP/trunk-1", context=context, role="caller", call_id=CALL)
    engine = SimpleNamespace(store=SimpleNamespace(facts=facts, open_calls=open_calls),
                             model=SimpleNamespace(channels={CALL: chan}), clock=SimpleNamespace(now=lambda: 200.0),
                             until=until)  # fmt: skip
    w = SimpleNamespace(engine=engine, queued={}, _offering={}, _connected={}, machines={}, router=Router(),
                        service="hotline", _caller=Dispatcher._caller, _handing_over=set())  # fmt: skip
    w._enqueue = lambda waiting: Dispatcher._enqueue(w, waiting)  # type: ignore[arg-type]
    w._tracked = lambda call_id: Adoption._tracked(w, call_id)  # type: ignore[arg-type]
    w._queued_from = Adoption._queued_from
    return w


def test_a_caller_the_hand_over_queued_while_the_ledger_was_read_is_not_adopted_again():
    w = world(lambda: w.queued.setdefault(CALL, "queued by the IVR's hand-over"))
    asyncio.run(Adoption._adopt(w))  # type: ignore[arg-type]
    assert w.queued == {CALL: "queued by the IVR's hand-over"} and w.router.enqueued == []


def test_a_caller_adopted_while_the_hand_over_read_the_ledger_is_not_queued_twice():
    w = world(lambda: w.queued.setdefault(CALL, "adopted by the resync"))
    waiting = Waiting(CALL, CALL, "PJSIP/trunk-1", "13800138000", service="hotline")
    asyncio.run(Dispatcher.enqueue(w, waiting))  # type: ignore[arg-type]
    assert w.queued == {CALL: "adopted by the resync"} and w.router.enqueued == []


def test_a_caller_waiting_in_the_dialplan_is_put_back_in_line_once_in_its_place():
    w = world(lambda: None)
    asyncio.run(Adoption._adopt(w))  # type: ignore[arg-type]
    asyncio.run(Adoption._adopt(w))  # type: ignore[arg-type]  # a second resync
    assert w.router.enqueued == [CALL]
    assert (w.queued[CALL].entered_at, w.queued[CALL].service) == (100.0, "hotline")


def test_a_caller_whose_hand_over_is_under_way_is_left_to_it():
    """At start the IVR may have queued a caller the model does not yet see waiting: its hand-over queues it,
    with its ENTERQUEUE line; the resync's adoption must not take it first."""
    w = world(lambda: None)
    w._handing_over.add(CALL)
    asyncio.run(Adoption._adopt(w))  # type: ignore[arg-type]
    assert w.queued == {} and w.router.enqueued == []


def test_a_caller_sent_to_the_music_by_a_dying_ivr_before_it_wrote_call_queued_is_still_put_in_line():
    w = world(lambda: None, FACTS[:1])
    asyncio.run(Adoption._adopt(w))  # type: ignore[arg-type]
    assert w.router.enqueued == [CALL]
    assert (w.queued[CALL].entered_at, w.queued[CALL].service) == (100.0, "hotline")
    # one still in the menu is the IVR's (or, if the engine died, the degraded menu's), not the line's
    w = world(lambda: None, FACTS[:1], context="from-trunk")
    asyncio.run(Adoption._adopt(w))  # type: ignore[arg-type]
    assert w.router.enqueued == [] and w.queued == {}
