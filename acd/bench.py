"""`hotline bench route`: routing decisions per second and latency, indexed router vs naive full scan.

One seeded world (agents with skills and levels, services with skill minimums and rule steps, callers
waiting with priorities and occasional extra needs), one sequence of decisions, both routers in the same
run. Each decision: an agent frees up, the router picks its caller, the caller is connected and a new one
arrives (so the queue stays at ``waiting``). A decision is the dispatcher's own call (``next_decision``: the
best caller, then its service's strategy; the services use the four strategies in turn). Times are
wall-clock per decision, reported as percentiles and as ratios between the two routers (the machine is
shared, ratios travel better than absolutes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from acd.router import AgentProfile, Caller, NaiveRouter, Router, RuleStep, Service
from acd.strategies import STRATEGIES


@dataclass(frozen=True)
class World:
    services: list[Service]
    agents: list[AgentProfile]
    callers: list[Caller]  # initial queue, then arrivals in order


def make_world(agents: int, skills: int, waiting: int, decisions: int, seed: int) -> World:
    g = np.random.default_rng(np.random.SeedSequence([seed, 9]))
    names = [f"sk{i:03d}" for i in range(skills)]
    services = []
    for i in range(max(1, skills // 2)):
        req = {
            str(s): int(g.integers(20, 70))
            for s in g.choice(names, size=min(skills, int(g.integers(1, 4))), replace=False)
        }
        steps = (RuleStep(60.0, lower={k: max(0, v - 30) for k, v in req.items()}),
                 RuleStep(180.0, raise_priority=1))  # fmt: skip
        services.append(Service(f"svc{i:03d}", req, priority=int(g.integers(0, 3)), steps=steps,
                                strategy=STRATEGIES[i % len(STRATEGIES)]))  # fmt: skip
    profiles = []
    for i in range(agents):
        own = g.choice(names, size=min(skills, int(g.integers(5, 16))), replace=False)
        profiles.append(AgentProfile(f"ag{i:04d}", {str(s): int(g.integers(10, 101)) for s in own}))
    callers = []
    for i in range(waiting + decisions):
        svc = services[int(g.integers(0, len(services)))]
        needs = {str(g.choice(names)): int(g.integers(10, 60))} if g.random() < 0.05 else {}
        entered = -float(g.uniform(0, 300)) if i < waiting else float(i - waiting) * 0.5
        callers.append(Caller(f"c{i:06d}", svc.name, entered, int(g.integers(0, 2)), needs))
    return World(services, profiles, callers)


def _run(router_cls: type[Router], world: World, waiting: int, decisions: int, seed: int,
         free: int = 1) -> dict[str, Any]:  # fmt: skip
    """Each step frees agents until ``free`` are free, then asks for the dispatcher's next decision (the best
    caller any free agent can take, then its service's strategy among the free agents able to take it)."""
    r = router_cls(world.services, world.agents)
    for c in world.callers[:waiting]:
        r.enqueue(c)
    g = np.random.default_rng(np.random.SeedSequence([seed, 10]))
    lat = np.empty(decisions)
    picked = []
    nxt = waiting
    idle: list[str] = []  # oldest first
    for i in range(decisions):
        now = float(i) * 0.5 + 1.0
        while len(idle) < free:
            agent = world.agents[int(g.integers(0, len(world.agents)))].id
            if agent not in idle:
                idle.append(agent)
                r.set_available(agent, now - 1.0 - 0.01 * len(idle))
        t0 = time.perf_counter_ns()
        d = r.next_decision(now)
        lat[i] = time.perf_counter_ns() - t0
        picked.append((d.call_id, d.agent_id) if d else None)
        if d is not None:
            r.assigned(d)
            idle.remove(d.agent_id)
            r.set_available(d.agent_id, None)
            r.enqueue(world.callers[nxt])
            nxt += 1
        else:
            # nobody waiting fits the longest-free agent: it goes back to work, so the free set keeps changing
            r.set_available(idle.pop(0), None)
    total = lat.sum() / 1e9
    return {
        "decisions": decisions,
        "matched": sum(1 for p in picked if p),
        "decisions_per_second": round(decisions / total, 1),
        "p50_ms": round(float(np.percentile(lat, 50)) / 1e6, 4),
        "p99_ms": round(float(np.percentile(lat, 99)) / 1e6, 4),
        "max_ms": round(float(lat.max()) / 1e6, 4),
        "picked": picked,
    }


def bench_route(agents: int = 1000, skills: int = 100, waiting: int = 500, decisions: int = 2000,
                seed: int = 1, free: int = 1) -> dict[str, Any]:  # fmt: skip
    world = make_world(agents, skills, waiting, decisions, seed)
    naive = _run(NaiveRouter, world, waiting, decisions, seed, free)
    fast = _run(Router, world, waiting, decisions, seed, free)
    same = naive.pop("picked") == fast.pop("picked")
    return {
        "world": {"agents": agents, "skills": skills, "services": len(world.services), "waiting": waiting,
                  "decisions": decisions, "seed": seed, "free": free},
        "indexed": fast, "naive": naive, "same_decisions": same,
        "speedup_p50": round(naive["p50_ms"] / fast["p50_ms"], 2) if fast["p50_ms"] else None,
        "speedup_p99": round(naive["p99_ms"] / fast["p99_ms"], 2) if fast["p99_ms"] else None,
        "goal_p99_ms": 1.0,
    }  # fmt: skip


def print_route(report: dict[str, Any]) -> None:
    w = report["world"]
    print(f"route bench: {w['agents']} agents, {w['skills']} skills, {w['services']} services, {w['waiting']} "
          f"waiting, {w['free']} free at a time, {w['decisions']} decisions (seed {w['seed']})")  # fmt: skip
    print(f"{'router':<9} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name in ("indexed", "naive"):
        r = report[name]
        print(
            f"{name:<9} {r['decisions_per_second']:>12,.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['max_ms']:>8.3f}"
        )
    print(f"indexed vs naive: {report['speedup_p50']}x at p50, {report['speedup_p99']}x at p99; "
          f"same decisions: {report['same_decisions']}; goal p99 <= {report['goal_p99_ms']} ms")  # fmt: skip


def main(args: Any) -> int:
    report = bench_route(args.agents, args.skills, args.waiting, args.decisions, args.seed, args.free)
    print_route(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"figures written to {args.json}")
    return 0 if report["same_decisions"] else 1
