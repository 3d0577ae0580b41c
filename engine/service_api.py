"""The service API: the one entry point for every action a person takes on the engine.

Feature codes, the web console and the command line all call ``ServiceApi.do(actor, request)``. The policy is
asked first; then the feature that owns the action carries it out (the ACD for an agent's state, the dialer
for outbound calls, the monitor for listening, the IVR for a reload), reached through narrow callables the
composition root passes in. Every request, done or refused, is a ledger fact with its actor: who paused whom,
and when, is a fact like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engine.clock import Clock
from engine.model.facts import Fact, fact_key
from engine.policy import MONITOR, Actor, Policy

log = logging.getLogger("hotline.api")

AgentControl = Callable[[str, str, str], Awaitable[str]]  # (agent, action, argument) -> what happened
OUTBOUND = frozenset({"disposition", "callback", "callback_any", "preview_next", "preview_dial", "preview_skip",
                      "preview_call", "sale"})  # fmt: skip
FORCED = {"force_pause": "pause", "force_logout": "logout"}


@dataclass(frozen=True)
class Request:
    action: str  # engine.policy.ACTIONS
    agent: str = ""  # the agent it concerns (an agent's own actions: itself)
    arg: str = ""  # a pause reason, a disposition code, a call back's minutes, a sale's order (JSON)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str  # what happened, or why not
    refused_by: str = ""  # "policy" (not allowed), "state" (allowed, but not now), "" when done


class Refused(Exception):
    """A feature turned the request down for the state things are in (a ValueError or InvalidTransition)."""


@dataclass
class Backends:
    agent: AgentControl  # the ACD: login, logout, pause, resume, wrapup_end
    outbound: AgentControl | None = None  # the dialer, when the site has campaigns
    monitor: Callable[[str, str, str], Awaitable[str]] | None = None  # (agent, supervisor phone, mode)
    reload: Callable[[], Awaitable[str]] | None = None
    complaint: Callable[[str, str, str], Awaitable[str]] | None = None  # cases: (agent, via, note) -> case opened


class ServiceApi:
    def __init__(self, policy: Policy, backends: Backends, record: Callable[[list[Fact]], Awaitable[None]],
                 clock: Clock, known_agents: frozenset[str],
                 refusals: tuple[type[Exception], ...] = (ValueError,)) -> None:  # fmt: skip
        self.policy = policy
        self.backends = backends
        self._record = record
        self.clock = clock
        self.known_agents = known_agents
        self.refusals = refusals  # the features' "not now" exceptions (the ACD's InvalidTransition among them)

    async def do(self, actor: Actor, req: Request) -> Outcome:
        why = self.policy.refusal(actor, req.action, req.agent)
        if why is None and req.agent and req.agent not in self.known_agents:
            why = f"no agent {req.agent!r} in the site file"
        if why is not None:
            out = Outcome(False, why, "policy")
        else:
            try:
                out = Outcome(True, await self._carry_out(actor, req))
            except self.refusals as exc:
                out = Outcome(False, str(exc), "state")
        await self._fact(actor, req, out)
        log.info("%s %s (%s via %s) %s: %s", req.action, req.agent or "-", actor.id, actor.via,
                 "done" if out.ok else f"refused ({out.refused_by})", out.text)  # fmt: skip
        return out

    async def _carry_out(self, actor: Actor, req: Request) -> str:
        b = self.backends
        if req.action in FORCED:
            reason = req.arg or f"by {actor.id}"
            return await b.agent(req.agent, FORCED[req.action], reason if req.action == "force_pause" else "")
        if req.action in MONITOR:
            if b.monitor is None:
                raise ValueError("listening is not available on this engine")
            return await b.monitor(req.agent, actor.phone, req.action)
        if req.action == "reload":
            if b.reload is None:
                raise ValueError("nothing to reload")
            return await b.reload()
        if req.action == "complaint":
            if b.complaint is None:
                raise ValueError("cases are not kept on this engine")
            return await b.complaint(req.agent, actor.via, req.arg)
        if req.action in OUTBOUND:
            if b.outbound is None:
                raise ValueError(f"{req.action}: the site has no campaigns")
            return await b.outbound(req.agent, req.action, req.arg)
        return await b.agent(req.agent, req.action, req.arg)

    async def _fact(self, actor: Actor, req: Request, out: Outcome) -> None:
        now = self.clock.now()
        data = {"actor": actor.id, "role": actor.role.value, "via": actor.via, "action": req.action,
                "agent": req.agent, "arg": req.arg, "ok": out.ok, "result": out.text,
                "refused_by": out.refused_by}  # fmt: skip
        key = fact_key("action", actor.id, req.action, req.agent, now)
        await self._record([Fact("action", now, "", "", key, data)])
