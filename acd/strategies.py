"""How a service chooses among several free agents able to take its caller: sans-I/O, plain data in.

- ``longest_idle``: the agent free the longest;
- ``least_skilled``: the agent with the fewest skills, then the lowest levels on the skills the caller needs,
  so generalists stay free for callers only they can take (then the longest idle);
- ``round_robin``: each service takes its agents in turn, in the site file's order, starting after the
  agent it offered a caller to last (what app_queue calls rrmemory);
- ``fewest_calls``: the agent who answered the fewest calls since the engine started (then the longest idle).

Every rank ends in the agent id, so two routers given the same events always decide alike. ``words`` says
the rank in the terms ``hotline why`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

STRATEGIES = ("longest_idle", "least_skilled", "round_robin", "fewest_calls")


@dataclass(frozen=True)
class Standing:
    """What a strategy looks at for one free agent."""

    agent_id: str
    idle_since: float
    skills: Mapping[str, int]
    calls: int  # answered since the engine started
    turn: int  # 1 = next in this service's rotation


def turn(index: int, last: int | None, agents: int) -> int:
    """The agent's place in a service's rotation: 1 right after the agent offered last (or the first agent)."""
    start = -1 if last is None else last
    return (index - start - 1) % agents + 1


def needed_level(skills: Mapping[str, int], needed: tuple[tuple[str, int], ...]) -> int:
    return sum(skills.get(skill, 0) for skill, _ in needed)


def rank(strategy: str, s: Standing, needed: tuple[tuple[str, int], ...]) -> tuple[float | str, ...]:
    """Lower ranks first."""
    if strategy == "least_skilled":
        return (len(s.skills), needed_level(s.skills, needed), s.idle_since, s.agent_id)
    if strategy == "round_robin":
        return (s.turn, s.agent_id)
    if strategy == "fewest_calls":
        return (s.calls, s.idle_since, s.agent_id)
    return (s.idle_since, s.agent_id)


def words(strategy: str, s: Standing, needed: tuple[tuple[str, int], ...], now: float) -> str:
    """The rank in words, for explanations."""
    idle = f"idle {max(0.0, now - s.idle_since):.0f} s"
    if strategy == "least_skilled":
        n = len(s.skills)
        return f"{n} skill{'s' if n != 1 else ''}, level {needed_level(s.skills, needed)} on the needed skills, {idle}"
    if strategy == "round_robin":
        return f"turn {s.turn} in the rotation"
    if strategy == "fewest_calls":
        return f"{s.calls} call{'s' if s.calls != 1 else ''} answered, {idle}"
    return idle
