"""Which agents can take a class of callers at a rule step, remembered while the class has callers.

An agent's skills and groups never change, nor do a class's requirements at a given rule step, so each
agent needs checking against each (class, step) once. When several agents are free, the router asks "can
any of them take this class now?" for class after class; with the answers remembered that is one AND of
two bit sets (an agent is a bit: its place in the site file) instead of a skill comparison per free
agent. Grants (the hotline guard) are not remembered here: they come and go, and the router checks them
itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acd.router import AgentProfile, Requirements


class AbleAgents:
    def __init__(self, profiles: Mapping[int, AgentProfile],
                 why_not: Callable[[AgentProfile, Requirements], str | None]) -> None:  # fmt: skip
        self._profiles = profiles  # by index (bit position)
        self._why_not = why_not
        # class -> rule step -> [agents checked, those of them able to take the class's callers], as bits
        self._known: dict[Hashable, dict[int, list[int]]] = {}

    def any_able(self, key: Hashable, free: int, req: Requirements) -> bool:
        """True if some agent in ``free`` (bits) can take the class ``key`` whose requirements are now
        ``req``; only agents never checked against this (class, rule step) have their skills compared."""
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = {}
        masks = known.get(req.step)
        if masks is None:
            masks = known[req.step] = [0, 0]
        if masks[1] & free:
            return True
        unchecked = free & ~masks[0]
        while unchecked:
            bit = unchecked & -unchecked  # the lowest one
            unchecked ^= bit
            masks[0] |= bit
            if self._why_not(self._profiles[bit.bit_length() - 1], req) is None:
                masks[1] |= bit
                return True  # the agents not looked at yet stay unchecked
        return False

    def forget(self, key: Hashable) -> None:
        """The class has no callers left: what was known about it goes (it may never come back)."""
        self._known.pop(key, None)
