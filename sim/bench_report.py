"""`hotline bench report`: every report (agents, services, hotline, campaigns) over a month and over a year of a
synthetic site (sim/synthetic_year.py, about 1.3 million calls by default), read from the rollups and counted
straight from the ledger and the call records, side by side in the same run, on a private SQLite file and a private
PostgreSQL 15 (sim/postgres.py; or an empty database given with --pg-url).

For each store: the year loaded in bulk, the rollups rebuilt (timed), then each report and range timed several
times each way (p50, p95), the two answers compared (they must be the same report). Goal: every report's p95 from
the rollups under 200 ms for a month and under 1 s for a year, on both stores."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sim import synthetic_year as year

REPORTS = ("agents", "services", "hotline", "campaigns")
GOALS_MS = {"month": 200.0, "year": 1000.0}


def ranges(days: int) -> dict[str, tuple[dt.date, dt.date]]:
    """The year: every day loaded; the month: the calendar month of the middle day, within them."""
    first, last = year.FIRST, year.FIRST + dt.timedelta(days=days - 1)
    mid = year.FIRST + dt.timedelta(days=days // 2)
    m0 = mid.replace(day=1)
    m1 = (m0 + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return {"month": (max(m0, first), min(m1, last)), "year": (first, last)}


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def pct(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(samples)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def figures(ms: list[float]) -> dict[str, Any]:
    return {"reps": len(ms), "p50_ms": round(pct(ms, 50), 1), "p95_ms": round(pct(ms, 95), 1)}


def _unit(x: float) -> float:
    """One unit of the last decimal a report shows of ``x`` (it rounds its figures: 1, 2 or 4 decimals)."""
    text = repr(x)
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 6
    return 10.0 ** -min(decimals, 6)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two reports differ (``same`` says whether they do), as paths with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only one has it" for k in sorted(set(a) ^ set(b), key=str)]
        return out + [d for k in a if k in b for d in differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if same(a, b) else [f"{path}: {a!r} from the rollups, {b!r} straight"]


def same(a: Any, b: Any) -> bool:
    """Two reports alike: the same rows, keys and texts; numbers equal to the last decimal shown, give or take one
    unit of it (the rollups add the same seconds in another order: a sum a hair's breadth from a rounding bound
    may round to the next tenth)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, int | float) and isinstance(b, int | float)
                and abs(a - b) <= max(_unit(float(a)), _unit(float(b))) + 1e-9)
    return bool(a == b)


def site_file(work: Path, name: str, url: str) -> Path:
    from sim import world

    secret = work / "ami.secret"
    secret.write_text("unused\n")
    path = work / f"site-{name}.toml"
    path.write_text(world.site_text(ami_port=5038, agi_port=4573, secret_file=secret, store_url=url,
                                    recordings=work, queue_log=work / "queue_log", outbound_agents=48, record=False))
    return path


async def _timed(fn: Any, reps: int) -> tuple[list[float], Any]:
    out, ms = None, []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = await fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return ms, out


async def bench_store(name: str, url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from engine.config import load_site
    from engine.store.store import Store, migrate
    from reports.plugin import query_of, rollups_of
    from reports.services import DEFAULT_INTERVAL, Query, Reports
    from reports.store import ReportStore

    await asyncio.to_thread(migrate, url)
    t0 = time.perf_counter()
    if name == "sqlite":
        loaded = await asyncio.to_thread(year.load_sqlite, url.split("///", 1)[1], args.calls, args.seed, say,
                                         args.days)
    else:
        loaded = await year.load_postgres(url, args.calls, args.seed, say, args.days)
    load_s = time.perf_counter() - t0
    say(f"{name}: {loaded['calls']:,} calls loaded ({loaded['facts']:,} facts, {loaded['records']:,} records) in "
        f"{load_s:.0f} s")  # fmt: skip
    site = load_site(site_file(work, name, url))
    store = Store(url)
    out: dict[str, Any] = {"store": name, "loaded": loaded, "load_s": round(load_s, 1), "reports": []}
    try:
        t0 = time.perf_counter()
        rows = await rollups_of(site, store.engine).rebuild(progress=lambda line: say(f"{name}: {line}"))
        out["rebuild_s"] = round(time.perf_counter() - t0, 1)
        out["rollup_rows"] = rows
        say(f"{name}: rollups rebuilt in {out['rebuild_s']} s ({rows:,} quarter-hour rows)")
        query = query_of(site, store.engine)
        straight = Reports(site, ReportStore(store.engine))
        for span, (first, last) in ranges(args.days).items():
            for report in REPORTS:
                interval = DEFAULT_INTERVAL[report]
                q = Query(report, first, last, interval)
                rolled = Reports(site, ReportStore(store.engine), source=query.source(report, interval))
                r_ms, r_out = await _timed(lambda r=rolled, q=q: r.report(q), args.reps)
                reps = args.ledger_reps if span == "month" else args.year_ledger_reps
                l_ms, l_out = await _timed(lambda q=q: straight.report(q), reps)
                row = {"report": report, "range": span, "interval": interval, "rollups": figures(r_ms),
                       "ledger": figures(l_ms), "goal_ms": GOALS_MS[span], "same": same(r_out, l_out)}  # fmt: skip
                row["differences"] = differences(r_out, l_out)[:20]
                row["ratio"] = round(row["ledger"]["p50_ms"] / max(row["rollups"]["p50_ms"], 0.001), 1)
                row["goal_met"] = row["rollups"]["p95_ms"] < GOALS_MS[span]
                out["reports"].append(row)
                say(f"{name}: {report} {span}: rollups p95 {row['rollups']['p95_ms']} ms, ledger p50 "
                    f"{row['ledger']['p50_ms']} ms, same answer: {row['same']}")  # fmt: skip
    finally:
        await store.close()
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'store':<11}{'report':<11}{'range':<7}{'rollups p50':>12}{'p95':>9}{'ledger p50':>12}{'p95':>10}"
             f"{'ratio':>8}  goal    same"]  # fmt: skip
    for res in results:
        for r in res["reports"]:
            ro, le = r["rollups"], r["ledger"]
            lines.append(f"{res['store']:<11}{r['report']:<11}{r['range']:<7}{ro['p50_ms']:>10.1f}ms{ro['p95_ms']:>7.1f}ms"
                         f"{le['p50_ms']:>10.1f}ms{le['p95_ms']:>8.1f}ms{r['ratio']:>7.1f}x  "
                         f"{'met ' if r['goal_met'] else 'MISS'} {'<' if r['range'] == 'month' else '<'}"
                         f"{r['goal_ms'] / 1000:g}s  {'yes' if r['same'] else 'NO'}")  # fmt: skip
    for res in results:
        lines.append(f"{res['store']}: {res['loaded']['calls']:,} calls, {res['loaded']['facts']:,} facts, "
                     f"{res['loaded']['records']:,} records loaded in {res['load_s']} s; rollups rebuilt in "
                     f"{res['rebuild_s']} s ({res['rollup_rows']:,} rows)")  # fmt: skip
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from sim.postgres import Postgres

    # a stop by signal cancels the run, so the private PostgreSQL below is stopped and its folder removed, as at
    # its end (a killed run used to leave the server running)
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGHUP):
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    results = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-report-") as tmp:
        work = Path(args.workdir) if args.workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = work / "bench-report.db"
        for side in ("", "-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
        if not args.no_sqlite:
            results.append(await bench_store("sqlite", f"sqlite+aiosqlite:///{db}", args, work))
        if not args.no_postgres:
            pg = None
            if args.pg_url:
                url = args.pg_url
            else:
                pg = Postgres()
                pg.start("shared_buffers=256MB", "work_mem=64MB")
                url = pg.new_database("bench")
            try:
                results.append(await bench_store("postgresql", url, args, work))
            finally:
                if pg is not None:
                    pg.stop()
    rows = [r for res in results for r in res["reports"]]
    return {"calls": args.calls, "days": args.days, "seed": args.seed, "stores": results,
            "ranges": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in ranges(args.days).items()},
            "goals_met": all(r["goal_met"] for r in rows), "all_same": all(r["same"] for r in rows)}  # fmt: skip


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        out = asyncio.run(run(args))
    except asyncio.CancelledError:
        print("hotline bench report: stopped by a signal (its private PostgreSQL, if started, is stopped)",
              file=sys.stderr)  # fmt: skip
        return 143
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    print(table(out["stores"]))
    print(f"every report's p95 from the rollups within its goal: {'yes' if out['goals_met'] else 'NO'}; the same "
          f"answers both ways: {'yes' if out['all_same'] else 'NO'}; {out['wall_s']} s in all")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0 if out["all_same"] else 1
