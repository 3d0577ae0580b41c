"""Taking back callers after a resync (acd/adopting.py) while the IVR hands over the same callers."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from acd.adopting import Adoption
from acd.line import Line
from acd.services import AcdServices
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
    """The ACD's line and its adoption on fake ports: the caller waiting in the dialplan, its facts in the
    ledger; ``on_read`` runs while the ledger is read (another task's turn)."""

    async def facts(call_id: str | None = None, kinds: Any = None) -> list[Fact]:
        await asyncio.sleep(0)
        on_read()
        return facts_

    async def open_calls(since: float) -> list[str]:
        return [CALL]

    async def until(predicate: Any, timeout: float) -> None:
        return None

    chan = Channel(CALL, CALL, "PJSIP/trunk-1", context=context, role="caller", call_id=CALL)
    calls = SimpleNamespace(model=SimpleNamespace(channels={CALL: chan}), until=until)
    ledger = SimpleNamespace(facts=facts)
    clock = SimpleNamespace(now=lambda: 200.0)
    router = Router()
    line = Line(router, "hotline")  # type: ignore[arg-type]
    agents = SimpleNamespace(machines={})
    adoption = Adoption(None, calls, ledger, SimpleNamespace(open_calls=open_calls), None, clock, line,  # type: ignore[arg-type]
                        agents, None, None)  # type: ignore[arg-type]
    dispatcher = SimpleNamespace(line=line, notifier=None)
    services = AcdServices(dispatcher, SimpleNamespace(action=None), calls, ledger, clock, [])  # type: ignore[arg-type]
    return SimpleNamespace(queued=line.queued, router=router, line=line, adoption=adoption, services=services)


def test_a_caller_the_hand_over_queued_while_the_ledger_was_read_is_not_adopted_again():
    w = world(lambda: w.queued.setdefault(CALL, "queued by the IVR's hand-over"))
    asyncio.run(w.adoption.adopt())
    assert w.queued == {CALL: "queued by the IVR's hand-over"} and w.router.enqueued == []


def test_a_caller_adopted_while_the_hand_over_read_the_ledger_is_not_queued_twice():
    w = world(lambda: w.queued.setdefault(CALL, "adopted by the resync"))
    waiting = Waiting(CALL, CALL, "PJSIP/trunk-1", "13800138000", service="hotline")
    asyncio.run(w.services.enqueue(waiting))
    assert w.queued == {CALL: "adopted by the resync"} and w.router.enqueued == []


def test_a_caller_waiting_in_the_dialplan_is_put_back_in_line_once_in_its_place():
    w = world(lambda: None)
    asyncio.run(w.adoption.adopt())
    asyncio.run(w.adoption.adopt())  # a second resync
    assert w.router.enqueued == [CALL]
    assert (w.queued[CALL].entered_at, w.queued[CALL].service) == (100.0, "hotline")


def test_a_caller_whose_hand_over_is_under_way_is_left_to_it():
    """At start the IVR may have queued a caller the model does not yet see waiting: its hand-over queues it,
    with its ENTERQUEUE line; the resync's adoption must not take it first."""
    w = world(lambda: None)
    w.line.handing_over.add(CALL)
    asyncio.run(w.adoption.adopt())
    assert w.queued == {} and w.router.enqueued == []


def test_a_caller_sent_to_the_music_by_a_dying_ivr_before_it_wrote_call_queued_is_still_put_in_line():
    w = world(lambda: None, FACTS[:1])
    asyncio.run(w.adoption.adopt())
    assert w.router.enqueued == [CALL]
    assert (w.queued[CALL].entered_at, w.queued[CALL].service) == (100.0, "hotline")
    # one still in the menu is the IVR's (or, if the engine died, the degraded menu's), not the line's
    w = world(lambda: None, FACTS[:1], context="from-trunk")
    asyncio.run(w.adoption.adopt())
    assert w.router.enqueued == [] and w.queued == {}


def _lagging(frames: list[Any], ended: bool = False) -> SimpleNamespace:
    """The hand-over against a real call model that has not yet applied the caller's events: they wait in the
    link's queue and are applied only when the hand-over asks the engine to catch up."""
    from engine.asterisk.ami_codec import Frame
    from engine.model.calls import CallModel

    model = CallModel()
    if ended:
        model.apply(Frame([("Event", "Hangup"), ("Uniqueid", CALL), ("Cause", "16")]), 150.0)
    pending = [Frame(list(f.items())) for f in frames]
    asked: list[str] = []

    async def until(predicate: Any, timeout: float) -> bool:
        asked.append("until")
        return predicate()

    async def caught_up(timeout: float) -> bool:
        asked.append("caught_up")
        for f in pending:
            model.apply(f, 201.0)
        return True

    async def facts(call_id: str | None = None, kinds: Any = None) -> list[Fact]:
        return FACTS[:1]

    async def enter_queue(*args: Any) -> None:
        asked.append("enter_queue")

    calls = SimpleNamespace(model=model, until=until, caught_up=caught_up)
    line = Line(Router(), "hotline")  # type: ignore[arg-type]
    dispatcher = SimpleNamespace(line=line, notifier=SimpleNamespace(enter_queue=enter_queue))
    services = AcdServices(dispatcher, SimpleNamespace(action=None), calls, SimpleNamespace(facts=facts),  # type: ignore[arg-type]
                           SimpleNamespace(now=lambda: 200.0), [])  # fmt: skip
    return SimpleNamespace(services=services, line=line, asked=asked)


def test_a_hand_over_the_model_has_not_caught_up_with_still_puts_the_caller_in_line():
    """Seen under load at the engine's start: the IVR sent the caller to the music while the model was still busy
    with the resync; the hand-over took the channel it had not seen yet for gone, and the caller waited for good."""
    caller = {"Uniqueid": CALL, "Linkedid": CALL, "Channel": "PJSIP/trunk-1", "ChannelState": "6",
              "CallerIDNum": "13800138000", "Exten": "s"}  # fmt: skip
    frames = [{"Event": "Newchannel", **caller, "Context": "from-trunk"},
              {"Event": "Newexten", **caller, "Context": WAIT_CONTEXT}]  # fmt: skip
    w = _lagging(frames)
    asyncio.run(w.services.enqueue(Waiting(CALL, CALL, "PJSIP/trunk-1", "13800138000", service="hotline")))
    assert w.asked == ["until", "caught_up", "enter_queue"] and list(w.line.queued) == [CALL]
    # a caller the model saw hang up is not waited for, nor put in line
    w = _lagging([], ended=True)
    asyncio.run(w.services.enqueue(Waiting(CALL, CALL, "PJSIP/trunk-1", "13800138000", service="hotline")))
    assert w.asked == ["until"] and w.line.queued == {}
