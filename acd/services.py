"""The ACD's public operations, in one place: what the IVR, the AGI routes, the service API (feature codes,
the web console) and the live views ask of it. ``engine.features["acd"]`` is this object."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from acd.agent_state import AgentMachine, State
from acd.board import Board
from acd.dispatcher import Dispatcher
from acd.monitoring import Monitor
from acd.queued import Queued
from acd.router import Router
from acd.session_calls import Outbound
from acd.sessions import SessionProvider
from acd.waiting import CallerPlan
from engine.asterisk.fastagi import AgiChannel
from engine.clock import Clock
from engine.config import Agent
from engine.dialplan import WAIT_CONTEXT
from engine.ports import Actions, Calls, Ledger
from ivr.session import Waiting

log = logging.getLogger("hotline.acd")


class AcdServices:
    def __init__(self, dispatcher: Dispatcher, actions: Actions, calls: Calls, ledger: Ledger, clock: Clock,
                 agents: Iterable[Agent]) -> None:  # fmt: skip
        self.dispatcher = dispatcher
        self.calls = calls
        self.ledger = ledger
        self.clock = clock
        self.line = dispatcher.line
        self.notifier = dispatcher.notifier
        # a team lead on an agent's call (listen, whisper, barge): the service API's monitor backend
        self.monitor = Monitor(actions.action, {a.id: a.endpoint for a in agents}, self.on_call)

    # ---- what the live views, tools and tests read ------------------------------------------------------------
    @property
    def machines(self) -> dict[str, AgentMachine]:
        return self.dispatcher.agents.machines

    @property
    def board(self) -> Board:
        return self.dispatcher.board

    @property
    def router(self) -> Router:
        return self.dispatcher.router

    @property
    def queued(self) -> dict[str, Queued]:
        return self.line.queued

    def on_call(self, agent_id: str) -> bool:
        """The agent talks (or holds) now: a call the ACD routed, or one its phone has of its own."""
        m = self.machines[agent_id]
        return m.state in (State.ON_CALL, State.ON_HOLD) or m.device_busy

    @property
    def service(self) -> str:
        """The hotline's service (unknown services are queued in it)."""
        return self.dispatcher.service

    # ---- set by the wiring, once the other features exist -----------------------------------------------------
    def use_dialer(self, dialer: Outbound) -> None:
        """Outbound agents idle in their sessions can take hotline callers there; the guard holds them back."""
        self.dispatcher.dialer = dialer
        self.dispatcher.sessions.dialer = dialer

    def use_keeper(self, keeper: SessionProvider) -> None:
        """Callers join the always-on agents' open calls, without ringing."""
        self.dispatcher.sessions.keeper = keeper

    def use_prompts(self, prompt_file: Callable[[str], str]) -> None:
        """A prompt name to the file Asterisk plays (the IVR's built prompts, else an Asterisk sound)."""
        self.dispatcher.waiting.prompt_file = prompt_file
        self.dispatcher.callbacks.prompt_file = prompt_file

    # ---- operations -------------------------------------------------------------------------------------------
    async def control(self, agent_id: str, action: str, reason: str = "") -> str:
        """An agent's control (login, logout, pause with a reason, resume, wrapup_end): what happened, in words;
        InvalidTransition (with the reason) when it does not fit the agent's state."""
        return await self.dispatcher.agents.control(agent_id, action, reason)

    async def enqueue(self, w: Waiting) -> None:
        """The IVR's hand-over. The caller joins once the dialplan has taken it out of the AGI."""
        self.line.handing_over.add(w.call_id)  # a resync meanwhile leaves it to this hand-over (and its ENTERQUEUE)
        try:
            await self._enqueue(w)
        finally:
            self.line.handing_over.discard(w.call_id)

    async def _enqueue(self, w: Waiting) -> None:
        model = self.calls.model

        def waiting_or_gone() -> bool:
            # a channel the model has not seen yet is not gone: the model may lag behind Asterisk (a resync
            # under way, a busy machine) and the caller's first events still wait in the link's queue
            ch = model.channels.get(w.uniqueid)
            return ch.context == WAIT_CONTEXT if ch is not None else w.uniqueid in model.ended

        if not await self.calls.until(waiting_or_gone, 10) and w.uniqueid not in model.channels:
            await self.calls.caught_up(60)  # what the link has received so far decides
        if model.channels.get(w.uniqueid) is None or w.call_id in self.line.queued:
            return  # gone, or (handed over while AMI was down) put in line by the resync, or to be
        now = self.clock.now()
        entered = min([f.at for f in await self.ledger.facts(w.call_id) if f.kind == "channel.new"] or [now])
        if w.call_id in self.line.queued:
            return  # the resync's adoption put it in line while the ledger was read
        service = self.line.service_for(w.service)
        if w.service and service != w.service:
            log.warning("call %s: the IVR asked for unknown service %r; queued for %r", w.call_id, w.service, service)
        position = self.line.next_position(service)
        self.line.join(Queued(w, service, entered, now, position, CallerPlan(entered, now)))
        await self.notifier.enter_queue(now, w.call_id, service, w.caller, position)
        self.line.kick()

    async def menu_callback(self, call_id: str, uniqueid: str, number: str, service: str) -> None:
        """The menu's call-back node: the caller left a number and hung up; the call back waits in line."""
        await self.dispatcher.callbacks.from_menu(call_id, uniqueid, number, service)

    async def queue_callback(self, agi: AgiChannel) -> None:
        """FastAGI route ``queue-callback``: the waiting caller pressed 1 to be called back, keeping its place."""
        await self.dispatcher.callbacks.chosen(agi)
