"""Callers taken in an agent's always-on session: the dialer keeps the sessions of campaign agents, the keeper
(``acd/sessions.py``) those of the others. A caller joins the open call without ringing (``JoinSession``, a
connector, ``engine-connect``), and the agent ends a conversation from the keypad (``##``, ``Sessions``)."""

from __future__ import annotations

import logging
from typing import Protocol

from acd.agents import Agents
from acd.board import Board
from acd.connectors import Connected, Outcome, Recording
from acd.guard import GuardedFloor
from acd.line import Line
from acd.notifier import Notifier
from acd.queued import Queued
from acd.router import Decision
from acd.sessions import EndKeys, SessionProvider
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.dialplan import CONNECT_CONTEXT, DONE_CONTEXT, FIRST, START, SURVEY_CONTEXT
from engine.model.facts import Fact
from engine.ports import Actions, Calls

log = logging.getLogger("hotline.acd")


class Outbound(SessionProvider, GuardedFloor, Protocol):
    """The dialer as the ACD sees it (``dialer.services.Dialer``): its agents' sessions and the guard's hold."""


class Sessions:
    """Who keeps each agent's session, which agents are lent for a caller, and the keypad's ``##``."""

    def __init__(self, actions: Actions, calls: Calls, board: Board, line: Line, notifier: Notifier) -> None:
        self.actions = actions
        self.calls = calls
        self.board = board
        self.line = line
        self.notifier = notifier
        self.dialer: Outbound | None = None  # the dialer, when the site has campaigns (set by the wiring)
        self.keeper: SessionProvider | None = None  # always-on agents outside campaigns (set by the wiring)
        self.lent: dict[str, tuple[str, SessionProvider]] = {}  # agent -> (call it takes in its session, provider)
        self.ended_by_agent: set[str] = set()  # session calls the agent ended from its keypad
        self.end_keys = EndKeys()

    def provider(self, agent_id: str) -> SessionProvider | None:
        """Who keeps this agent's session, when the agent sits idle in it; else None."""
        return next((p for p in (self.keeper, self.dialer) if p is not None and p.session_for(agent_id)), None)

    def agent_of(self, channel: str) -> str | None:
        return self.board.session_agent(channel)

    def end_pressed(self, channel: str, digit: str, now: float) -> bool:
        """A key from a session's phone: True when it completes ``##``."""
        return bool(self.agent_of(channel)) and self.end_keys.press(channel, digit, now)

    async def end_call(self, channel: str) -> None:
        """The agent pressed ## in its session: the other party leaves (a hotline caller to its survey or to
        engine-done, a customer is hung up), and the session goes back to its music through Bridge's F()."""
        model = self.calls.model
        session = model.by_name(channel)
        bridge = model.bridges.get(session.bridge) if session is not None and session.bridge else None
        if session is None or bridge is None:
            return
        ours = {q.waiting.uniqueid: q for q in self.line.queued.values()}
        ours.update(self.line.connected)
        for uid in sorted(bridge.members - {session.uniqueid}):
            other = model.channels.get(uid)
            if other is None:
                continue
            q = ours.get(uid)
            try:
                if q is not None:
                    self.ended_by_agent.add(q.waiting.call_id)
                    await self.notifier.agent_ended(q, uid, self.agent_of(channel) or "")
                    ctx = SURVEY_CONTEXT if q.waiting.survey else DONE_CONTEXT
                    await self.actions.action({"Action": "Redirect", "Channel": other.name, "Context": ctx,
                                               "Exten": START, "Priority": FIRST})  # fmt: skip
                else:
                    await self.actions.action({"Action": "Hangup", "Channel": other.name})
            except AmiError as exc:
                log.warning("could not end the call in session %s: %s", channel, exc)

    def in_session(self, agent_id: str, call_id: str) -> bool:
        """The agent takes this call in its session (lent for it)."""
        held = self.lent.get(agent_id)
        return held is not None and held[0] == call_id

    async def give_back(self, agent_id: str, call_id: str) -> None:
        """The call (and its wrap-up) in the agent's session is over: back to its keeper (the dialer: pacing)."""
        held = self.lent.get(agent_id)
        if held is not None and held[0] == call_id:
            self.lent.pop(agent_id, None)
            await held[1].give_back(agent_id, call_id)


class JoinSession:
    """Connect without ringing: the caller joins the agent's always-on session (Bridge with F() back to the
    session); the session's keeper (the dialer: out of its pacing) lends the agent until the call and its
    wrap-up are over."""

    def __init__(self, actions: Actions, calls: Calls, clock: Clock, sessions: Sessions, agents: Agents,
                 notifier: Notifier, recorder: Recording) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.clock = clock
        self.sessions = sessions
        self.agents = agents
        self.notifier = notifier
        self.recorder = recorder

    async def connect(self, d: Decision, q: Queued, decision: Fact) -> Connected:
        model = self.calls.model
        w = q.waiting
        caller_ch = model.channels.get(w.uniqueid)
        provider = self.sessions.provider(d.agent_id)
        if caller_ch is None:
            return Connected(Outcome.CALLER_GONE)
        if provider is None:  # the session ended since the dispatcher looked
            await self.notifier.offer_failed(decision)
            return Connected(Outcome.NOT_OFFERED)
        caller = caller_ch.name
        started = self.clock.now()
        session = await provider.lend(d.agent_id, w.call_id)
        ch = model.by_name(session) if session else None
        if session is None or ch is None:
            # no longer idle in it, or its channel ended before its keeper heard: nothing rang, the agent is not
            # the ACD's to keep (a loan is given back at once)
            if session is not None:
                await provider.give_back(d.agent_id, w.call_id)
            await self.notifier.offer_failed(decision)
            return Connected(Outcome.NOT_OFFERED)
        leg = ch.uniqueid
        self.sessions.lent[d.agent_id] = (w.call_id, provider)
        self.agents.machines[d.agent_id].handle("ring", started)
        await self.notifier.offer(decision, started, q, d.agent_id, leg, session=True)
        await self.recorder.start(w.call_id, caller)
        try:
            await self.actions.action({"Action": "Setvar", "Channel": caller, "Variable": "HOTLINE_SESSION",
                                       "Value": session})  # fmt: skip
            await self.actions.action({"Action": "Redirect", "Channel": caller, "Context": CONNECT_CONTEXT,
                                       "Exten": START, "Priority": FIRST})  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: could not bring the caller into agent %s's session: %s", w.call_id, d.agent_id, exc)

        def joined_or_gone() -> bool:
            c = model.channels.get(w.uniqueid)
            return c is None or bool(c.bridge) or model.entered_bridge(w.uniqueid, started) is not None

        await self.calls.until(joined_or_gone, 10)
        c = model.channels.get(w.uniqueid)
        if c is not None and c.bridge:
            return Connected(Outcome.ANSWERED, leg, self.clock.now() - started)
        # joined since the offer, even if the short call is over by now (the engine lagging behind Asterisk)
        joined = model.entered_bridge(w.uniqueid, started)
        if joined is not None:
            return Connected(Outcome.ANSWERED, leg, max(0.0, joined - started))
        self.sessions.lent.pop(d.agent_id, None)
        await provider.give_back(d.agent_id, w.call_id)
        return Connected(Outcome.CALLER_GONE if c is None else Outcome.NO_ANSWER, leg, self.clock.now() - started)
