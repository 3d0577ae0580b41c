"""A connected caller's conversation, followed to its end: who hung up (COMPLETECALLER or COMPLETEAGENT), then
the agent's wrap-up; an agent lent from its always-on session goes back to its keeper afterwards. Used for
every answered offer and for conversations taken back after a restart."""

from __future__ import annotations

import logging

from acd.agents import Agents
from acd.line import Line
from acd.notifier import Notifier
from acd.queued import Queued
from acd.session_calls import Sessions
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.ports import Actions, Calls, Ledger

log = logging.getLogger("hotline.acd")
LEG_END_WAIT = 10.0  # s an agent's leg gets to end by itself once its caller has gone


class Talk:
    def __init__(self, actions: Actions, calls: Calls, ledger: Ledger, clock: Clock, line: Line, agents: Agents,
                 sessions: Sessions, notifier: Notifier) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.ledger = ledger
        self.clock = clock
        self.line = line
        self.agents = agents
        self.sessions = sessions
        self.notifier = notifier

    async def follow(self, agent_id: str, q: Queued, leg: str, connected: float) -> None:
        model = self.calls.model
        w = q.waiting
        in_session = self.sessions.in_session(agent_id, w.call_id)
        self.line.connected[w.uniqueid] = q

        def over() -> bool:
            if in_session:  # the session stays up after the call: the caller leaving the bridge ends it
                c = model.channels.get(w.uniqueid)
                return c is None or not c.bridge
            return leg not in model.channels or w.uniqueid not in model.channels

        await self.calls.until(over, 24 * 3600)
        ended = self.clock.now()
        if not in_session and not await self.calls.until(lambda: leg not in model.channels, LEG_END_WAIT):
            await self._end_left_leg(agent_id, leg)
        # the agent may take the next caller now; the bookkeeping below does not delay that
        hung_up = self.agents.hang_up(agent_id, q.service)
        # who hung up: the first hang-up request of the two (Hangup events of both legs arrive in either order)
        ends = sorted(
            (f.at, f.kind != "hangup.request", f.uniqueid)
            for f in await self.ledger.facts(w.call_id)
            if f.kind in ("hangup.request", "channel.hangup") and f.uniqueid in (w.uniqueid, leg)
        )
        caller_left = (not ends or ends[0][2] == w.uniqueid) and w.call_id not in self.sessions.ended_by_agent
        self.sessions.ended_by_agent.discard(w.call_id)
        self.line.connected.pop(w.uniqueid, None)
        await self.notifier.complete(ended, q, agent_id, connected, caller_left)
        await self.agents.finish(agent_id, hung_up, w.call_id)
        if in_session:
            await self.sessions.give_back(agent_id, w.call_id)  # back to pacing after the wrap-up

    async def _end_left_leg(self, agent_id: str, leg: str) -> None:
        """The caller has gone and the agent's leg, out of any bridge, is still up: Asterisk once kept a spied agent's
        leg up for minutes (docs/asterisk.md#chanspy-barge), and the agent's phone stayed busy to every offer."""
        ch = self.calls.model.channels.get(leg)
        if ch is None or ch.bridge:
            return
        log.warning("agent %s: leg %s still up %.0f s after its caller left; hanging it up", agent_id, ch.name,
                    LEG_END_WAIT)  # fmt: skip
        try:
            await self.actions.action({"Action": "Hangup", "Channel": ch.name})
        except AmiError as exc:  # it ended meanwhile
            log.info("leg %s already gone: %s", ch.name, exc)
