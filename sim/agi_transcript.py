"""The FastAGI side of the fidelity transcripts: the commands the engine sent and Asterisk's replies.

The tap sits in the engine's FastAGI server (``engine.asterisk.fastagi.AgiTap``), so the real Asterisk and
the virtual PBX are watched from the same place: what the engine read, in the order it read it. Rows for
comparison are one per session start (the script and the environment Asterisk sent), one per command with
its reply, and one per out-of-band ``HANGUP`` line; identifiers are normalised like the AMI side's.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from engine.asterisk.agi_codec import Environment
from engine.clock import Clock

# Command names of more than one word, longest first (AGI splits the name from its arguments by words).
_NAMES = sorted(
    ["CONTROL STREAM FILE", "GET FULL VARIABLE", "GET VARIABLE", "GET OPTION", "GET DATA", "STREAM FILE",
     "WAIT FOR DIGIT", "SET VARIABLE", "SET CONTEXT", "SET EXTENSION", "SET PRIORITY", "SET MUSIC",
     "SET CALLERID", "SET AUTOHANGUP", "SAY DIGITS", "SAY NUMBER", "SAY ALPHA", "RECORD FILE",
     "CHANNEL STATUS", "DATABASE GET", "DATABASE PUT", "DATABASE DEL", "DATABASE DELTREE", "ASYNCAGI BREAK"],
    key=lambda n: -len(n.split()),
)  # fmt: skip

# Environment values compared (agi_ prefix left out). The request (it names the engine's port), the thread
# id and the version are left out: they describe the process, not the call.
ENV_FIELDS = ["channel", "uniqueid", "context", "extension", "priority", "callerid", "dnid"]

# A row: name, then the fields. Every row has this many points, as every AMI event has its key fields.
WIDTH = 2 + len(ENV_FIELDS)

_UNIQUEID = re.compile(r"\b\d{6,}\.\d+\b")
_CHANNEL = re.compile(r"\b(?:PJSIP|Local|SIP|IAX2|DAHDI)/[^\s,()]+-[0-9a-f]{8}(?:;\d)?")
_REPLY = re.compile(
    r"^(?P<code>\d{3})(?: result=(?P<result>\S*))?(?: \((?P<data>[^)]*)\))?(?: endpos=(?P<endpos>-?\d+))?"
)


@dataclass(frozen=True)
class AgiFrame:
    kind: str  # env, command, reply, hangup
    uniqueid: str
    channel: str
    text: str
    env: dict[str, str] | None = None  # the whole environment, on ``env`` frames

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "uniqueid": self.uniqueid, "channel": self.channel, "text": self.text}
        if self.env is not None:
            d["env"] = self.env
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AgiFrame:
        return cls(d["kind"], d.get("uniqueid", ""), d.get("channel", ""), d.get("text", ""), d.get("env"))


class AgiTape:
    """An ``AgiTap``: every line of every session, with the time the engine saw it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.frames: list[tuple[float, AgiFrame]] = []

    def __call__(self, kind: str, env: Environment, text: str) -> None:
        self.frames.append((self.clock.monotonic(), AgiFrame(kind, env.get("uniqueid"), env.get("channel"), text,
                                                             dict(env.values) if kind == "env" else None)))  # fmt: skip


class Names(Protocol):
    def uid(self, v: str) -> str: ...

    def channel(self, v: str) -> str: ...


def split_command(line: str) -> tuple[str, list[str]]:
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    upper = [w.upper() for w in words]
    for name in _NAMES:
        n = len(name.split())
        if " ".join(upper[:n]) == name:
            return name, words[n:]
    return (upper[0] if upper else ""), words[1:]


def _ids(text: str, names: Names) -> str:
    text = _CHANNEL.sub(lambda m: names.channel(m.group(0)), text)
    return _UNIQUEID.sub(lambda m: names.uid(m.group(0)), text)


def endpos_seconds(samples: int) -> str:
    """Where playback stopped, to a tenth of a second: the sample count itself moves with frame timing."""
    return f"{samples / 8000:.1f}s"


def _reply_fields(text: str, names: Names) -> list[str]:
    m = _REPLY.match(text)
    if m is None:
        return [f"reply={text}", "", "", ""]
    endpos = m.group("endpos")
    data = m.group("data")
    return [
        f"code={m.group('code')}",
        f"result={m.group('result')}" if m.group("result") is not None else "",
        f"data={_ids(data, names)}" if data is not None else "",
        f"endpos={endpos_seconds(int(endpos))}" if endpos is not None else "",
    ]


def rows(frames: Iterable[AgiFrame], names: Names) -> list[tuple[str, ...]]:
    """One row per session start, per command (with its reply), per HANGUP line; WIDTH fields each."""
    out: list[list[str]] = []
    waiting: dict[str, int] = {}  # session (uniqueid) → its command's row, until the reply comes
    for f in frames:
        if f.kind == "env":
            env = f.env or {}
            args = [v for k, v in sorted(env.items()) if k.startswith("agi_arg_")]
            out.append([f"AGI {f.text}", *(f"{k}={_ids(env.get('agi_' + k, ''), names)}" for k in ENV_FIELDS),
                        f"args={_ids(' '.join(args), names)}"])  # fmt: skip
        elif f.kind == "command":
            name, args = split_command(f.text)
            shown = [_ids(a, names) for a in args]
            fields = [f"arg1={shown[0]}" if shown else "", f"arg2={shown[1]}" if len(shown) > 1 else "",
                      f"more={' '.join(shown[2:])}" if len(shown) > 2 else ""]  # fmt: skip
            waiting[f.uniqueid] = len(out)
            out.append([name, *fields, "code=none"])  # no reply seen (yet)
        elif f.kind == "reply":
            at = waiting.pop(f.uniqueid, None)
            if at is None:
                out.append(["(reply without a command)", *_reply_fields(f.text, names)])
            else:
                out[at] = out[at][:4] + _reply_fields(f.text, names)
        elif f.kind == "hangup":
            out.append(["HANGUP"])
    return [tuple(r + [""] * (WIDTH - len(r))) for r in out]


def text(row: tuple[str, ...]) -> str:
    return " ".join(x for x in row if x)
