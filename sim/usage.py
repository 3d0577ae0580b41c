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
        from engine.lab import Lab, _pid, default_lab_dir

        return _pid(Lab(default_lab_dir()))
    found = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (d / "comm").read_text().strip() == "asterisk":
                found.append(int(d.name))
        except OSError:
            continue
    return found[0] if len(found) == 1 else None


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

    def start(self) -> None:
        self._t0 = time.monotonic()
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
        names = list(self._tracks)
        if len(names) >= 2:
            a, b = (self._tracks[n].cpu1 - self._tracks[n].cpu0 for n in names[:2])
            out["cpu_ratio"] = round(a / b, 3) if b > 0 else None
        return out
