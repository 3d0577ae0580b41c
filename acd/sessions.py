"""Always-on sessions: the engine calls an agent's phone once into ``engine-agent`` (music), and callers or
customers are bridged into that open call without ringing.

``SessionKeeper`` keeps them, one loop for both features: for each campaign's agents (the dialer's, always)
and for agents with ``always_on = true`` who work no campaign (the ACD's, while they are logged in). The
session's phase is the agent board's; the facts (``acd.session`` / ``dialer.session``) are its owner's kind.
Both owners answer the ACD the same questions (``SessionProvider``): is the agent idle in its session
(``session_for``), take it for a call (``lend``), and give it back (``give_back``).

In a session the agent cannot hang up (that would end the session), so it ends a conversation from the
phone's keypad: ``#`` twice within ``END_KEYS_WINDOW`` seconds (``EndKeys``, sans-I/O).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from acd.board import Board, Conflict
from engine.asterisk.ami_link import AmiError
from engine.clock import Clock
from engine.config import Agent
from engine.dialplan import AGENT_CONTEXT, FIRST, START
from engine.model.facts import fact_key
from engine.ports import Actions, Calls, Ledger

log = logging.getLogger("hotline.sessions")

SESSION_RETRY = 30.0  # s before an agent whose session ended (or never answered) is called again
END_KEY = "#"
END_KEYS_WINDOW = 1.5  # s between the two presses


async def open_session(actions: Actions, calls: Calls, agent: Agent, uid: str, caller_id: str,
                       label: str) -> str | None:  # fmt: skip
    """Call the agent's phone into ``engine-agent`` with our own ChannelId ``uid``; the session channel's
    name once the agent answered, else None (it did not answer within 30 s, or the phone is gone)."""
    model = calls.model
    model.associate(uid, uid, "agent_session", agent.id)
    await actions.action({
        "Action": "Originate", "Channel": f"PJSIP/{agent.endpoint}", "Context": AGENT_CONTEXT, "Exten": START,
        "Priority": FIRST, "Timeout": "30000", "ChannelId": uid, "Async": "true",
        "CallerID": f'"{label}" <{caller_id or "0"}>',
    })  # fmt: skip
    seen = [False]

    def up_or_gone() -> bool:
        ch = model.channels.get(uid)
        seen[0] = seen[0] or ch is not None or uid in model.ended
        return (ch is not None and ch.up) or (ch is None and seen[0])

    await calls.until(up_or_gone, 40)
    ch = model.channels.get(uid)
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
class Seat:
    """An agent's always-on session as its keeper counts them: the current one's ChannelId and how many."""

    agent: Agent
    uniqueid: str = ""
    sessions: int = 0


class SessionSeat(Protocol):
    agent: Agent
    uniqueid: str
    sessions: int


@dataclass(frozen=True)
class Owner:
    """Whose sessions these are: ``as-<prefix>-<agent>-<n>`` ChannelIds, the caller id and name the agent's
    phone shows, the fact kind written at up and down (with ``data`` added)."""

    prefix: str
    caller_id: str
    label: str
    fact: str
    data: Mapping[str, Any] = field(default_factory=dict)


class SessionKeeper:
    """Keeps each seat's session up while ``logged_in(agent_id)`` says so (None: always): calls the phone,
    and again ``SESSION_RETRY`` s after a session ends. ``on_up``: told when a session comes up (an agent
    free for work). As a ``SessionProvider`` it lends its agents without facts (the ACD's own sessions)."""

    def __init__(self, actions: Actions, calls: Calls, ledger: Ledger, clock: Clock, board: Board,
                 seats: Mapping[str, SessionSeat], owner: Owner, *, logged_in: Callable[[str], bool] | None = None,
                 on_up: Callable[[], None] | None = None, poll: float = 1.0) -> None:  # fmt: skip
        self.actions, self.calls, self.ledger, self.clock = actions, calls, ledger, clock
        self.board = board
        self.seats = seats
        self.owner = owner
        self.logged_in = logged_in
        self.on_up = on_up
        self.poll = poll

    @classmethod
    def for_agents(cls, actions: Actions, calls: Calls, ledger: Ledger, clock: Clock, board: Board,
                   agents: list[Agent], caller_id: str, logged_in: Callable[[str], bool]) -> SessionKeeper:  # fmt: skip
        """The ACD's keeper: always-on agents outside campaigns, while they are logged in."""
        return cls(actions, calls, ledger, clock, board, {a.id: Seat(a) for a in agents},
                   Owner("acd", caller_id, "Hotline", "acd.session"), logged_in=logged_in)  # fmt: skip

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
        await self.actions.ready.wait()
        async with asyncio.TaskGroup() as tg:
            for agent_id in self.seats:
                tg.create_task(self.keep(agent_id), name=f"session:{agent_id}")

    def _in(self, agent_id: str) -> bool:
        return self.logged_in is None or self.logged_in(agent_id)

    async def keep(self, agent_id: str) -> None:
        """Keep this seat's session up, for good."""
        seat, own = self.seats[agent_id], self.owner
        model = self.calls.model
        while True:
            while not self._in(agent_id):
                await self.clock.sleep(self.poll)
            seat.sessions += 1
            uid = f"as-{own.prefix}-{agent_id}-{seat.sessions}"[:149]
            seat.uniqueid = uid
            self.board.session_joining(agent_id)
            try:
                name = await open_session(self.actions, self.calls, seat.agent, uid, own.caller_id, own.label)
            except AmiError as exc:
                log.warning("could not call agent %s for its session (%s): %s", agent_id, own.prefix, exc)
                name = None
            if name is not None:
                self.board.session_up(agent_id, name)
                await self.ledger.fact(own.fact, uid, uid, fact_key(own.fact, uid, "up"), agent=agent_id,
                                       **own.data, state="up")  # fmt: skip
                if self.on_up is not None:
                    self.on_up()
                # the ACD's agents may log out (then the session ends with its last call): look each poll
                wait = self.poll if self.logged_in is not None else 3600
                while uid in model.channels:
                    if not self._in(agent_id) and self.board.idle_session(agent_id):
                        await self._close(name)
                    await self.calls.until(lambda u=uid: u not in model.channels, wait)  # type: ignore[misc]
                await self.ledger.fact(own.fact, uid, uid, fact_key(own.fact, uid, "down"), agent=agent_id,
                                       **own.data, state="down")  # fmt: skip
                log.info("agent %s left its session (%s)", agent_id, own.prefix)
            self.board.session_down(agent_id)
            if self._in(agent_id):
                await self.clock.sleep(SESSION_RETRY)

    async def _close(self, channel: str) -> None:
        try:
            await self.actions.action({"Action": "Hangup", "Channel": channel})
        except AmiError:
            pass  # already gone
