"""The ACD's agents: their state machines (the board's), the controls people use (log in and out, pause,
resume, end the wrap-up), their state after a restart, and the end of their calls (wrap-up per service). The
router's list of free agents is kept in step with every change here."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from acd import wrap_up
from acd.agent_state import AgentMachine, Effect, InvalidTransition, Status
from acd.board import Board
from acd.line import Line
from acd.notifier import Notifier
from engine.clock import Clock
from engine.config import Agent
from engine.ports import Ledger

log = logging.getLogger("hotline.acd")

DEFAULT_WRAP_UP = 10.0  # s, for a service the routing does not know


@dataclass(frozen=True)
class HungUp:
    wrap: float  # seconds of wrap-up the service gives
    effects: list[Effect]
    began: float


class Agents:
    def __init__(self, agents: Sequence[Agent], board: Board, line: Line, notifier: Notifier, ledger: Ledger,
                 clock: Clock, wrap_up: Mapping[str, float]) -> None:  # fmt: skip
        self.configs = {a.id: a for a in agents}
        self.board = board
        self.machines: dict[str, AgentMachine] = {a: r.machine for a, r in board.records.items()}
        self.line = line
        self.notifier = notifier
        self.ledger = ledger
        self.clock = clock
        self.wrap_up = wrap_up  # service -> seconds

    def sync(self, agent_id: str) -> None:
        m = self.machines[agent_id]
        self.line.router.set_available(agent_id, m.since if m.routable else None)

    async def control(self, agent_id: str, action: str, reason: str = "") -> str:
        """login, logout, pause (with a reason), resume, wrapup_end. Returns what happened, in words;
        raises InvalidTransition (with the reason) when the action does not fit the agent's state."""
        m = self.machines[agent_id]
        now = self.clock.now()
        if action == "login":
            m.login(now)
        elif action == "logout":
            m.logout(now)
        elif action == "pause":
            m.pause(reason or "pause", now)
        elif action == "resume":
            m.resume(now)
        elif action == "wrapup_end":
            m.handle("wrap_up_end", now)
        else:
            raise InvalidTransition(f"unknown agent action {action!r}")
        await self.notifier.agent_control(now, agent_id, action, m)
        self.sync(agent_id)
        self.line.kick()
        return f"{agent_id} {m.status.value}" + (f" ({m.reason})" if m.reason else "")

    async def restore(self) -> None:
        """Agents come back as the ledger last saw them (logged out, paused and why, available); only agents
        the ledger has never seen follow ``auto_login``. A restart must not undo what a person set."""
        last: dict[str, dict[str, str]] = {}
        for f in await self.ledger.facts(""):
            if f.kind == "agent.status" and f.data.get("agent") in self.machines:
                last[str(f.data["agent"])] = f.data
        now = self.clock.now()
        for agent_id, agent in self.configs.items():
            seen = last.get(agent_id)
            if seen is None:
                if agent.auto_login:
                    await self.control(agent_id, "login")
                continue
            m = self.machines[agent_id]
            if seen.get("status") in ("available", "paused"):
                m.login(now)
                if seen.get("status") == "paused":
                    m.pause(str(seen.get("reason") or "pause"), now)
            self.sync(agent_id)
            log.info("agent %s restored as %s%s", agent_id, m.status.value, f" ({m.reason})" if m.reason else "")

    def device(self, agent_id: str, busy: bool, now: float) -> None:
        """The phone's own state (busy with a call the ACD did not route, or free again)."""
        m = self.machines[agent_id]
        if busy != m.device_busy:
            m.device(busy, now)
            self.sync(agent_id)

    def hang_up(self, agent_id: str, service: str, conversation: bool = True) -> HungUp:
        """The agent's call ended: wrap-up per the service after a conversation, none after a failed call back.
        The agent is free for the next decision at once; ``finish`` does the wrap-up's bookkeeping after."""
        m = self.machines[agent_id]
        wrap = self.wrap_up.get(service, DEFAULT_WRAP_UP) if conversation else 0.0
        began = self.clock.now()
        effects = m.hang_up(began, wrap)
        self.sync(agent_id)
        self.line.kick()
        return HungUp(wrap, effects, began)

    async def finish(self, agent_id: str, hung_up: HungUp, call_id: str) -> None:
        await wrap_up.finish(self.clock, self.notifier, self.machines[agent_id], hung_up.wrap, hung_up.effects,
                             call_id, hung_up.began)  # fmt: skip

    async def done(self, agent_id: str, service: str, conversation: bool, call_id: str = "") -> None:
        await self.finish(agent_id, self.hang_up(agent_id, service, conversation), call_id)

    def logged_in(self, agent_id: str) -> bool:
        return self.machines[agent_id].status is not Status.LOGGED_OUT
