"""One SIPp process of a load run, and what its end means: SIPp's own exit code, statistics and reason.

SIPp that cannot bind a port, or meets a fatal error, exits at once with a reason on stderr; a run that only
counted the calls it saw would then report success with nothing placed. So each SIPp writes its statistics
(``-trace_stat``, the final row read here), its errors (``-trace_err``) and its stderr to files of its own,
and its end is judged: exited before it was asked to (a phone must stay up), a fatal exit code, or failed
calls counted by SIPp, each a problem naming the process and SIPp's reason.
"""

from __future__ import annotations

import asyncio
import csv
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

from engine.privacy import mask_number
from sim.sipp import sipp_binary

# SIPp's exit codes (sipp(1)): 0 every call succeeded, 1 some failed, 97 stopped by a command, 99 no call
# processed, 254 a socket could not be bound, 255 a fatal error
EXIT_MEANING = {0: "all calls succeeded", 1: "at least one call failed", 97: "exit on an internal command",
                99: "normal exit without any call processed", 254: "fatal error binding a socket",
                255: "fatal error"}  # fmt: skip
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}\t[\d:.]+\t[\d.]+: ")
_DIGITS = re.compile(r"(?<![\d.])\+?\d{7,}")  # a phone number in a quoted SIP message: masked as in logs
_ROUTINE = ("jumping to label", "Resolving remote host", "The following events occurred")


@dataclass
class SippEnd:
    name: str
    rc: int
    asked_to_stop: bool  # the run stopped it (its phones are done), rather than it ending by itself
    stats: dict[str, int] = field(default_factory=dict)  # cumulative counters of the final -trace_stat row
    reason: str = ""  # SIPp's own words: the first error it wrote

    @property
    def failed_calls(self) -> int:
        return self.stats.get("FailedCall", 0)

    def failures(self) -> dict[str, int]:
        """Failed calls by SIPp's cause (FailedUnexpectedMessage, FailedTimeoutOnRecv, ...), non-zero ones."""
        return {k: v for k, v in self.stats.items() if k.startswith("Failed") and k != "FailedCall" and v}

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "rc": self.rc, "meaning": EXIT_MEANING.get(self.rc, "killed or unknown"),
                "asked_to_stop": self.asked_to_stop, "successful_calls": self.stats.get("SuccessfulCall", 0),
                "failed_calls": self.failed_calls, "failures": self.failures(), "reason": self.reason}  # fmt: skip


def read_stats(path: Path) -> dict[str, int]:
    """The last row's cumulative ``(C)`` counters of a SIPp statistics file, by name without the suffix."""
    if not path.exists():
        return {}
    rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    if len(rows) < 2:
        return {}
    out: dict[str, int] = {}
    for name, value in zip(rows[0], rows[-1], strict=False):
        if name.endswith("(C)") and value.strip().isdigit():
            out[name[:-3]] = int(value)
    return out


def first_reason(*paths: Path) -> str:
    """SIPp's first error from its error file or stderr, without timestamps, at most 300 characters.

    Its error file holds routine events too (a scenario's ``ontimeout`` jump is logged as one); those are
    passed over, as are the banner lines.
    """
    for path in paths:
        if not path.exists():
            continue
        for entry in _STAMP.split(path.read_text(errors="replace")):
            text = " ".join(entry.split())
            if text and not any(b in text for b in _ROUTINE):
                return _DIGITS.sub(lambda m: mask_number(m.group(0)), text)[:300]
    return ""


def trace_args(name: str) -> list[str]:
    """The options that make a SIPp leave what ``finish`` reads (statistics every 5 s and at the end)."""
    return ["-trace_stat", "-stf", f"{name}.stat.csv", "-fd", "5", "-trace_err", "-error_file", f"{name}.err"]


def sip_port(args: list[str]) -> int:
    """The SIP port ``args`` bind with ``-p``; a ValueError when none is named.

    SIPp without ``-p`` (or with ``-p 0``) does not take a port from the system: it tries 5060 first, then the
    ports above it. 5060 is Asterisk's: a SIPp started while Asterisk restarts takes it, and Asterisk comes up
    without its SIP transport, answering no call until its next restart."""
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-p" and value.isdigit() and int(value) > 0:
            return int(value)
    raise ValueError("a SIPp needs its own SIP port (-p N, N > 0): without one it binds 5060, Asterisk's port")


async def run(name: str, args: list[str], cwd: Path, deadline: float, stop: asyncio.Event | None = None) -> SippEnd:
    """Run one SIPp to its end, or until ``stop`` is set or the deadline passes (then SIGUSR1: SIPp finishes the
    calls in progress, writes its statistics and exits; TERM after 10 s)."""
    sip_port(args)
    with (cwd / f"{name}.stderr").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(sipp_binary(), *args, *trace_args(name), cwd=cwd,
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=err)  # fmt: skip
    loop = asyncio.get_running_loop()
    waiter = asyncio.ensure_future(proc.wait())
    stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
    asked = False
    try:
        done, _ = await asyncio.wait([waiter, *([stopper] if stopper else [])],
                                     timeout=max(1.0, deadline - loop.time()),
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if waiter in done:
            rc = waiter.result()
        else:
            asked = True
            proc.send_signal(signal.SIGUSR1)
            try:
                rc = await asyncio.wait_for(asyncio.shield(waiter), 10)
            except TimeoutError:
                proc.terminate()
                rc = await waiter
    finally:
        if stopper is not None:
            stopper.cancel()
    return finish(name, rc, asked, cwd)


def finish(name: str, rc: int, asked: bool, cwd: Path) -> SippEnd:
    return SippEnd(name, rc, asked, read_stats(cwd / f"{name}.stat.csv"),
                   first_reason(cwd / f"{name}.err", cwd / f"{name}.stderr"))  # fmt: skip
