"""The ways an offer connects a caller to the agent the router chose, behind one ``Connector`` protocol and one
typed answer (``Connected``): ring the agent's phone (``Ring``, here), join the agent's always-on session
without ringing (``acd.session_calls.JoinSession``), or ring the agent and then dial the customer back
(``acd.callbacks.CallBack``). The dispatcher picks one per offer and acts on the outcome.

Ringing: the agent leg is an Originate with our own ChannelId and ``Application: Bridge``, ringing at most the
hotline's ring timeout (15 s, three rings in China's cadence).
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from acd.agents import Agents
from acd.notifier import Notifier
from acd.queued import Queued
from acd.router import Decision
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.dialplan import DONE_CONTEXT, SURVEY_CONTEXT, bridge_return
from engine.model.facts import Fact
from engine.ports import Actions, Calls

log = logging.getLogger("hotline.acd")

LEG_END_WAIT = 60.0  # s for an agent leg we hung up to be seen ending (its hang-up event always comes)
CATCH_UP_TRIES = 12  # x 5 s for a lagging model to apply what Asterisk already sent before an offer is judged


class Outcome(enum.Enum):
    ANSWERED = "answered"  # the agent talks to the caller now: the dispatcher follows the conversation
    NO_ANSWER = "no_answer"  # the agent did not take it (or the offer could not be made): the next agent
    CALLER_GONE = "caller_gone"  # the caller left while the agent was offered the call
    NOT_OFFERED = "not_offered"  # nothing reached the agent (its session ended meanwhile): free again, no miss
    DONE = "done"  # the connector saw the whole call through (a call back), nothing left to do


@dataclass(frozen=True)
class Connected:
    outcome: Outcome
    leg: str = ""  # the agent's leg (its uniqueid), when one was placed
    rang: float = 0.0  # seconds the agent was offered the call


class Connector(Protocol):
    async def connect(self, d: Decision, q: Queued, decision: Fact) -> Connected:
        """Offer ``q`` to ``d.agent_id``; ``decision`` (the routing fact) is written with the offer."""
        ...


class Recording(Protocol):
    """The recorder as the ACD starts it: a call's recording on a channel (recording.finalize.Recorder)."""

    async def start(self, call_id: str, channel: str) -> None: ...


async def originate_word(calls: Calls, leg: str) -> bool | None:
    """What the engine can know of an agent leg it originated, at a deadline: the model may trail Asterisk (a
    starved machine) and catches up first, for at most CATCH_UP_TRIES x 5 s of the engine's clock; a leg still
    never seen is awaited until Asterisk's OriginateResponse (Asterisk lags too: its originate not run yet).
    Every async Originate ends in one, on an answer or a failure alike. True: answered; False: failed; None:
    no word yet (the leg is ringing, or it ended and its word was lost)."""
    model = calls.model
    for _ in range(CATCH_UP_TRIES):
        if leg in model.ended or await calls.caught_up(5.0):
            break
    if leg not in model.channels and leg not in model.ended and leg not in model.originated:
        await calls.until(lambda: leg in model.channels or leg in model.ended or leg in model.originated,
                          LEG_END_WAIT)  # fmt: skip
    return model.originated.get(leg)


class Ring:
    """Ring the agent's phone once, bridging it to the caller when answered."""

    def __init__(self, actions: Actions, calls: Calls, clock: Clock, agents: Agents, notifier: Notifier,
                 recorder: Recording, ring_timeout: int) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.clock = clock
        self.agents = agents
        self.notifier = notifier
        self.recorder = recorder
        self.ring_timeout = ring_timeout

    async def connect(self, d: Decision, q: Queued, decision: Fact) -> Connected:
        calls = self.calls
        model = calls.model
        agent = self.agents.configs[d.agent_id]
        w = q.waiting
        caller = model.channels.get(w.uniqueid)
        leg = f"hl-{uuid.uuid4().hex[:20]}"
        if caller is None:
            return Connected(Outcome.CALLER_GONE, leg)
        model.associate(leg, w.call_id, "agent", agent.id)
        self.agents.machines[d.agent_id].handle("ring", self.clock.now())
        started = self.clock.now()
        # the phone rings first; facts and the recorder follow while it rings (the bridge waits for the answer)
        # Bridge's F() sends the caller on when the agent hangs up: to the survey, or to engine-done (hang up)
        data = f"{caller.name},{bridge_return(SURVEY_CONTEXT if w.survey else DONE_CONTEXT)}"
        try:
            await self.actions.action({
                "Action": "Originate", "Channel": f"PJSIP/{agent.endpoint}", "Application": "Bridge",
                "Data": data, "Timeout": str(self.ring_timeout * 1000), "CallerID": f'"Hotline" <{w.caller}>',
                "ChannelId": leg, "Async": "true",
            })  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: originate to agent %s failed: %s", w.call_id, agent.id, exc)
            await self.notifier.offer_failed(decision)
            return Connected(Outcome.NO_ANSWER, leg)
        await self.notifier.offer(decision, started, q, agent.id, leg)
        await self.recorder.start(w.call_id, caller.name)
        seen = [False]

        def settled() -> bool:
            ch = model.channels.get(leg)
            seen[0] = seen[0] or ch is not None or leg in model.ended
            if model.entered_bridge(leg, 0.0) is not None or w.uniqueid not in model.channels:
                return True
            if model.originated.get(leg) is False:
                return True  # refused, unreachable or rang out: Asterisk's word, with or without a channel
            return ch is None and seen[0]

        if not await calls.until(settled, self.ring_timeout + 10):
            # Asterisk ends the ringing itself at the ring timeout: past our deadline the engine lags behind its
            # events. Take in what was received and give the leg time to bridge or end before counting it
            # unanswered (a leg hung up now may be a conversation that just began)
            await calls.caught_up(5.0)
            await calls.until(settled, 10.0)
        rang = self.clock.now() - started
        if model.entered_bridge(leg, 0.0) is None:
            await self._end_leg(leg)
        # the leg bridges to the caller only: if it ever entered a bridge, this was a conversation, even one over
        # by now (read from the model as it stands, it would look unanswered and the caller would be offered again)
        bridged = model.entered_bridge(leg, 0.0)
        if bridged is not None:
            return Connected(Outcome.ANSWERED, leg, max(0.0, bridged - started))
        gone = w.uniqueid not in model.channels
        return Connected(Outcome.CALLER_GONE if gone else Outcome.NO_ANSWER, leg, rang)

    async def _end_leg(self, leg: str) -> None:
        """The caller left, or the phone rang past our deadline: the leg must not bridge later, and what it did must
        be known before the offer is judged (``originate_word``). An answered leg is awaited until it bridges or
        ends; a leg still up is then hung up and its end awaited (its hang-up event comes after anything it did:
        an answer and a bridge, or a whole short conversation)."""
        calls, model = self.calls, self.calls.model
        if await originate_word(calls, leg) and model.entered_bridge(leg, 0.0) is None:
            # answered: Bridge() joins the caller, or finds it gone and the leg ends; a hang-up now would cut a
            # conversation as it begins
            await calls.until(lambda: model.entered_bridge(leg, 0.0) is not None or leg in model.ended,
                              LEG_END_WAIT)  # fmt: skip
        ch = model.channels.get(leg)
        if ch is None or model.entered_bridge(leg, 0.0) is not None:
            return  # never placed, refused, or over: nothing to end
        try:
            await self.actions.action({"Action": "Hangup", "Channel": ch.name})
        except AmiError:
            pass  # already gone
        await calls.until(lambda: leg not in model.channels, LEG_END_WAIT)
