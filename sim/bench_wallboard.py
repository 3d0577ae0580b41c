"""`hotline bench wallboard`: N wallboard clients on the demo engine through a demo hour, against a baseline.

The demo (``hotline demo --no-live --http``) runs as a subprocess twice in one run, with the same seed: first
with no wallboard client (the baseline), then with N. In the second, the demo's manager signs in once through
the real form (the CSRF nonce cookie, then ``POST /signin``) and N concurrent server-sent-event streams are
opened on ``/wallboard/events`` with that session, each counting what it reads (snapshot, change, tick), its
bytes, cuts and errors, and the delay from each change's ``wall`` (when the server read it off the bus) to the
client reading it. The baseline signs in too, so the runs differ by the streams alone.

Every second, in both runs, the demo process's RSS (``/proc/PID/status``) and CPU time are read and
``/metrics`` is scraped: ``hotline_event_lag_seconds`` (AMI event read off the socket to the call model having
applied it) is a cumulative histogram, so its quantiles are known to a bucket only ("p99 <= 10 ms": the p99 lies
in the bucket up to 10 ms; the interpolated figure is Prometheus' ``histogram_quantile``, linear in the bucket).
The run's figures come from the scrape made when the demo prints that its day is over (counted since start).

Memory is judged on the second half of the demo's day (from the engine being up to the day's end). The demo's
RSS moves in two ways, with or without clients: a slow creep (allocator arenas of 1 MiB and less, as the day's
state grows) and a few steps of tens of MB within one second (single large allocations; the demo makes them with
no client and no outbound agent too, at moments that vary from run to run). A leak per event or per stream would
be creep (one of 2 MB a second or more would show as a step every second), so the creep is what is compared:
the per-second RSS changes under 2 MB summed over the second half (its rate is the slope, MB per minute); the
steps are counted and shown apart. The run with clients is "flat" when its creep exceeds the baseline's
(counted from 0 if the baseline's shrank) by no more than 1 MB.

The clients run in this process and compete with the demo for the machine's cores, as a wall of browsers on the
same host would; the whole machine's busy share over each run is reported (others' jobs show). Every loop is
bounded (the demo's own drain limit, a deadline per run, reconnections).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.sse_client import StreamTally, request, watch
from sim.usage import machine_ticks, proc

LAG = "hotline_event_lag_seconds"
GOAL_P99 = 0.050  # s: the engine's event lag p99 with the clients
NOISE_FLOOR_MB = 1.0  # creep beyond the baseline's that still counts as flat
STEP_MB = 2.0  # an RSS change this large between two samples (a second) is one large allocation, not creep
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent  # the demo subprocess runs this same code


# ---- figures (pure) -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Histogram:
    buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count), +Inf last
    count: float
    sum: float


def since(later: Histogram, earlier: Histogram) -> Histogram:
    """What was observed between two scrapes of the same histogram (its counters only grow)."""
    counts = dict(earlier.buckets)
    buckets = tuple((le, n - counts.get(le, 0.0)) for le, n in later.buckets)
    return Histogram(buckets, later.count - earlier.count, later.sum - earlier.sum)


def parse_histogram(text: str, name: str = LAG) -> Histogram | None:
    """A histogram from Prometheus' text format, or None when the scrape has none."""
    buckets, count, total = [], None, 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            m = re.search(r'le="([^"]+)"\}\s+(\S+)', line)
            if m:
                buckets.append((float(m[1]), float(m[2])))  # float("+Inf") is inf
        elif line.startswith(f"{name}_count "):
            count = float(line.split()[1])
        elif line.startswith(f"{name}_sum "):
            total = float(line.split()[1])
    if not buckets or count is None:
        return None
    return Histogram(tuple(sorted(buckets)), count, total)


@dataclass(frozen=True)
class Quantile:
    low: float  # the quantile lies in (low, high]: the bucket holding it
    high: float  # inf: above the last finite bound
    interpolated: float  # Prometheus' histogram_quantile: linear within the bucket (the last finite bound above)


def histogram_quantile(buckets: Sequence[tuple[float, float]], q: float) -> Quantile | None:
    """The bucket holding the ``q`` quantile of cumulative ``buckets`` (None when nothing was observed)."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    low, below = 0.0, 0.0
    for high, n in ordered:
        if n >= rank and n > below:
            if math.isinf(high):
                return Quantile(low, high, low)
            return Quantile(low, high, low + (high - low) * (rank - below) / (n - below))
        low, below = high, n
    return None  # unreachable with a +Inf bucket holding every observation


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of raw values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def memory_flat(base_growth: float, run_growth: float, noise: float = NOISE_FLOOR_MB) -> bool:
    """Whether the run's growth (MB over the same span) stays within ``noise`` of the baseline's, a baseline
    that shrank counting as 0 (a shrinking baseline does not excuse growth)."""
    return run_growth - max(base_growth, 0.0) <= noise


def rss_figures(samples: Sequence[tuple[float, float]], step: float = STEP_MB) -> dict[str, Any]:
    """From (seconds since the engine was up, MB) over the demo's day: start, middle, end, peak, growth over the
    day; over its second half the growth, the creep (changes from one sample to the next under ``step`` MB,
    summed) and its rate (MB per minute), and the steps (larger changes: how many, their sum)."""
    if not samples:
        return {}
    mid_t = samples[0][0] + (samples[-1][0] - samples[0][0]) / 2
    second = [(t, mb) for t, mb in samples if t >= mid_t]
    changes = [b[1] - a[1] for a, b in zip(second, second[1:], strict=False)]
    creep = sum(d for d in changes if abs(d) < step)
    steps = [d for d in changes if abs(d) >= step]
    half = second[-1][0] - second[0][0]
    middle = min(samples, key=lambda s: abs(s[0] - mid_t))[1]
    return {"start": round(samples[0][1], 2), "middle": round(middle, 2), "end": round(samples[-1][1], 2),
            "peak": round(max(mb for _, mb in samples), 2), "day_growth": round(samples[-1][1] - samples[0][1], 2),
            "second_half_s": round(half, 1), "second_half_growth": round(second[-1][1] - second[0][1], 2),
            "second_half_creep": round(creep, 3),
            "creep_mb_per_min": round(creep / half * 60, 3) if half > 0 else 0.0,
            "steps": len(steps), "steps_mb": round(sum(steps), 2)}  # fmt: skip


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


# ---- one demo run (the shell) -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _machine() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat): others' load shows."""
    busy, _steal, total = machine_ticks()
    return float(busy), float(total)


async def sign_in(port: int, user: str, password: str) -> str:
    """Through the real form: its CSRF nonce (hidden field) and nonce cookie, then POST; the session cookie."""
    form = await request(HOST, port, "GET", "/signin")
    m = re.search(r'name="csrf" value="([^"]+)"', form.body.decode())
    nonce = form.cookies().get("hotline_signin")
    if form.status != 200 or not m or not nonce:
        raise RuntimeError(f"GET /signin: HTTP {form.status}, no CSRF nonce")
    reply = await request(HOST, port, "POST", "/signin", {"Cookie": f"hotline_signin={nonce}"},
                          form={"name": user, "password": password, "csrf": m[1], "next": "/wallboard"})  # fmt: skip
    session = reply.cookies().get("hotline_session")
    if reply.status != 303 or not session:
        raise RuntimeError(f"POST /signin as {user}: HTTP {reply.status}, no session")
    return f"hotline_session={session}"


@dataclass
class Marks:
    up: asyncio.Event  # the console line: the engine serves HTTP, the users exist
    over: asyncio.Event  # "the day is over": the figures are final
    progress: list[str]


async def _read_stdout(stream: asyncio.StreamReader, marks: Marks, label: str) -> None:
    while raw := await stream.readline():  # until the pipe closes; the pipe is always drained
        line = raw.decode(errors="replace").rstrip()
        if line.startswith("console at "):
            marks.up.set()
        elif line.startswith("the day is over"):
            marks.over.set()
        elif line.startswith("["):  # progress lines; the credentials the demo prints are not repeated
            marks.progress.append(line)
            print(f"  {label}: {line}", flush=True)


async def _sample(pid: int, port: int, t0: float, rows: list[list[Any]], last: list[Any]) -> None:
    """Every second until cancelled: [s since up, RSS MB, anonymous MB, CPU s, the engine's lag count (-1: the
    scrape failed), its cumulative bucket counts]; ``last``: the newest and the first histogram scraped."""
    while True:
        got = proc(pid)
        if got is None:
            return
        n, cumulative = -1.0, []
        try:
            reply = await request(HOST, port, "GET", "/metrics", timeout=5)
            hist = parse_histogram(reply.body.decode())
            if hist is not None:
                last[0], n, cumulative = hist, hist.count, [int(c) for _, c in hist.buckets]
                last[1] = last[1] or hist
        except (OSError, TimeoutError, ValueError):
            pass
        rows.append([round(time.monotonic() - t0, 2), *(round(x, 2) for x in got), n, cumulative])
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - t0) % 1.0))


@dataclass
class Run:
    """One demo run as it goes: what the sampler, the streams and the demo's output gave."""

    clients: int
    workdir: Path
    rows: list[list[Any]] = field(default_factory=list)  # the sampler's, one a second
    last: list[Any] = field(default_factory=lambda: [None, None])  # the newest and the first histogram scraped
    final: Histogram | None = None
    day_s: float = 0.0  # from the engine being up to the day's end
    code: int | None = None
    problem: str = ""
    machine: tuple[float, float] = (0.0, 0.0)  # busy and total ticks of the whole machine over the run
    bench_cpu_s: float = 0.0  # this process's CPU over the run: the clients' share


async def run_demo(clients: int, hours: float, speed: float, seed: int, workdir: Path, linger: float) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    cmd = [sys.executable, "-m", "engine.cli", "demo", "--hours", f"{hours:g}", "--speed", f"{speed:g}",
           "--seed", str(seed), "--no-live", "--http", f"{HOST}:{port}", "--workdir", str(workdir),
           "--linger", f"{linger:g}", "--json", str(workdir / "demo-report.json")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    deadline = (hours + 2) * 3600 / speed + 120  # the demo's own drain limit is 2 simulated hours past the end
    label = f"{clients} clients"
    run = Run(clients, workdir)
    tallies = [StreamTally() for _ in range(clients)]
    started, machine0, cpu0 = time.monotonic(), _machine(), time.process_time()
    with open(workdir / "demo-stderr.log", "wb") as err:
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=err, env=env)
    assert proc.stdout is not None
    marks = Marks(asyncio.Event(), asyncio.Event(), [])
    reader = asyncio.create_task(_read_stdout(proc.stdout, marks, label))
    tasks: list[asyncio.Task[None]] = []
    try:
        await asyncio.wait_for(marks.up.wait(), 120)
        t0 = time.monotonic()
        tasks.append(asyncio.create_task(_sample(proc.pid, port, t0, run.rows, run.last)))
        creds = json.loads((workdir / "demo-credentials.json").read_text())["manager"]
        cookie = await sign_in(port, creds["user"], creds["password"])
        tasks += [asyncio.create_task(watch(HOST, port, "/wallboard/events", cookie, t)) for t in tallies]
        print(f"  {label}: engine up on {HOST}:{port}, signed in as {creds['user']}, {clients} stream(s) open",
              flush=True)  # fmt: skip
        await asyncio.wait_for(marks.over.wait(), max(1.0, deadline - (time.monotonic() - started)))
        run.day_s = time.monotonic() - t0
        try:  # the figures counted since the start, as the day ends
            run.final = parse_histogram((await request(HOST, port, "GET", "/metrics", timeout=10)).body.decode())
        except (OSError, TimeoutError, ValueError):
            run.final = run.last[0]
    except (TimeoutError, RuntimeError, OSError, KeyError, ValueError) as exc:
        run.problem = f"{type(exc).__name__}: {exc}"
        run.day_s, run.final = time.monotonic() - started, run.last[0]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        m1 = _machine()
        run.machine = (m1[0] - machine0[0], m1[1] - machine0[1])
        run.bench_cpu_s = time.process_time() - cpu0
        try:
            await asyncio.wait_for(proc.wait(), linger + 60)
        except TimeoutError:
            proc.terminate()
            run.problem = run.problem or "the demo did not exit; terminated"
            await proc.wait()
        await asyncio.gather(reader, return_exceptions=True)
    run.code = proc.returncode
    if run.code != 0 and not run.problem:
        run.problem = f"the demo exited with {run.code} (see {workdir / 'demo-stderr.log'})"
    return {**_run_figures(run), "streams": stream_figures(tallies), "progress": marks.progress}


def lag_figures(h: Histogram | None) -> dict[str, Any]:
    if h is None:
        return {"count": None}
    lag: dict[str, Any] = {"count": int(h.count), "sum_s": round(h.sum, 3),
                           "mean_ms": round(h.sum / h.count * 1000, 3) if h.count else None,
                           "buckets": [["+Inf" if math.isinf(le) else le, int(n)] for le, n in h.buckets]}  # fmt: skip
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        qq = histogram_quantile(h.buckets, q)
        lag[name] = None if qq is None else {
            "bucket_ms": [round(qq.low * 1000, 3), None if math.isinf(qq.high) else round(qq.high * 1000, 3)],
            "interpolated_ms": round(qq.interpolated * 1000, 3)}  # fmt: skip
    return lag


def _run_figures(run: Run) -> dict[str, Any]:
    lag = lag_figures(run.final)
    if run.final is not None and run.last[1] is not None:
        lag["after_up"] = lag_figures(since(run.final, run.last[1]))  # the engine's start-up left out
    day = [r for r in run.rows if r[0] <= run.day_s]
    demo = {}
    if (run.workdir / "demo-report.json").is_file():
        rep = json.loads((run.workdir / "demo-report.json").read_text())
        i, o = rep["inbound"], rep["outbound"]
        demo = {"offered": i["offered"], "answered": i["answered"], "abandoned": i["abandoned"],
                "dials": o["dials"], "conversations": o["conversations"]}  # fmt: skip
    cpu = [r[3] for r in day]
    return {"clients": run.clients, "exit_code": run.code, "problem": run.problem, "day_wall_s": round(run.day_s, 1),
            "workdir": str(run.workdir), "demo": demo, "event_lag": lag,
            "rss_mb": rss_figures([(r[0], r[1]) for r in day]),
            "rss_anon_mb": rss_figures([(r[0], r[2]) for r in day]),
            "cpu_s": round(cpu[-1] - cpu[0], 2) if len(cpu) > 1 else None,
            "bench_cpu_s": round(run.bench_cpu_s, 2),
            "machine_busy": round(run.machine[0] / run.machine[1], 3) if run.machine[1] else None,
            "scrapes": len(run.rows), "scrape_failures": sum(1 for r in run.rows if r[4] < 0),
            "samples": run.rows}  # fmt: skip


def stream_figures(tallies: list[StreamTally]) -> dict[str, Any]:
    delays = [d for t in tallies for d in t.delays]
    events: Counter[str] = Counter()
    for t in tallies:
        events.update(t.events)
    totals = [sum(t.events.values()) for t in tallies]
    return {
        "clients": len(tallies), "events": dict(events), "bytes": sum(t.bytes for t in tallies),
        "events_per_client": {"min": min(totals), "median": statistics.median(totals), "max": max(totals)}
        if totals else None,
        "reconnects": sum(max(0, t.connects - 1) for t in tallies), "cuts": sum(t.cuts for t in tallies),
        "errors": sum(len(t.errors) for t in tallies), "resnapshots": sum(t.resnapshots for t in tallies),
        "change_delay_ms": {"n": len(delays), **{k: None if (v := percentile(delays, q)) is None else
                                                 round(v * 1000, 3) for k, q in (("p50", 0.5), ("p99", 0.99),
                                                                                 ("max", 1.0))}},
        "per_client": [{"events": dict(t.events), "bytes": t.bytes, "connects": t.connects, "cuts": t.cuts,
                        "errors": t.errors, "resnapshots": t.resnapshots} for t in tallies],
    }  # fmt: skip


# ---- the benchmark ------------------------------------------------------------------------------------------
def _p99_ms(run: dict[str, Any], key: str = "interpolated_ms") -> float | None:
    p99 = run["event_lag"].get("p99")
    return None if p99 is None else p99[key]


def verdict(base: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    high = (run["event_lag"].get("p99") or {}).get("bucket_ms", [None, None])[1]
    lag_ok = high is not None and high <= GOAL_P99 * 1000  # the whole bucket holding the p99 is under the goal
    b, r = base["rss_mb"], run["rss_mb"]
    extra = r.get("second_half_creep", 0) - max(b.get("second_half_creep", 0), 0)
    flat = bool(b and r) and memory_flat(b["second_half_creep"], r["second_half_creep"])
    runs_ok = not base["problem"] and not run["problem"]
    return {"lag_p99_bucket_high_ms": high, "lag_goal_ms": GOAL_P99 * 1000, "lag_ok": lag_ok,
            "memory_allowed_mb": NOISE_FLOOR_MB, "memory_extra_creep_mb": round(extra, 3), "memory_flat": flat,
            "runs_ok": runs_ok, "met": lag_ok and flat and runs_ok}  # fmt: skip


async def bench(clients: int = 50, hours: float = 1.0, speed: float = 60.0, seed: int = 1, linger: float = 2.0,
                workdir: Path | None = None) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hotline-bench-wallboard-") as tmp:
        root = workdir or Path(tmp)
        runs = {}
        for name, n in (("baseline", 0), ("clients", clients)):
            print(f"{name}: {hours:g} simulated hour(s) at {speed:g}x, seed {seed}, {n} wallboard client(s)",
                  flush=True)  # fmt: skip
            runs[name] = await run_demo(n, hours, speed, seed, root / f"{name}-{n}", linger)
    base, run = runs["baseline"], runs["clients"]

    def both(*path: str) -> float | None:
        a, b = run, base
        for k in path:
            a, b = (a or {}).get(k), (b or {}).get(k)
        return ratio(a, b)

    return {
        "config": {"clients": clients, "hours": hours, "speed": speed, "seed": seed, "linger": linger},
        "baseline": base, "clients": run,
        "ratios": {"lag_p99": both("event_lag", "p99", "interpolated_ms"),
                   "lag_p99_after_up": both("event_lag", "after_up", "p99", "interpolated_ms"),
                   "lag_p50": both("event_lag", "p50", "interpolated_ms"), "lag_mean": both("event_lag", "mean_ms"),
                   "rss_creep_second_half": both("rss_mb", "second_half_creep"),
                   "rss_growth_second_half": both("rss_mb", "second_half_growth"),
                   "rss_growth_day": both("rss_mb", "day_growth"), "rss_end": both("rss_mb", "end"),
                   "cpu": both("cpu_s")},
        "verdict": verdict(base, run),
    }  # fmt: skip


def _cell(v: Any) -> str:
    return "-" if v is None else f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else f"{v:,}"


def _quantile(lag: dict[str, Any], q: str) -> str:
    x = lag.get(q)
    return "-" if x is None else f"<= {_cell(x['bucket_ms'][1])} ({_cell(x['interpolated_ms'])})"


def print_wallboard(report: dict[str, Any]) -> None:
    base, run, rt, v = report["baseline"], report["clients"], report["ratios"], report["verdict"]
    n = report["config"]["clients"]
    lag = [r["event_lag"] for r in (base, run)]
    after = [x.get("after_up", {}) for x in lag]
    mem = [r["rss_mb"] for r in (base, run)]
    rows = [
        ("AMI events counted (engine)", *(_cell(x["count"]) for x in lag), ""),
        ("event lag p50 ms: bucket (interp.)", *(_quantile(x, "p50") for x in lag), _cell(rt["lag_p50"])),
        ("event lag p99 ms: bucket (interp.)", *(_quantile(x, "p99") for x in lag), _cell(rt["lag_p99"])),
        ("  p99 once up (from the 1st scrape)", *(_quantile(x, "p99") for x in after), _cell(rt["lag_p99_after_up"])),
        ("event lag mean ms", *(_cell(x.get("mean_ms")) for x in lag), _cell(rt["lag_mean"])),
        ("RSS start / middle / end MB", *(" / ".join(_cell(m.get(k)) for k in ("start", "middle", "end")) for m in mem),
         _cell(rt["rss_end"])),
        ("RSS peak MB; growth over the day", *(f"{_cell(m.get('peak'))}; {_cell(m.get('day_growth'))}" for m in mem),
         _cell(rt["rss_growth_day"])),
        ("RSS 2nd half: growth MB", *(_cell(m.get("second_half_growth")) for m in mem),
         _cell(rt["rss_growth_second_half"])),
        ("  creep MB (MB/min)", *(f"{_cell(m.get('second_half_creep'))} ({_cell(m.get('creep_mb_per_min'))})"
                                  for m in mem), _cell(rt["rss_creep_second_half"])),
        ("  steps >= 2 MB in a second: n, MB", *(f"{m.get('steps')}, {_cell(m.get('steps_mb'))}" for m in mem), ""),
        ("CPU s: demo; bench (clients)", *(f"{_cell(r['cpu_s'])}; {_cell(r['bench_cpu_s'])}" for r in (base, run)),
         _cell(rt["cpu"])),
        ("machine busy (all users)", *(_cell(r["machine_busy"]) for r in (base, run)), ""),
        ("day wall s; scrapes (failed)", *(f"{r['day_wall_s']}; {r['scrapes']} ({r['scrape_failures']})"
                                          for r in (base, run)), ""),
        ("offered / answered / dials", *(" / ".join(_cell(r["demo"].get(k)) for k in ("offered", "answered", "dials"))
                                         for r in (base, run)), ""),
    ]  # fmt: skip
    print(f"{'':<36} {'baseline':>24} {f'{n} clients':>24} {'ratio':>7}")
    for label, a, b, c in rows:
        print(f"{label:<36} {a:>24} {b:>24} {c:>7}")
    s = run["streams"]
    if s["events_per_client"]:
        e, d = s["events_per_client"], s["change_delay_ms"]
        print(f"streams: {n} clients, events {s['events']} ({_cell(s['bytes'])} bytes); per client min "
              f"{e['min']:,}, median {_cell(e['median'])}, max {e['max']:,}; reconnects {s['reconnects']}, cuts "
              f"{s['cuts']}, errors {s['errors']}, resnapshots {s['resnapshots']}")  # fmt: skip
        print(f"change delay, bus read to client read (ms, {d['n']:,} changes): p50 {_cell(d['p50'])}, p99 "
              f"{_cell(d['p99'])}, max {_cell(d['max'])}")  # fmt: skip
    for r in (base, run):
        if r["problem"]:
            print(f"problem ({r['clients']} clients): {r['problem']}")
    print(f"verdict: event lag p99 <= {_cell(v['lag_p99_bucket_high_ms'])} ms (bucket) with {n} clients, goal < "
          f"{_cell(v['lag_goal_ms'])} ms: {'met' if v['lag_ok'] else 'NOT met'}; memory "
          f"{'flat' if v['memory_flat'] else 'NOT flat'} (2nd-half creep beyond the baseline's "
          f"{_cell(v['memory_extra_creep_mb'])} MB, allowed {_cell(v['memory_allowed_mb'])} MB)")  # fmt: skip


def main(args: Any) -> int:
    report = asyncio.run(bench(args.clients, args.hours, args.speed, args.seed, args.linger,
                               Path(args.workdir) if args.workdir else None))  # fmt: skip
    print_wallboard(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"figures written to {args.json}")
    return 0 if report["verdict"]["runs_ok"] else 1
