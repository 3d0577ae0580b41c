"""Callers taken in an agent's always-on session, the dispatcher's part for them: the dialer keeps the
sessions of campaign agents, the keeper (``acd/sessions.py``) those of the others. A caller joins the open
call without ringing (``engine-connect``), and the agent ends a conversation from the keypad (``##``).

A mixin of :class:`acd.dispatcher.Dispatcher`: the attributes below are the dispatcher's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import logging
from typing import Protocol

from acd.agent_state import AgentMachine
from acd.board import Board
from acd.guard import GuardedFloor
from acd.queued import Queued
from acd.router import Decision
from acd.sessions import SessionProvider
from engine.app import Engine
from engine.asterisk.ami_link import AmiError
from engine.dialplan import CONNECT_CONTEXT, DONE_CONTEXT, FIRST, START, SURVEY_CONTEXT
from engine.model.facts import Fact, fact_key
from recording.finalize import Recorder

log = logging.getLogger("hotline.acd")


class Outbound(SessionProvider, GuardedFloor, Protocol):
    """The dialer as the ACD sees it (``dialer.services.Dialer``): its agents' sessions and the guard's hold."""


class SessionCalls:
    engine: Engine
    recorder: Recorder
    machines: dict[str, AgentMachine]
    board: Board
    queued: dict[str, Queued]
    dialer: Outbound | None  # the dialer, when the site has campaigns
    keeper: SessionProvider | None  # always-on agents outside campaigns
    _in_session: dict[str, tuple[str, SessionProvider]]  # agent -> (call it takes in its session, provider)
    _ended_by_agent: set[str]  # session calls the agent ended from its keypad
    _connected: dict[str, Queued]  # caller uniqueid -> its call, while it talks to an agent

    def _providers(self) -> list[SessionProvider]:
        return [p for p in (self.keeper, self.dialer) if p is not None]

    def _session_provider(self, agent_id: str) -> SessionProvider | None:
        """Who keeps this agent's session, when the agent sits idle in it; else None."""
        return next((p for p in self._providers() if p.session_for(agent_id)), None)

    def _session_agent(self, channel: str) -> str | None:
        return self.board.session_agent(channel)

    async def _end_session_call(self, channel: str) -> None:
        """The agent pressed ## in its session: the other party leaves (a hotline caller to its survey or to
        engine-done, a customer is hung up), and the session goes back to its music through Bridge's F()."""
        eng = self.engine
        session = eng.model.by_name(channel)
        bridge = eng.model.bridges.get(session.bridge) if session is not None and session.bridge else None
        if session is None or bridge is None:
            return
        ours = {q.waiting.uniqueid: q for q in self.queued.values()}
        ours.update({uid: q for uid, q in self._connected.items()})
        for uid in sorted(bridge.members - {session.uniqueid}):
            other = eng.model.channels.get(uid)
            if other is None:
                continue
            q = ours.get(uid)
            try:
                if q is not None:
                    self._ended_by_agent.add(q.waiting.call_id)
                    await eng.fact("acd.agent_ended", q.waiting.call_id, uid,
                                   fact_key("acd.agent_ended", q.waiting.call_id),
                                   agent=self._session_agent(channel) or "", keys="##")  # fmt: skip
                    ctx = SURVEY_CONTEXT if q.waiting.survey else DONE_CONTEXT
                    await eng.link.action({"Action": "Redirect", "Channel": other.name, "Context": ctx,
                                           "Exten": START, "Priority": FIRST})  # fmt: skip
                else:
                    await eng.link.action({"Action": "Hangup", "Channel": other.name})
            except AmiError as exc:
                log.warning("could not end the call in session %s: %s", channel, exc)

    async def _into_session(self, d: Decision, q: Queued, decision_fact: Fact, caller: str,
                            provider: SessionProvider) -> tuple[str, str, float]:  # fmt: skip
        """Connect without ringing: the caller joins the agent's always-on session (Bridge with F() back to the
        session); the session's keeper (the dialer: out of its pacing) lends the agent until the call and its
        wrap-up are over."""
        eng = self.engine
        w = q.waiting
        started = eng.clock.now()
        session = await provider.lend(d.agent_id, w.call_id)
        ch = eng.model.by_name(session) if session else None
        if session is None or ch is None:
            await eng.record([decision_fact])
            return "no_answer", "", 0.0
        leg = ch.uniqueid
        self._in_session[d.agent_id] = (w.call_id, provider)
        self.machines[d.agent_id].handle("ring", started)
        offer = Fact("agent.offer", started, w.call_id, leg, fact_key("agent.offer", leg, w.call_id),
                     {"agent": d.agent_id, "leg": leg, "service": q.service, "session": True})
        await eng.record([decision_fact, offer])
        await self.recorder.start(w.call_id, caller)
        try:
            await eng.link.action({"Action": "Setvar", "Channel": caller, "Variable": "HOTLINE_SESSION",
                                   "Value": session})  # fmt: skip
            await eng.link.action({"Action": "Redirect", "Channel": caller, "Context": CONNECT_CONTEXT,
                                   "Exten": START, "Priority": FIRST})  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: could not bring the caller into agent %s's session: %s", w.call_id, d.agent_id, exc)

        def joined_or_gone() -> bool:
            c = eng.model.channels.get(w.uniqueid)
            return c is None or bool(c.bridge)

        await eng.until(joined_or_gone, 10)
        c = eng.model.channels.get(w.uniqueid)
        if c is not None and c.bridge:
            return "answered", leg, eng.clock.now() - started
        self._in_session.pop(d.agent_id, None)
        await provider.give_back(d.agent_id, w.call_id)
        return ("caller_gone" if c is None else "no_answer"), leg, eng.clock.now() - started
