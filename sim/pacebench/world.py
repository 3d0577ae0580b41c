"""PaceBench's world: cells and common random numbers.

Every lead's future (outcome draw, ring time, machine pickup, greeting, AMD verdict draws, talk time) comes
from its own stream, ``SeedSequence([seed, lead, attempt])``; wrap-up from ``[seed, WRAP, agent, call]``.
So every policy faces the same world, and the oracle is computed on it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DAY = 8 * 3600  # 09:00-17:00
START_HOUR = 9.0
WRAP_STREAM = 1_000_003
INBOUND_STREAM = 1_000_033
INBOUND_SHARE = 0.20  # S6: inbound at 20 % of the floor's capacity
INBOUND_SL = (0.80, 20.0)  # ... answered 80 % within 20 s


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    s2 = math.log(1 + (sd / mean) ** 2)
    return math.log(mean) - s2 / 2, math.sqrt(s2)


RING = lognormal_params(8.0, 4.0)
TALK = lognormal_params(240.0, 0.8 * 240.0)
WRAP = lognormal_params(20.0, 0.5 * 20.0)


@dataclass(frozen=True)
class Cell:
    name: str
    agents: int
    p0: float
    amd: bool = True
    profile: str = "US"  # US: 2 s after the greeting, 30-day window; UK: 2 s after answer (+0.3), per day
    stress: str = ""  # S1 .. S6
    finite: bool = False  # the finite-list variant
    fp_rate: float = 0.01
    fn_rate: float = 0.10

    def p_human(self, t: float) -> float:
        hour = START_HOUR + t / 3600
        p = self.p0 * (1 - 0.4 * max(0.0, 1 - abs(hour - 13.0) / 2))
        if self.stress == "S1" and 11.0 <= hour < 15.0:
            p *= 0.5
        return p

    def talk_factor(self, t: float) -> float:
        return 150 / 240 if self.stress == "S2" and START_HOUR + t / 3600 >= 14.0 else 1.0


def core_cells() -> list[Cell]:
    """N x p0 with AMD on, and the same nine with AMD off (docs/pacebench.md#cells)."""
    on = [Cell(f"N{n}-p{int(p * 100):02d}", n, p) for n in (8, 16, 48) for p in (0.15, 0.30, 0.50)]
    off = [Cell(f"N{n}-p{int(p * 100):02d}-noamd", n, p, amd=False) for n in (8, 16, 48) for p in (0.15, 0.30, 0.50)]
    return on + off


def stress_cells() -> list[Cell]:
    return [
        Cell("S1-p-halves", 48, 0.30, stress="S1"),
        Cell("S2-talk-drops", 48, 0.30, stress="S2"),
        Cell("S3-breaks", 48, 0.30, stress="S3"),
        Cell("S4-amd-fp5", 48, 0.30, stress="S4", fp_rate=0.05),
        Cell("S5-uk", 48, 0.30, profile="UK", amd=False, stress="S5"),
        blended_cell(),
    ]


def blended_cell() -> Cell:
    return Cell("S6-blended", 48, 0.30, stress="S6")


def list_cells() -> list[Cell]:
    return [Cell("L48-p30-list", 48, 0.30, finite=True), Cell("L16-p30-list", 16, 0.30, finite=True)]


@dataclass
class LeadDraw:
    u_outcome: float
    u_fp: float
    u_fn: float
    fn_handle: float  # seconds an agent spends on a machine AMD let through
    machine_verdict: float  # seconds after pickup
    greeting: float
    busy_after: float
    ring: float
    machine_pickup: float
    talk: float


class World:
    def __init__(self, cell: Cell, seed: int) -> None:
        self.cell = cell
        self.seed = seed
        self._leads: dict[tuple[int, int], LeadDraw] = {}
        self._wraps: dict[int, np.ndarray] = {}

    def lead(self, i: int, attempt: int = 0) -> LeadDraw:
        key = (i, attempt)
        d = self._leads.get(key)
        if d is None:
            g = np.random.default_rng([self.seed, i, attempt])
            u = g.random(7)
            d = LeadDraw(
                float(u[0]), float(u[1]), float(u[2]), 10 + 10 * float(u[3]), 2.5 + 2.5 * float(u[4]),
                0.8 + 1.2 * float(u[5]), 2 + 4 * float(u[6]), float(g.lognormal(*RING)),
                float(min(24.0, max(3.0, g.normal(18.0, 4.0)))), float(g.lognormal(*TALK)),
            )  # fmt: skip
            self._leads[key] = d
        return d

    def inbound_rate(self) -> float:
        """S6: inbound calls per second, 20 % of what the agents can take (talk + wrap-up + bridge)."""
        return INBOUND_SHARE * self.cell.agents / (240.0 + 20.0 + 0.5) if self.cell.stress == "S6" else 0.0

    def inbound(self) -> list[tuple[float, float]]:
        """S6's inbound callers: (arrival, talk), a Poisson stream over the shift from its own seed."""
        rate = self.inbound_rate()
        if rate <= 0:
            return []
        g = np.random.default_rng([self.seed, INBOUND_STREAM])
        out, t = [], 0.0
        while True:
            t += float(g.exponential(1 / rate))
            if t >= DAY:
                return out
            out.append((t, float(g.lognormal(*TALK))))

    def wrap(self, agent: int, k: int) -> float:
        arr = self._wraps.get(agent)
        if arr is None or k >= len(arr):
            n = max(512, 2 * (k + 1))
            arr = np.random.default_rng([self.seed, WRAP_STREAM, agent]).lognormal(*WRAP, size=n)
            self._wraps[agent] = arr
        return float(arr[k])
