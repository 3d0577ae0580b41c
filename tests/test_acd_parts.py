"""The ACD's parts on fake ports: which connector an offer takes, what each typed outcome leads to, and the
queue_log lines and facts the notifier writes for them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acd import connectors
from acd.board import Board
from acd.connectors import Connected, Outcome
from acd.dispatcher import Dispatcher
from acd.queue_log import QueueLog
from acd.queued import Queued
from acd.router import Decision
from acd.settings import HotlineSettings
from acd.waiting import CallbackPlan, CallerPlan
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.config import Agent
from engine.model.calls import CallModel, Channel
from engine.model.facts import Fact, fact_key
from ivr.session import Waiting

AGENTS = [Agent("1001", "Ann", "1001", ""), Agent("1002", "Bo", "1002", "")]
CALL = "1796143868.0"


class Ledger:
    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.written: list[Fact] = []

    async def record(self, facts: list[Fact]) -> None:
        self.written += facts

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        self.written.append(Fact(kind, self.clock.now(), call_id, uniqueid, key, data))

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (), since: Any = None) -> list[Fact]:
        return []


class Actions:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.sent: list[dict[str, Any]] = []
        self.ready = asyncio.Event()

    async def action(self, headers: dict[str, Any], **_: Any) -> Any:
        self.sent.append(headers)
        if self.fail:
            raise AmiError("Originate failed")
        return {}


def acd(tmp_path: Path, *, fail: bool = True, max_misses: int = 3) -> SimpleNamespace:
    now = [100.0]
    clock = SimpleNamespace(now=lambda: now[0], monotonic=lambda: now[0])
    model = CallModel()

    async def until(predicate: Any, timeout: float) -> bool:
        return bool(predicate())

    calls = SimpleNamespace(model=model, until=until)
    ledger = Ledger(clock)
    actions = Actions(fail)
    spawned: list[Any] = []
    spawner = SimpleNamespace(spawn=lambda coro, name: spawned.append(coro))
    recorder = SimpleNamespace(start=None)
    qlog = tmp_path / "queue_log"
    d = Dispatcher(actions=actions, calls=calls, ledger=ledger, records=SimpleNamespace(), spawner=spawner,
                   clock=clock, settings=HotlineSettings(number="4001234567", agent="1001"), agents=AGENTS,
                   services=[], board=Board.build([a.id for a in AGENTS], max_misses=max_misses), recorder=recorder,
                   queue_log=QueueLog(qlog, None))  # type: ignore[arg-type]  # fmt: skip
    return SimpleNamespace(d=d, now=now, model=model, ledger=ledger, actions=actions, spawned=spawned,
                           lines=lambda: qlog.read_text().splitlines())  # fmt: skip


def waiting(w: SimpleNamespace, on_line: bool = True, callback: CallbackPlan | None = None) -> Queued:
    if on_line:
        w.model.channels[CALL] = Channel(CALL, CALL, "PJSIP/trunk-00000001", context="engine-wait", role="caller",
                                         call_id=CALL)  # fmt: skip
    q = Queued(Waiting(CALL, CALL, "PJSIP/trunk-00000001", "13800138000"), "hotline", 90.0, 95.0, 1,
               CallerPlan(90.0, 95.0), callback)  # fmt: skip
    w.d.line.join(q)
    return q


async def offer_to_next_agent(w: SimpleNamespace) -> None:
    d = w.d.router.next_decision(w.now[0])
    assert d is not None
    await w.d._assign(d, w.now[0])
    assert w.d.router.next_decision(w.now[0]) is None  # as the decision loop asks next: nobody else is free
    for coro in w.spawned:
        await coro
    w.spawned.clear()


def test_an_offer_takes_the_connector_the_caller_and_the_agent_call_for(tmp_path):
    w = acd(tmp_path)
    d = w.d
    on_line = Queued(Waiting("a", "a", "", "13800138000"), "hotline", 0.0, 0.0, 1)
    owed = Queued(Waiting("b", "b", "", "13800138000"), "hotline", 0.0, 0.0, 1, None, CallbackPlan("+8613800138000"))
    assert d._connector("1001", on_line) is d.ring
    assert d._connector("1001", owed) is d.call_back
    d.sessions.keeper = SimpleNamespace(session_for=lambda agent: "PJSIP/1001-00000007" if agent == "1001" else None)
    assert d._connector("1001", on_line) is d.join  # idle in its always-on session: joined, not rung
    assert d._connector("1002", on_line) is d.ring
    assert d._connector("1001", owed) is d.call_back  # a call back rings the agent's phone whatever it sits in
    with pytest.raises(Exception):  # noqa: B017 - the outcome is frozen: a connector's answer is final
        Connected(Outcome.ANSWERED).leg = "x"  # type: ignore[misc]


def test_an_offer_that_could_not_ring_keeps_the_callers_place_and_pauses_the_agent_at_its_limit(tmp_path):
    w = acd(tmp_path, fail=True, max_misses=1)

    async def run() -> None:
        await w.d.agents.control("1001", "login")
        waiting(w)
        await offer_to_next_agent(w)

    asyncio.run(run())
    m = w.d.agents.machines["1001"]
    assert m.reason == "no answer"
    assert w.lines() == ["100|MANAGER|hotline|PJSIP/1001|ADDMEMBER|", f"100|{CALL}|hotline|Ann|RINGNOANSWER|0",
                         "100|NONE|hotline|Ann|PAUSE|no answer"]  # fmt: skip
    kinds = [f.kind for f in w.ledger.written]
    assert kinds == ["agent.status", "route.decision", "agent.paused"]  # the decision alone: no offer was made
    assert w.ledger.written[1].key == fact_key("route.decision", CALL, 1, "100.000")
    assert w.ledger.written[2].key == fact_key("agent.paused", "1001", 100.0)
    assert [a["Action"] for a in w.actions.sent] == ["Originate"]
    assert CALL in w.d.line.queued and w.d.line.queued[CALL].missed == {"1001"}  # its place, the next agent first
    assert w.d.line.offering == {}


def test_a_caller_gone_before_the_ring_is_an_abandon_and_frees_the_agent(tmp_path):
    w = acd(tmp_path, fail=False)

    async def run() -> None:
        await w.d.agents.control("1001", "login")
        waiting(w, on_line=False)
        await offer_to_next_agent(w)

    asyncio.run(run())
    assert w.lines()[1:] == [f"100|{CALL}|hotline|NONE|ABANDON|1|1|5"]
    assert w.actions.sent == [] and w.d.line.queued == {}
    assert w.d.board.records["1001"].machine.state.value == "idle"


def test_a_decision_after_a_restart_is_not_taken_for_the_one_before_it(tmp_path):
    # a process counts its decisions from one; the same call routed again after a restart gets a new key
    w = acd(tmp_path)
    q = waiting(w)
    first = Decision(CALL, "1001", 1.0, 0, 2)
    before = w.d.notifier.decision(w.now[0], first, q, 1, [])
    after = w.d.notifier.decision(w.now[0] + 42.0, first, q, 1, [])
    assert before.key != after.key
    assert before.key == w.d.notifier.decision(w.now[0], first, q, 1, []).key, "the same decision, the same key"


def test_a_session_gone_before_the_caller_joined_frees_the_agent_and_keeps_the_callers_place(tmp_path):
    # the agent sat idle in its always-on session when chosen, but the session's channel has just ended (its
    # keeper has not heard yet): nothing rang, so the agent is free again and the caller is tried again
    w = acd(tmp_path, fail=False)
    lent: list[tuple[str, str]] = []
    returned: list[tuple[str, str]] = []

    async def lend(agent: str, call: str) -> str:
        lent.append((agent, call))
        return "PJSIP/1001-00000007"  # no such channel in the model any more

    async def give_back(agent: str, call: str) -> None:
        returned.append((agent, call))

    w.d.sessions.keeper = SimpleNamespace(session_for=lambda agent: "PJSIP/1001-00000007" if agent == "1001" else None,
                                          lend=lend, give_back=give_back)  # fmt: skip

    async def run() -> None:
        await w.d.agents.control("1001", "login")
        waiting(w)
        await offer_to_next_agent(w)

    asyncio.run(run())
    m = w.d.agents.machines["1001"]
    assert m.state.value == "idle" and m.misses == 0, "the agent is free, and missed no ring"
    assert returned == lent == [("1001", CALL)], "the keeper has its agent back"
    assert CALL in w.d.line.queued and w.d.line.offering == {}
    again = w.d.router.next_decision(w.now[0])
    assert again is not None and again.call_id == CALL, "the caller is in the router again, in its place"
    assert [f.kind for f in w.ledger.written] == ["agent.status", "route.decision"]


def _ami(event: str, uid: str, channel: str, **more: str) -> Frame:
    fields = {"Event": event, "Uniqueid": uid, "Linkedid": uid, "Channel": channel, "ChannelState": "0",
              "Context": "agents", "Exten": "s", **more}  # fmt: skip
    return Frame(list(fields.items()))


def _offer(w: SimpleNamespace) -> None:
    """Agent 1001 logs in, the caller waits, and the offer runs to its end (the recorder and the wrap-up faked)."""

    async def start(call_id: str, channel: str) -> None:
        return None

    async def sleep(seconds: float) -> None:
        w.now[0] += seconds  # the wrap-up after the conversation

    w.d.ring.recorder = SimpleNamespace(start=start)
    w.d.ring.clock.sleep = sleep

    async def run() -> None:
        await w.d.agents.control("1001", "login")
        waiting(w)
        await offer_to_next_agent(w)

    asyncio.run(run())


def test_a_conversation_over_before_the_offer_looks_is_answered_not_offered_again(tmp_path):
    # the engine lagging behind Asterisk: the agent's answer, the bridge, the bridge's end and the agent's
    # hang-up are all applied while the offer still awaits its own actions, before it watches the model; the
    # caller's hang-up is still to come. That was a conversation, not a phone that did not answer
    w = acd(tmp_path, fail=False)
    calls = w.d.ring.calls
    plain = calls.until

    async def until(predicate: Any, timeout: float) -> bool:
        leg = next((a for a in w.model.associations if a.startswith("hl-")), None)
        if leg is not None and leg not in w.model.ended:
            agent = "PJSIP/1001-00000002"
            for frame in (_ami("Newchannel", leg, agent), _ami("Newstate", leg, agent, ChannelState="6"),
                          _ami("BridgeEnter", CALL, "PJSIP/trunk-00000001", BridgeUniqueid="b1"),
                          _ami("BridgeEnter", leg, agent, BridgeUniqueid="b1"),
                          _ami("BridgeLeave", leg, agent, BridgeUniqueid="b1"),
                          _ami("BridgeLeave", CALL, "PJSIP/trunk-00000001", BridgeUniqueid="b1"),
                          _ami("Hangup", leg, agent, Cause="16")):  # fmt: skip
                w.model.apply(frame, w.now[0])
            assert CALL in w.model.channels and leg not in w.model.channels
        return await plain(predicate, timeout)

    calls.until = until

    _offer(w)
    lines = w.lines()
    assert not any("RINGNOANSWER" in line for line in lines), lines
    assert any(f"|{CALL}|hotline|Ann|CONNECT|" in line for line in lines), lines
    assert CALL not in w.d.line.queued, "connected: not waiting for another agent"
    assert w.d.router.next_decision(w.now[0]) is None
    assert not [a for a in w.actions.sent if a["Action"] == "Hangup"], "nothing left to hang up"


def test_an_agents_leg_left_up_after_its_caller_hung_up_is_hung_up(tmp_path):
    # once on the lab, Asterisk kept a spied agent's leg up for minutes after its caller hung up: it left the bridge
    # and no Hangup came, and the agent's phone stayed busy to every later offer
    w = acd(tmp_path, fail=False)
    calls = w.d.ring.calls
    plain = calls.until
    agent = "PJSIP/1001-00000002"

    async def until(predicate: Any, timeout: float) -> bool:
        leg = next((a for a in w.model.associations if a.startswith("hl-")), None)
        if leg is not None and leg not in w.model.channels and CALL in w.model.channels:
            for frame in (_ami("Newchannel", leg, agent), _ami("Newstate", leg, agent, ChannelState="6"),
                          _ami("BridgeEnter", CALL, "PJSIP/trunk-00000001", BridgeUniqueid="b1"),
                          _ami("BridgeEnter", leg, agent, BridgeUniqueid="b1"),
                          _ami("BridgeLeave", CALL, "PJSIP/trunk-00000001", BridgeUniqueid="b1"),
                          _ami("BridgeLeave", leg, agent, BridgeUniqueid="b1"),
                          _ami("Hangup", CALL, "PJSIP/trunk-00000001", Cause="16")):  # fmt: skip
                w.model.apply(frame, w.now[0])
        return await plain(predicate, timeout)

    calls.until = until

    _offer(w)
    lines = w.lines()
    assert any(f"|{CALL}|hotline|Ann|COMPLETECALLER|" in line for line in lines), lines
    assert [a["Channel"] for a in w.actions.sent if a["Action"] == "Hangup"] == [agent]


def test_an_offer_past_its_deadline_waits_for_the_legs_end_and_sees_the_conversation_the_model_lagged_on(tmp_path):
    # the engine lags far behind Asterisk (a starved machine): at the ring deadline the model still shows the
    # agent's phone ringing, while in Asterisk the call was answered, talked and ended. The offer hangs the leg
    # up, and waits for the leg's end: the events before it (the answer, the bridge) say it was a conversation
    w = acd(tmp_path, fail=False)
    calls = w.d.ring.calls
    agent = "PJSIP/1001-00000002"
    looks: list[str] = []

    def leg() -> str:
        return next(a for a in w.model.associations if a.startswith("hl-"))

    async def until(predicate: Any, timeout: float) -> bool:
        looks.append(f"until {timeout:g}")
        if len(looks) == 1:  # the ring: only the leg's creation has been applied by the deadline
            w.model.apply(_ami("Newchannel", leg(), agent), w.now[0])
        if timeout == connectors.LEG_END_WAIT:  # waiting for the leg's end after hanging it up: the lag arrives
            for frame in (_ami("Newstate", leg(), agent, ChannelState="6"),
                          _ami("BridgeEnter", CALL, "PJSIP/trunk-00000001", BridgeUniqueid="b1"),
                          _ami("BridgeEnter", leg(), agent, BridgeUniqueid="b1"),
                          _ami("BridgeLeave", leg(), agent, BridgeUniqueid="b1"),
                          _ami("Hangup", leg(), agent, Cause="16")):  # fmt: skip
                w.model.apply(frame, w.now[0])
        return bool(predicate())

    async def caught_up(timeout: float) -> bool:
        looks.append("caught up")
        return False  # still behind

    calls.until, calls.caught_up = until, caught_up

    _offer(w)
    # the deadline, a catch-up and a last look; then the model still behind: a bounded catch-up, the leg hung up
    # and its end awaited
    tries = ["caught up"] * connectors.CATCH_UP_TRIES
    want = ["until 25", "caught up", "until 10", *tries, f"until {connectors.LEG_END_WAIT:g}"]
    assert looks[: len(want)] == want, looks
    assert [a["Action"] for a in w.actions.sent] == ["Originate", "Hangup"]
    lines = w.lines()
    assert not any("RINGNOANSWER" in line for line in lines), lines
    assert any(f"|{CALL}|hotline|Ann|CONNECT|" in line for line in lines), lines
    assert CALL not in w.d.line.queued


def _hl_leg(w: SimpleNamespace) -> str:
    return next(a for a in w.model.associations if a.startswith("hl-"))


def test_a_leg_asterisk_had_not_created_by_the_deadline_is_judged_by_its_originates_answer(tmp_path):
    # Asterisk itself lags (a starved machine): the model is caught up, yet the agent's leg does not exist at the
    # deadline. The Originate's own OriginateResponse comes, as it always does: here an answer, then the bridge
    # and a short conversation. Without waiting for it, the offer was judged unanswered and the caller offered again
    w = acd(tmp_path, fail=False)
    calls = w.d.ring.calls
    agent = "PJSIP/1001-00000002"
    looks: list[str] = []

    async def until(predicate: Any, timeout: float) -> bool:
        looks.append(f"until {timeout:g}")
        if looks.count(f"until {connectors.LEG_END_WAIT:g}") == 1 and timeout == connectors.LEG_END_WAIT:
            leg = _hl_leg(w)
            for frame in (_ami("Newchannel", leg, agent), _ami("Newstate", leg, agent, ChannelState="6"),
                          _ami("OriginateResponse", leg, agent, Response="Success", Reason="4"),
                          _ami("BridgeEnter", CALL, "PJSIP/trunk-00000001", BridgeUniqueid="b1"),
                          _ami("BridgeEnter", leg, agent, BridgeUniqueid="b1"),
                          _ami("BridgeLeave", leg, agent, BridgeUniqueid="b1"),
                          _ami("Hangup", leg, agent, Cause="16")):  # fmt: skip
                w.model.apply(frame, w.now[0])
        return bool(predicate())

    async def caught_up(timeout: float) -> bool:
        looks.append("caught up")
        return True  # the engine has all Asterisk sent: it is Asterisk that is behind

    calls.until, calls.caught_up = until, caught_up
    _offer(w)
    assert looks[:5] == ["until 25", "caught up", "until 10", "caught up", f"until {connectors.LEG_END_WAIT:g}"]
    assert [a["Action"] for a in w.actions.sent] == ["Originate"], "an answered leg is not hung up"
    lines = w.lines()
    assert not any("RINGNOANSWER" in line for line in lines), lines
    assert any(f"|{CALL}|hotline|Ann|CONNECT|" in line for line in lines), lines
    assert CALL not in w.d.line.queued


def test_an_originate_that_failed_without_a_channel_is_judged_at_once(tmp_path):
    # an unreachable phone: Asterisk creates no channel and says so in OriginateResponse. The offer ends on that
    # word, not at the ring deadline, and has nothing to hang up
    w = acd(tmp_path, fail=False)
    calls = w.d.ring.calls
    looks: list[str] = []

    async def until(predicate: Any, timeout: float) -> bool:
        looks.append(f"until {timeout:g}")
        if len(looks) == 1:
            frame = _ami("OriginateResponse", _hl_leg(w), "PJSIP/1001", Response="Failure", Reason="0")
            w.model.apply(frame, w.now[0])
        return bool(predicate())

    async def caught_up(timeout: float) -> bool:
        looks.append("caught up")
        return True

    calls.until, calls.caught_up = until, caught_up
    _offer(w)
    assert looks == ["until 25", "caught up"], looks
    assert [a["Action"] for a in w.actions.sent] == ["Originate"]
    lines = w.lines()
    assert any(f"|{CALL}|hotline|Ann|RINGNOANSWER|" in line for line in lines), lines
    assert CALL in w.d.line.queued, "still waiting, for the next agent"
