"""The simulator's lead list: endless numbers drawn from the traffic model (demo and benchmarks), every dial a
fresh lead, decoded back to the lead by the simulated carrier (``sim.world``)."""

from __future__ import annotations

import itertools

from dialer.lead_source import LeadRef


def synthetic_number(index: int) -> str:
    """Lead ``index`` of a synthetic list as a Chinese mobile number (the simulated carrier decodes it)."""
    return f"139{index:08d}"


def synthetic_index(number: str) -> int | None:
    digits = number.removeprefix("+86")
    return int(digits[3:]) if len(digits) == 11 and digits.startswith("139") and digits.isdigit() else None


class SyntheticLeads:
    """An endless list drawn from the traffic model (demo and benchmarks): every dial is a fresh lead."""

    def __init__(self) -> None:
        self._next = itertools.count()
        self.finished: dict[str, int] = {}

    async def claim(self, n: int, now: float, agent: str | None = None) -> list[LeadRef]:
        if agent is not None:
            return []  # no call backs in a synthetic list
        return [LeadRef(i, synthetic_number(i)) for i in itertools.islice(self._next, max(0, n))]

    async def schedule(self, lead: LeadRef, at: float, agent: str | None) -> None:
        return None

    async def add_dnc(self, phone: str, now: float) -> None:
        return None

    async def finish(self, lead: LeadRef, outcome: str, now: float, next_at: float | None,
                     attempted: bool = True) -> None:  # fmt: skip
        self.finished[outcome] = self.finished.get(outcome, 0) + 1
