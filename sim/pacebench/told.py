"""`hotline bench bounds`: how much R better knowledge could buy. The production pacer is run beside copies of it
that are told part of the truth no engine has, on the same seeded worlds, and the oracle. What each copy is told:

- ``agents``: when each talking or wrapping agent will be free (its talk and wrap-up left), in place of the
  forecast from the elapsed talk and wrap-up;
- ``answers``: whether an answered dial will turn live, as soon as it is answered (the engine hears the answer
  seconds before AMD's verdict; this is more than that, since the verdict is the part it does not hear);
- ``fates``: whether each ringing dial will turn live, from the moment it is placed (no engine can know it).

A copy still decides with the pacer's own rule (the same abandon target and learning). If a copy told a truth
reaches a goal and the pacer does not, the goal lies in forecasting that truth better; if it does not reach it
either, no better forecast of it can."""

from __future__ import annotations

import bisect
import os
import time
from typing import Any

from dialer.pacer import NO_AMD_WINDOW, ForecastPacer
from dialer.pacing import Floor
from sim.pacebench.floor import Told, oracle, run_floor
from sim.pacebench.frontier import finish, pacer_at, report
from sim.pacebench.suite import _raw, aggregate, cells_for, parse_seeds, run_jobs
from sim.pacebench.world import Cell, World

NAME = "hotline forecast"  # rows go through PaceBench's own aggregate under the pacer's name
TRUTHS = ("agents", "answers", "fates")
DEFAULT_TOLD = ("agents", "answers", "agents+answers", "fates", "agents+fates")


class ToldPacer(ForecastPacer):
    """The forecasting pacer, told the truths in ``knows`` each second before it decides (``run_floor`` calls
    ``tell``)."""

    def __init__(self, knows: frozenset[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.knows = knows
        self.told = Told([], [], [])

    def tell(self, told: Told) -> None:
        self.told = told

    def agent_chances(self, f: Floor) -> list[float]:
        if "agents" not in self.knows:
            return super().agent_chances(f)
        # an agent free in x seconds takes a new dial's live call if it comes no sooner than x less the window
        # (the pacer's own: after AMD is switched off, the no-AMD one)
        window = self.window if self.controls.amd or not self.fell_back else NO_AMD_WINDOW
        delays = sorted(self.delays["live"])
        n = len(delays)
        return [(n - bisect.bisect_left(delays, x - window)) / n * self.free_weight
                for x in self.told.talking + self.told.wrapping]  # fmt: skip

    def ringing_chances(self, f: Floor, share: dict[str, float]) -> list[float]:
        forecast = super().ringing_chances(f, share)
        if "fates" in self.knows:
            return [float(live) for _, (_, live) in zip(forecast, self.told.ringing, strict=True)]
        if "answers" in self.knows:
            return [float(live) if since is not None else q
                    for q, (since, live) in zip(forecast, self.told.ringing, strict=True)]  # fmt: skip
        return forecast


def told_pacer(cell: Cell, knows: frozenset[str], target: float = 0.03) -> ForecastPacer:
    """The pacer PaceBench runs in ``cell``, told ``knows`` (none: the pacer itself)."""
    base = pacer_at(cell, target)
    if not knows:
        return base
    return ToldPacer(knows, target=base.target, margin=base.margin, amd=base.controls.amd, window=base.window)


def _world(job: tuple[Cell, int, tuple[str, ...]]) -> list[dict[str, Any]]:
    cell, seed, told = job
    world = World(cell, seed)
    rows = [{**_raw(oracle(cell, world, seed), "oracle"), "told": None}]
    for spec in ("", *told):
        knows = frozenset(x for x in spec.split("+") if x)
        rows.append({**_raw(run_floor(cell, world, told_pacer(cell, knows), seed), NAME), "told": spec or "nothing"})
    return rows


def bounds(cells: list[Cell], seeds: list[int], told: tuple[str, ...], workers: int,
           progress: Any = lambda _: None) -> list[dict[str, Any]]:  # fmt: skip
    """Per cell: PaceBench's row of the pacer told nothing, then told each of ``told``, with a ``told`` key."""
    jobs = [(c, s, told) for c in cells for s in seeds]
    rows = [r for rs in run_jobs(jobs, _world, progress, workers) for r in rs]
    oracles = [r for r in rows if r["told"] is None]
    out = []
    for spec in ("nothing", *told):
        for row in aggregate(oracles + [r for r in rows if r["told"] == spec], cells):
            if row["policy"] == NAME:
                out.append({"told": spec, **row})
    order = [c.name for c in cells]
    specs = ["nothing", *told]
    return sorted(out, key=lambda r: (order.index(r["cell"]), specs.index(r["told"])))


def parse_told(spec: str) -> tuple[str, ...]:
    got = tuple(x.strip() for x in spec.split(",") if x.strip())
    bad = [x for x in got if not x or any(part not in TRUTHS for part in x.split("+"))]
    if not got or bad:
        raise ValueError(f"--told takes truths joined by + and separated by commas, of {', '.join(TRUTHS)} "
                         f"(got {spec!r})")  # fmt: skip
    return got


def main(args: Any) -> int:
    try:
        cells = cells_for(args.cells)
        seeds = parse_seeds(args.seeds)
        told = parse_told(args.told)
    except ValueError as exc:
        print(f"hotline bench bounds: {exc}")
        return 2
    workers = max(1, min(args.workers, os.cpu_count() or 1))
    print(f"bounds: {len(cells)} cell(s) x {len(seeds)} seed(s), the pacer told nothing and told "
          f"{', '.join(told)}, + oracle, {workers} worker(s)")  # fmt: skip
    t0 = time.monotonic()
    table = bounds(cells, seeds, told, workers, print)
    report(table, f"{'told':<16}", lambda r: f"{r['told']:<16}")
    finish(args.json, len(cells) * len(seeds), t0, {"seeds": seeds, "told": ["nothing", *told], "table": table})
    return 0
