"""Skill-based routing brain: sans-I/O, no clock of its own, every decision explained.

Callers wait in *classes*: the same service, the same extra skill needs and the same priority. Inside a
class requirements only loosen and priority only rises as the wait grows (rule steps), so the oldest
caller of a class is both its best-scored and its least demanding one. A freed agent therefore looks at
one caller per class, not at every caller: O(classes) instead of O(callers).

Fair order across services: score = priority × ``priority_weight`` + seconds since the caller entered the
system (IVR time included, docs/metrics.md#wait-clocks). The best caller for a freed agent is chosen across all services
that agent can serve.

When several agents are free, callers are served in that order (the best caller any free agent can take
comes first), and the caller's service's strategy (``acd/strategies.py``) picks which of the free agents
able to take it gets it.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from acd.able import AbleAgents
from acd.strategies import Standing, rank, turn, words

PRIORITY_WEIGHT = 60.0  # one priority step counts as a minute of waiting


@dataclass(frozen=True)
class RuleStep:
    """After ``after`` seconds of waiting: lower skill minimums, add agent groups, raise priority."""

    after: float
    lower: Mapping[str, int] = field(default_factory=dict)
    add_groups: frozenset[str] = frozenset()
    raise_priority: int = 0


@dataclass(frozen=True)
class Service:
    name: str
    required: Mapping[str, int]  # skill -> minimum level 0-100
    priority: int = 0
    strategy: str = "longest_idle"  # longest_idle, least_skilled, round_robin, fewest_calls
    steps: tuple[RuleStep, ...] = ()
    groups: frozenset[str] = frozenset()  # agents in these groups serve it whatever their skills


@dataclass(frozen=True)
class AgentProfile:
    id: str
    skills: Mapping[str, int]
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Caller:
    call_id: str
    service: str
    entered_at: float  # entered the system (IVR included)
    priority: int = 0
    needs: Mapping[str, int] = field(default_factory=dict)  # extra skill minimums (from the IVR)
    missed: frozenset[str] = frozenset()  # agents who did not answer its offers: ranked after the others


@dataclass(frozen=True)
class Requirements:
    skills: tuple[tuple[str, int], ...]
    groups: frozenset[str]
    priority: int
    step: int  # how many rule steps apply


@dataclass(frozen=True)
class Decision:
    call_id: str
    agent_id: str
    score: float
    step: int
    considered: int  # callers (for a freed agent) or agents (for a new caller) looked at
    strategy: str = ""  # the caller's service's strategy, when it chose among free agents
    why: str = ""  # why this agent, in words


def requirements(service: Service, caller: Caller, waited: float) -> Requirements:
    need = dict(service.required)
    for skill, level in caller.needs.items():
        need[skill] = max(level, need.get(skill, 0))
    groups = set(service.groups)
    prio = service.priority + caller.priority
    step = 0
    for i, s in enumerate(service.steps, start=1):
        if waited < s.after:
            break
        step = i
        for skill, level in s.lower.items():
            if skill in need:
                need[skill] = min(need[skill], level)
        groups |= s.add_groups
        prio += s.raise_priority
    return Requirements(tuple(sorted(need.items())), frozenset(groups), prio, step)


def why_not(agent: AgentProfile, req: Requirements) -> str | None:
    """None if the agent can take a caller with these requirements, else the reason it cannot."""
    if agent.groups & req.groups:
        return None
    for skill, level in req.skills:
        have = agent.skills.get(skill)
        if have is None:
            return f"lacks skill {skill}"
        if have < level:
            return f"skill {skill} level {have} < {level}" + (f" (rule step {req.step})" if req.step else "")
    return None


_Best = tuple[float, Caller, Requirements]


def _better(best: _Best | None, score: float, caller: Caller, req: Requirements) -> _Best:
    """Highest score wins; equal scores (rounding can make them equal) go to the caller who came first, then
    to the smaller call id, so every router decides alike."""
    if best is None or score > best[0]:
        return (score, caller, req)
    if score == best[0] and (caller.entered_at, caller.call_id) < (best[1].entered_at, best[1].call_id):
        return (score, caller, req)
    return best


@dataclass
class AgentRuntime:
    profile: AgentProfile
    idle_since: float | None = None  # None: not available (the state machine says why)
    calls: int = 0  # answered since the engine started (fewest_calls)
    index: int = 0  # place in the site file (round_robin)


class Router:
    def __init__(self, services: Iterable[Service], agents: Iterable[AgentProfile],
                 priority_weight: float = PRIORITY_WEIGHT) -> None:  # fmt: skip
        self.services = {s.name: s for s in services}
        self.agents = {a.id: AgentRuntime(a, index=i) for i, a in enumerate(agents)}
        self._order = list(self.agents)
        self.priority_weight = priority_weight
        self._free: dict[str, None] = {}  # available agents, an ordered set
        self._free_bits = 0  # the same agents as bits: bit i is the agent at index i (acd/able.py)
        self._afters = {s.name: [step.after for step in s.steps] for s in self.services.values()}
        self._callers: dict[str, Caller] = {}
        self._last_turn: dict[str, int] = {}  # service -> index of the agent it offered a caller to last
        # per class, a heap of (entered, call id, push number, caller); a caller who left stays in it until it
        # reaches the top (lazy removal), so one put back in line may be there twice: the push number keeps the
        # two apart (callers do not compare) and only the caller's latest push is live
        self._classes: dict[tuple[object, ...], list[tuple[float, str, int, Caller]]] = {}
        self._pushes = itertools.count()
        self._where: dict[str, tuple[object, ...]] = {}
        self._req_cache: dict[tuple[object, ...], Requirements] = {}
        # which agents fit each (class, rule step) by skills and groups: an agent is the bit at its index
        self._able = AbleAgents({rt.index: rt.profile for rt in self.agents.values()}, why_not)
        self.granted: dict[str, set[str]] = {}  # agent -> services it may serve whatever its skills (the guard)

    # ---- inputs -------------------------------------------------------------------------------------
    def enqueue(self, caller: Caller) -> None:
        if caller.service not in self.services:
            raise KeyError(f"unknown service {caller.service!r}")
        key = (caller.service, caller.priority, tuple(sorted(caller.needs.items())))
        entry = (caller.entered_at, caller.call_id, next(self._pushes), caller)
        heapq.heappush(self._classes.setdefault(key, []), entry)
        self._where[caller.call_id] = key
        self._callers[caller.call_id] = caller

    def _live(self, caller: Caller) -> bool:
        """This heap entry is the caller as it waits now (not one that left, nor an earlier push of it)."""
        return self._callers.get(caller.call_id) is caller

    def remove(self, call_id: str) -> None:
        """The caller left (connected elsewhere or hung up); lazily dropped from its class heap."""
        self._where.pop(call_id, None)
        self._callers.pop(call_id, None)

    def set_available(self, agent_id: str, idle_since: float | None) -> None:
        rt = self.agents[agent_id]
        rt.idle_since = idle_since
        if idle_since is None:
            self._free.pop(agent_id, None)
            self._free_bits &= ~(1 << rt.index)
        else:
            self._free[agent_id] = None
            self._free_bits |= 1 << rt.index

    def answered(self, agent_id: str) -> None:
        """The agent answered a call (fewest_calls counts these)."""
        self.agents[agent_id].calls += 1

    def grant(self, agent_id: str, service: str, on: bool = True) -> None:
        """Let an agent serve a service whatever its skills (the hotline guard's reserved agent), or stop."""
        names = self.granted.setdefault(agent_id, set())
        if on:
            names.add(service)
        else:
            names.discard(service)

    def _why_not(self, agent: AgentProfile, service: str, req: Requirements) -> str | None:
        if service in self.granted.get(agent.id, ()):
            return None
        return why_not(agent, req)

    def waiting(self) -> int:
        return len(self._where)

    # ---- decisions ----------------------------------------------------------------------------------
    def _head(self, key: tuple[object, ...]) -> Caller | None:
        heap = self._classes.get(key)
        while heap:
            caller = heap[0][-1]
            if self._live(caller):
                return caller
            heapq.heappop(heap)
        if heap is not None:
            del self._classes[key]
            self._able.forget(key)
        return None

    def _requirements(self, key: tuple[object, ...], caller: Caller, waited: float) -> Requirements:
        """Requirements for a class at a rule step, computed once per (class, step)."""
        step = bisect.bisect_right(self._afters[caller.service], waited)
        cached = self._req_cache.get((key, step))
        if cached is None:
            cached = requirements(self.services[caller.service], caller, waited)
            self._req_cache[(key, step)] = cached
        return cached

    def _score(self, caller: Caller, req: Requirements, now: float) -> float:
        return req.priority * self.priority_weight + (now - caller.entered_at)

    def best_caller_for(self, agent_id: str, now: float) -> Decision | None:
        """An agent became free: the best waiting caller across every service it can serve."""
        agent = self.agents[agent_id].profile
        best: tuple[float, Caller, Requirements] | None = None
        considered = 0
        for key in list(self._classes):
            caller = self._head(key)
            if caller is None:
                continue
            considered += 1
            req = self._requirements(key, caller, now - caller.entered_at)
            if self._why_not(agent, caller.service, req) is not None:
                continue
            best = _better(best, self._score(caller, req, now), caller, req)
        if best is None:
            return None
        return Decision(best[1].call_id, agent_id, best[0], best[2].step, considered)

    def next_decision(self, now: float) -> Decision | None:
        """The next connect to make among the free agents: the best caller any of them can take (fair order
        across services), given to the free agent its service's strategy ranks first. None: nothing to do.

        One pass over the classes, one caller each (its head: the class's best-scored and least demanding
        caller, so a head no free agent can take speaks for its whole class): the best head some free agent
        can take. However many agents are free, each class is looked at once, and only a head that would beat
        the best so far is checked against the free agents (which agents fit a class at a rule step is
        remembered, see acd/able.py)."""
        if not self._free:
            return None
        free = self._free_bits
        # with one agent free, comparing its skills costs less than the memo's bookkeeping
        only = self.agents[next(iter(self._free))].profile if len(self._free) == 1 else None
        # services some free agent may serve whatever its skills
        granted = {name for a in self._free for name in self.granted.get(a, ())}
        best: _Best | None = None
        for key in list(self._classes):
            caller = self._head(key)
            if caller is None:
                continue
            req = self._requirements(key, caller, now - caller.entered_at)
            score = self._score(caller, req, now)
            if best is not None and _better(best, score, caller, req) is best:
                continue  # it cannot come first: who could take it does not matter
            if only is not None:
                fits = why_not(only, req) is None
            else:
                fits = self._able.any_able(key, free, req)
            if fits or caller.service in granted:
                best = (score, caller, req)
        return None if best is None else self._choose_agent(best[1], now, best[2])

    def best_agent_for(self, call_id: str, now: float) -> Decision | None:
        """The free agent this waiting caller's service's strategy would give it to now."""
        caller = self._callers.get(call_id)
        return None if caller is None else self._choose_agent(caller, now)

    def _choose_agent(self, caller: Caller, now: float, req: Requirements | None = None) -> Decision | None:
        service = self.services[caller.service]
        if req is None:
            req = self._requirements(self._where[caller.call_id], caller, now - caller.entered_at)
        able = [self.standing(a, caller.service) for a in self._free
                if self._why_not(self.agents[a].profile, caller.service, req) is None]  # fmt: skip
        if not able:
            return None
        chosen = min(able, key=lambda st: (st.agent_id in caller.missed, rank(service.strategy, st, req.skills)))
        if len(able) == 1:
            why = f"the only free agent able to take it, so {service.strategy} had no choice"
        else:
            why = (f"by {service.strategy}: {words(service.strategy, chosen, req.skills, now)}, "
                   f"first of {len(able)} free agents able to take it")  # fmt: skip
        return Decision(caller.call_id, chosen.agent_id, self._score(caller, req, now), req.step, len(able),
                        service.strategy, why)  # fmt: skip

    def standing(self, agent_id: str, service: str) -> Standing:
        rt = self.agents[agent_id]
        idle = rt.idle_since if rt.idle_since is not None else float("inf")
        return Standing(agent_id, idle, rt.profile.skills, rt.calls,
                        turn(rt.index, self._last_turn.get(service), len(self._order)))  # fmt: skip

    def assigned(self, decision: Decision) -> None:
        """The engine acted on a decision: the caller leaves the queue, the agent is no longer idle."""
        caller = self._callers.get(decision.call_id)
        if caller is not None:  # the service's rotation moves past this agent (round_robin)
            self._last_turn[caller.service] = self.agents[decision.agent_id].index
        self.remove(decision.call_id)
        self.set_available(decision.agent_id, None)

    # ---- what a blended floor needs to know (the dialer asks through engine.ports.InboundView) ---------------
    def waiting_for(self, agent_ids: Iterable[str], now: float) -> int:
        """Callers waiting now whom at least one of these agents may take at the caller's current rule step
        (an overflow step reached, or a service the guard granted)."""
        profiles = [self.agents[a].profile for a in agent_ids if a in self.agents]
        seen: set[str] = set()
        for key, heap in self._classes.items():
            for _, call_id, _, caller in heap:
                if call_id in seen or not self._live(caller):
                    continue
                req = self._requirements(key, caller, now - caller.entered_at)
                if any(self._why_not(p, caller.service, req) is None for p in profiles):
                    seen.add(call_id)
        return len(seen)

    def open_services(self, agent_ids: Iterable[str]) -> set[str]:
        """Services whose callers at least one of these agents may take at some rule step (or by a grant)."""
        profiles = [self.agents[a].profile for a in agent_ids if a in self.agents]
        out = set()
        for s in self.services.values():
            req = requirements(s, Caller("", s.name, 0.0), float("inf"))  # every rule step applied
            if any(self._why_not(p, s.name, req) is None for p in profiles):
                out.add(s.name)
        return out

    # ---- explanations -------------------------------------------------------------------------------
    def explain(self, caller: Caller, chosen: str | None, now: float,
                states: Mapping[str, str] | None = None, why: str = "") -> list[dict[str, str]]:  # fmt: skip
        """Why each agent was or was not chosen for ``caller`` at ``now`` (``states``: the state machine's
        word for agents that were not available: paused, wrap-up, busy, ringing, logged out; ``why``: the
        decision's own reason for the chosen agent)."""
        service = self.services[caller.service]
        req = requirements(service, caller, now - caller.entered_at)
        out = []
        for agent_id, rt in sorted(self.agents.items()):
            if agent_id == chosen:
                reason = f"chosen, {why or 'by ' + service.strategy}; rule step {req.step}"
                if caller.service in self.granted.get(agent_id, ()):
                    reason += ", reserved for this service by the hotline guard"
            elif agent_id not in self._free:
                reason = (states or {}).get(agent_id, "not available")
            else:
                missed = "did not answer this caller before, " if agent_id in caller.missed else ""
                reason = self._why_not(rt.profile, caller.service, req) or (
                    f"eligible, ranked lower by {service.strategy}: {missed}"
                    f"{words(service.strategy, self.standing(agent_id, caller.service), req.skills, now)}")  # fmt: skip
            out.append({"agent": agent_id, "reason": reason})
        return out


class NaiveRouter(Router):
    """The baseline: every decision scans every waiting caller (what a straightforward ACD does)."""

    def best_caller_for(self, agent_id: str, now: float) -> Decision | None:
        agent = self.agents[agent_id].profile
        best: tuple[float, Caller, Requirements] | None = None
        considered = 0
        for heap in self._classes.values():
            for *_, caller in heap:
                if not self._live(caller):
                    continue
                considered += 1
                req = requirements(self.services[caller.service], caller, now - caller.entered_at)
                if self._why_not(agent, caller.service, req) is not None:
                    continue
                best = _better(best, self._score(caller, req, now), caller, req)
        if best is None:
            return None
        return Decision(best[1].call_id, agent_id, best[0], best[2].step, considered)

    def next_decision(self, now: float) -> Decision | None:
        """Every free agent's best caller, then the best of those (the straightforward way)."""
        best: tuple[tuple[float, float, str], Caller] | None = None
        for agent_id in self._free:
            d = self.best_caller_for(agent_id, now)
            if d is None:
                continue
            caller = self._callers[d.call_id]
            order = (-d.score, caller.entered_at, caller.call_id)
            if best is None or order < best[0]:
                best = (order, caller)
        return None if best is None else self._choose_agent(best[1], now)
