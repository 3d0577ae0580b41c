"""Always-on sessions: the engine calls an agent's phone once into ``engine-agent`` (music), and callers or
customers are bridged into that open call without ringing.

The dialer keeps sessions for its campaigns' agents; ``SessionKeeper`` keeps them for agents with
``always_on = true`` who work no campaign, while they are logged in. Both open a session the same way
(``open_session``) and answer the ACD the same questions: is the agent idle in its session
(``session_for``), take it for a call (``lend``), and give it back (``give_back``).

In a session the agent cannot hang up (that would end the session), so it ends a conversation from the
phone's keypad: ``#`` twice within ``END_KEYS_WINDOW`` seconds (``EndKeys``, sans-I/O).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from acd.board import Board, Conflict
from engine.app import Engine
from engine.asterisk.ami_link import AmiError
from engine.config import Agent
from engine.dialplan import AGENT_CONTEXT, FIRST, START
from engine.model.facts import fact_key

log = logging.getLogger("hotline.sessions")

SESSION_RETRY = 30.0  # s before an agent whose session ended (or never answered) is called again
END_KEY = "#"
END_KEYS_WINDOW = 1.5  # s between the two presses


async def open_session(engine: Engine, agent: Agent, uid: str, caller_id: str, label: str) -> str | None:
    """Call the agent's phone into ``engine-agent`` with our own ChannelId ``uid``; the session channel's
    name once the agent answered, else None (it did not answer within 30 s, or the phone is gone)."""
    engine.model.associate(uid, uid, "agent_session", agent.id)
    await engine.link.action({
        "Action": "Originate", "Channel": f"PJSIP/{agent.endpoint}", "Context": AGENT_CONTEXT, "Exten": START,
        "Priority": FIRST, "Timeout": "30000", "ChannelId": uid, "Async": "true",
        "CallerID": f'"{label}" <{caller_id or "0"}>',
    })  # fmt: skip
    seen = [False]

    def up_or_gone() -> bool:
        ch = engine.model.channels.get(uid)
        seen[0] = seen[0] or ch is not None or uid in engine.model.ended
        return (ch is not None and ch.up) or (ch is None and seen[0])

    await engine.until(up_or_gone, 40)
    ch = engine.model.channels.get(uid)
    return ch.name if ch is not None and ch.up else None


class SessionProvider(Protocol):
    """Who keeps agents' always-on sessions (the dialer for campaign agents, ``SessionKeeper`` for the others),
    as the ACD asks it: each answer is the agent board's, the provider writes the facts."""

    def session_for(self, agent_id: str) -> str | None: ...

    async def lend(self, agent_id: str, call_id: str) -> str | None: ...

    async def give_back(self, agent_id: str, call_id: str) -> None: ...


@dataclass
class EndKeys:
    """The agent's "end this call" on the keypad: ``#`` twice within the window. Digits in, True out."""

    window: float = END_KEYS_WINDOW
    _last: dict[str, float] = field(default_factory=dict)

    def press(self, channel: str, digit: str, at: float) -> bool:
        if digit != END_KEY:
            self._last.pop(channel, None)
            return False
        before = self._last.pop(channel, None)
        if before is not None and at - before <= self.window:
            return True
        self._last[channel] = at
        return False


@dataclass
class _Seat:
    agent: Agent
    uniqueid: str = ""
    sessions: int = 0


class SessionKeeper:
    """Sessions for always-on agents outside campaigns, kept while ``logged_in(agent_id)`` says so; each
    session's phase is the board's (``acd.board``)."""

    def __init__(self, engine: Engine, agents: list[Agent], logged_in: Callable[[str], bool], board: Board,
                 poll: float = 1.0) -> None:  # fmt: skip
        self.engine = engine
        self.seats = {a.id: _Seat(a) for a in agents}
        self.logged_in = logged_in
        self.board = board
        self.poll = poll
        self.caller_id: str = engine.site["hotline"]["number"]

    def session_for(self, agent_id: str) -> str | None:
        return self.board.idle_session(agent_id) if agent_id in self.seats else None

    async def lend(self, agent_id: str, call_id: str) -> str | None:
        if agent_id not in self.seats:
            return None
        try:
            return self.board.lend(agent_id, call_id)
        except Conflict as exc:
            log.info("agent %s: no caller in its session: %s", agent_id, exc)
            return None

    async def give_back(self, agent_id: str, call_id: str) -> None:
        if agent_id in self.seats:
            self.board.give_back(agent_id)

    async def run(self) -> None:
        await self.engine.link.ready.wait()
        async with asyncio.TaskGroup() as tg:
            for agent_id, seat in self.seats.items():
                tg.create_task(self._keep(seat), name=f"session:{agent_id}")

    async def _keep(self, seat: _Seat) -> None:
        eng = self.engine
        while True:
            while not self.logged_in(seat.agent.id):
                await eng.clock.sleep(self.poll)
            seat.sessions += 1
            uid = f"as-acd-{seat.agent.id}-{seat.sessions}"[:149]
            seat.uniqueid = uid
            self.board.session_joining(seat.agent.id)
            try:
                name = await open_session(eng, seat.agent, uid, self.caller_id, "Hotline")
            except AmiError as exc:
                log.warning("could not call agent %s for its session: %s", seat.agent.id, exc)
                name = None
            if name is not None:
                self.board.session_up(seat.agent.id, name)
                await eng.fact("acd.session", uid, uid, fact_key("acd.session", uid, "up"), agent=seat.agent.id,
                               state="up")  # fmt: skip
                while uid in eng.model.channels:
                    if not self.logged_in(seat.agent.id) and self.board.idle_session(seat.agent.id):
                        await self._close(name)  # logged out: the session ends with its last call
                    await eng.until(lambda u=uid: u not in eng.model.channels, self.poll)  # type: ignore[misc]
                await eng.fact("acd.session", uid, uid, fact_key("acd.session", uid, "down"), agent=seat.agent.id,
                               state="down")  # fmt: skip
                log.info("agent %s left its session", seat.agent.id)
            self.board.session_down(seat.agent.id)
            if self.logged_in(seat.agent.id):
                await eng.clock.sleep(SESSION_RETRY)

    async def _close(self, channel: str) -> None:
        try:
            await self.engine.link.action({"Action": "Hangup", "Channel": channel})
        except AmiError:
            pass  # already gone
