"""CPU and memory of processes over a run, read from ``/proc``: the engine's and Asterisk's side by side.

Absolute CPU figures differ between machines; the ratio of the engine's to Asterisk's under the same calls is
what carries over, so both are sampled over the same window.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path


def proc(pid: int) -> tuple[float, float, float] | None:
    """(RSS MB, its anonymous part MB, CPU seconds) of a live process, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rss, anon = (re.search(rf"^{k}:\s+(\d+) kB", status, re.M) for k in ("VmRSS", "RssAnon"))
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return (int(rss[1]) / 1024 if rss else 0.0), (int(anon[1]) / 1024 if anon else 0.0), cpu


def asterisk_pid(lab: bool) -> int | None:
    """The lab's Asterisk (its pid file), else the one process named ``asterisk`` on this machine."""
    if lab:
        from engine.lab import Lab, default_lab_dir, pid

        return pid(Lab(default_lab_dir()))
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (d / "comm").read_text().strip() == "asterisk":
                found.append(int(d.name))
        except OSError:
            continue
    return found[0] if len(found) == 1 else None


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) clock ticks of the whole machine so far (/proc/stat's first line). Steal is time the
    hypervisor gave the machine's CPUs to others: on a shared host it shows why a run lost its timing."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)  # idle + iowait
    steal = f[7] if len(f) > 7 else 0
    total = sum(f[:8])  # guest time is already inside user
    return total - idle - steal, steal, total


def named_cpu(comm: str) -> float:
    """CPU seconds of every live process called ``comm`` (the bench's SIPp phones, say)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != comm:
                continue
        except OSError:
            continue
        got = proc(int(d.name))
        total += got[2] if got is not None else 0.0
    return total


@dataclass
class _Track:
    pid: int
    cpu0: float
    cpu1: float
    rss_peak: float = 0.0
    gone: bool = False


@dataclass
class Usage:
    """Samples each named process every ``every`` seconds between ``start`` and ``stop``."""

    pids: dict[str, int]
    every: float = 1.0
    _tracks: dict[str, _Track] = field(default_factory=dict)
    _t0: float = 0.0
    _t1: float = 0.0
    _task: asyncio.Task[None] | None = None
    # the whole machine, a second at a time: (monotonic time, busy %, steal %) of all CPUs together
    machine: list[tuple[float, float, float]] = field(default_factory=list)
    _ticks: tuple[int, int, int] = (0, 0, 0)

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._ticks = machine_ticks()
        for name, pid in self.pids.items():
            got = proc(pid)
            if got is not None:
                self._tracks[name] = _Track(pid, got[2], got[2], got[0])
        self._task = asyncio.create_task(self._sample(), name="usage-sampler")

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self._read()

    def _read(self) -> None:
        ticks = machine_ticks()
        dt = ticks[2] - self._ticks[2]
        if dt > 0:
            self.machine.append((time.monotonic(), 100 * (ticks[0] - self._ticks[0]) / dt,
                                 100 * (ticks[1] - self._ticks[1]) / dt))  # fmt: skip
        self._ticks = ticks
        for t in self._tracks.values():
            got = None if t.gone else proc(t.pid)
            if got is None:
                t.gone = True
                continue
            t.cpu1 = got[2]
            t.rss_peak = max(t.rss_peak, got[0])

    async def stop(self) -> dict[str, object]:
        """Per process: CPU as a share of one core over the window (%), CPU seconds, peak RSS (MB); and the ratio
        of the first named process's CPU to the second's."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._read()
        self._t1 = time.monotonic()
        wall = max(self._t1 - self._t0, 1e-9)
        out: dict[str, object] = {"seconds": round(wall, 1)}
        for name, t in self._tracks.items():
            out[name] = {"pid": t.pid, "cpu_s": round(t.cpu1 - t.cpu0, 2),
                         "cpu_pct_of_core": round(100 * (t.cpu1 - t.cpu0) / wall, 2),
                         "rss_peak_mb": round(t.rss_peak, 1), "exited": t.gone}  # fmt: skip
        if self.machine:
            busy = sorted(m[1] for m in self.machine)
            out["machine"] = {"cpus": os.cpu_count(), "busy_pct_mean": round(sum(busy) / len(busy), 1),
                              "busy_pct_p99": round(busy[int(0.99 * (len(busy) - 1))], 1),
                              "seconds_over_90pct_busy": sum(1 for b in busy if b > 90.0),
                              "steal_pct_mean": round(sum(m[2] for m in self.machine) / len(self.machine), 2),
                              "steal_pct_max": round(max(m[2] for m in self.machine), 1)}  # fmt: skip
        names = list(self._tracks)
        if len(names) >= 2:
            a, b = (self._tracks[n].cpu1 - self._tracks[n].cpu0 for n in names[:2])
            out["cpu_ratio"] = round(a / b, 3) if b > 0 else None
        return out
