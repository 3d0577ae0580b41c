"""`hotline bench frontier`: the forecasting pacer's trade of abandons for talk. The same pacer, with its abandon
target set to each of several levels, on the same seeded worlds as PaceBench, beside the oracle: per cell and
target, R (occupancy over the oracle's), the US abandon rate by the truth, the share of the 3 % limit that is, and
the mean idle gap. It shows where a cell's R is lost: if R barely rises when the pacer may abandon more, spending
more of the budget cannot buy the goal, and what is lost is in the forecast (whom it expects free, and when)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dialer.pacer import ForecastPacer
from sim.pacebench.floor import oracle, run_floor
from sim.pacebench.suite import _raw, aggregate, cells_for, parse_seeds, run_jobs
from sim.pacebench.world import Cell, World

NAME = "hotline forecast"  # the rows go through PaceBench's own aggregate, under the pacer's name there


def pacer_at(cell: Cell, target: float) -> ForecastPacer:
    """The pacer PaceBench runs in ``cell`` (UK: its window and wider margin), aiming at ``target``."""
    if cell.profile == "UK":
        return ForecastPacer(target=target, amd=cell.amd, margin=0.006, window=1.8)
    return ForecastPacer(target=target, amd=cell.amd)


def _world(job: tuple[Cell, int, tuple[float, ...]]) -> list[dict[str, Any]]:
    """The oracle once and the pacer at each target, on one world."""
    cell, seed, targets = job
    world = World(cell, seed)
    rows = [{**_raw(oracle(cell, world, seed), "oracle"), "target": None}]
    for t in targets:
        rows.append({**_raw(run_floor(cell, world, pacer_at(cell, t), seed), NAME), "target": t})
    return rows


def frontier(cells: list[Cell], seeds: list[int], targets: tuple[float, ...], workers: int,
             progress: Any = lambda _: None) -> list[dict[str, Any]]:  # fmt: skip
    """Per cell and target: PaceBench's row of the pacer (R_raw, abandon_us_truth, budget_spent, idle gaps...)."""
    jobs = [(c, s, targets) for c in cells for s in seeds]
    rows = [r for rs in run_jobs(jobs, _world, progress, workers) for r in rs]
    oracles = [r for r in rows if r["target"] is None]
    out = []
    for t in targets:
        mine = [r for r in rows if r["target"] == t]
        for row in aggregate(oracles + mine, cells):
            if row["policy"] == NAME:
                out.append({"target": t, **row})
    return sorted(out, key=lambda r: ([c.name for c in cells].index(r["cell"]), r["target"]))


def _targets(spec: str) -> tuple[float, ...]:
    try:
        got = tuple(float(x) for x in spec.split(",") if x.strip())
    except ValueError:
        got = ()
    if not got or any(not 0 <= t <= 0.2 for t in got):
        raise ValueError(f"--targets must be abandon rates from 0 to 0.2, e.g. 0.03,0.04 (got {spec!r})")
    return got


def main(args: Any) -> int:
    try:
        cells = cells_for(args.cells)
        seeds = parse_seeds(args.seeds)
        targets = _targets(args.targets)
    except ValueError as exc:
        print(f"hotline bench frontier: {exc}")
        return 2
    workers = max(1, min(args.workers, os.cpu_count() or 1))
    print(f"frontier: {len(cells)} cell(s) x {len(seeds)} seed(s) x {len(targets)} target(s) + oracle, "
          f"{workers} worker(s)")  # fmt: skip
    t0 = time.monotonic()
    table = frontier(cells, seeds, targets, workers, print)
    report(table, f"{'target':>8}", lambda r: f"{r['target']:>8.3f}")
    finish(args.json, len(cells) * len(seeds), t0, {"seeds": seeds, "targets": list(targets), "table": table})
    return 0


def report(table: list[dict[str, Any]], title: str, label: Callable[[dict[str, Any]], str]) -> None:
    """PaceBench's figures of the pacer per row, each row named by its cell and ``label`` (under ``title``)."""
    print(f"{'cell':<18}{title}{'R':>8}{'US truth':>10}{'spent':>7}{'idle gap':>10}{'ok':>5}")
    for r in table:
        print(f"{r['cell']:<18}{label(r)}{r['R_raw']:>8.3f}{r['abandon_us_truth']:>10.4f}"
              f"{r['budget_spent']:>7.0%}{r['idle_gap_mean']:>9.1f}s{'yes' if r['compliant'] else 'NO':>5}")


def finish(path: str | None, worlds: int, t0: float, figures: dict[str, Any]) -> None:
    """Say how long the worlds took and, given a path, write the figures there with it."""
    elapsed = time.monotonic() - t0
    print(f"{worlds} world(s) in {elapsed:.0f} s")
    if path:
        Path(path).write_text(json.dumps({**figures, "seconds": round(elapsed, 1)}, indent=1))
        print(f"figures written to {path}")
