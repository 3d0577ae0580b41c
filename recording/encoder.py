"""The recorder's merges in worker processes, at a lower CPU priority than Asterisk's.

Why processes: merging and encoding a call's legs is most of the engine's CPU on a full floor (at 48 seats
about nine tenths of it was libopus). In the engine's own process it competes with the event loop; at the same
priority as Asterisk it takes the CPU that Asterisk's media threads need on time, and a recording that falls
behind loses audio. Workers at nice 10, each in a session of its own niced as a group (Linux's autogroups), wait
when the machine is busy, and a long call's arrays live and die in them, not in the engine. After
``TASKS_PER_WORKER`` merges a worker's pool is retired (its merges under way finish) and a new one takes the next
merges, so a worker's memory goes back too. Not Python's ``max_tasks_per_child``: on
Python 3.11 a pool shut down while it replaced a worker never let its process exit (`hotline sim load` hung after
its report, one run in CI; a small script with 12 merges, 5 per worker, hung 15 times in 20).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from recording.analysis import analyse
from recording.encode import Stored, store
from recording.mixmonitor import merge_legs

log = logging.getLogger("hotline.recording")
NICE = 10  # below Asterisk and the engine: the merges can wait, a call's media cannot
TASKS_PER_WORKER = 50
PR_SET_PDEATHSIG = 1  # prctl(2)

Merged = tuple[Stored, dict[str, float]] | None


def merge_and_store(legs: list[Path], out: Path, fmt: str, kbit_s: float, complexity: int) -> Merged:
    """The two legs as one stereo file at ``out``, and the sides' talk figures; None when there is no audio."""
    frames, rate = merge_legs(legs[0], legs[1])
    if len(frames) == 0:
        return None
    # the sides' talk figures, read off the samples in hand: the daily sample weighs silences and talking over
    return store(frames, rate, out, fmt, kbit_s, complexity), analyse(frames, rate).summary()


def _threads() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: the calling thread only
        return [0]


def _own_autogroup() -> None:
    """This process in a session of its own, whose autogroup is at ``NICE``. Linux with autogroups shares the CPU
    first between sessions, then between the processes in each: a worker left in the engine's session weighed as
    much against Asterisk's session as Asterisk itself, however niced its threads were (seen on the lab at 48
    seats: both CPUs busy while the longest calls were merged, and every conversation up then lost 2-5 s of
    audio)."""
    try:
        os.setsid()
    except OSError:  # already a session leader
        pass
    try:
        Path("/proc/self/autogroup").write_text(f"{NICE}\n")
    except OSError:  # a kernel without autogroups: the threads' nice is all there is
        pass


def _worker_start(engine_pid: int) -> None:
    _own_autogroup()
    # Linux's nice is per thread: os.nice() lowered only this one, and the thread numpy's BLAS started at import
    # stayed at the engine's priority, beside Asterisk's media; threads started later inherit this one's
    target = min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICE)
    for tid in _threads():
        try:
            os.setpriority(os.PRIO_PROCESS, tid, target)
        except OSError:  # ended meanwhile
            pass
    # a worker must not outlive an engine that was killed: its queue never closes, so ask the kernel to end it
    # with its parent (Linux), and end at once if the parent is already gone
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != engine_pid:
        os._exit(0)


def _timed(legs: list[Path], out: Path, fmt: str, kbit_s: float, complexity: int) -> tuple[Merged, float]:
    t0 = time.process_time()
    got = merge_and_store(legs, out, fmt, kbit_s, complexity)
    return got, time.process_time() - t0


def _ready() -> tuple[int, int]:
    """The worker's pid and the priority of its least niced thread."""
    return os.getpid(), min(os.getpriority(os.PRIO_PROCESS, t) for t in _threads())


class EncoderPool:
    """``workers`` processes, started on first use (or by ``run``, the engine's named task, at start)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.cpu_s = 0.0  # CPU seconds the workers spent on merges: they are not in the engine's own figure
        self._pool: ProcessPoolExecutor | None = None
        self._given = 0  # tasks handed to the current pool
        self.retired = 0  # pools retired after their share of merges
        self.started: tuple[int, int] | None = None  # (pid, nice) of the worker that answered first

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is not None and self._given >= TASKS_PER_WORKER * self.workers:
            # retired, not cancelled: its merges under way finish, then its workers exit
            self._pool.shutdown(wait=False)
            self._pool = None
            self.retired += 1
        if self._pool is None:
            # spawned, not forked: a fork would copy the engine's threads' locks mid-use
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_start, initargs=(os.getpid(),))  # fmt: skip
            self._given = 0
        self._given += 1
        return self._pool

    async def merge(self, legs: list[Path], out: Path, fmt: str, kbit_s: float, complexity: int) -> Merged:
        loop = asyncio.get_running_loop()
        got, cpu = await loop.run_in_executor(self._executor(), _timed, legs, out, fmt, kbit_s, complexity)
        self.cpu_s += cpu
        return got

    async def run(self) -> None:
        """Named task: the workers started at once (a first merge does not wait for Python to start), and shut
        down with the engine. A merge cut short is done again at the next start: its legs stay until saved."""
        try:
            pid, nice = await asyncio.get_running_loop().run_in_executor(self._executor(), _ready)
            self.started = (pid, nice)
            log.info("recording encoders: %d worker process(es), the first pid %d at nice %d", self.workers, pid,
                     nice)  # fmt: skip
            await asyncio.Event().wait()
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
