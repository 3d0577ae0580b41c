"""Sans-I/O FastAGI codec (server side): bytes from Asterisk in, events out; commands in, bytes out.

Wire facts (docs/asterisk.md#agi-wire): the environment is ``agi_key: value`` lines ended by ``\\n`` and an
empty line; a response is ``200 result=N [(data)] [endpos=N]``, ``510 ...``, ``511 ...`` or a
multi-line ``520-`` block ended by a line starting ``520 ``; the literal line ``HANGUP`` arrives
out of band at any time (also right before the next response) and switches the channel to dead
mode. The session is strictly one command at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

MAX_LINE = 8192
MAX_ENV_LINES = 512


class AgiParseError(ValueError):
    """The peer sent something that is not FastAGI. The session should be closed."""


@dataclass(frozen=True)
class Environment:
    values: dict[str, str]

    @property
    def script(self) -> str:
        """Route name: ``agi_network_script`` without the query string."""
        return self.values.get("agi_network_script", "").partition("?")[0].strip("/")

    @property
    def query(self) -> str:
        return self.values.get("agi_network_script", "").partition("?")[2]

    @property
    def args(self) -> list[str]:
        out = []
        i = 1
        while f"agi_arg_{i}" in self.values:
            out.append(self.values[f"agi_arg_{i}"])
            i += 1
        return out

    def __getitem__(self, key: str) -> str:
        return self.values[key if key.startswith("agi_") else "agi_" + key]

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key if key.startswith("agi_") else "agi_" + key, default)


@dataclass(frozen=True)
class Response:
    code: int
    result: str = ""
    data: str | None = None
    endpos: int | None = None
    message: str = ""
    usage: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def line(self) -> str:
        """The response line as Asterisk writes it (a 520 block: its closing line)."""
        if self.code != 200:
            return f"{self.code} {self.message}".rstrip()
        data = f" ({self.data})" if self.data is not None else ""
        endpos = f" endpos={self.endpos}" if self.endpos is not None else ""
        return f"200 result={self.result}{data}{endpos}"

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"

    @property
    def digit(self) -> str | None:
        """For WAIT FOR DIGIT / STREAM FILE: the ASCII code in result as a character."""
        n = self.result_int
        if n is None or n <= 0:
            return None
        return chr(n)


@dataclass(frozen=True)
class Malformed:
    """A line that is not FastAGI; it was skipped and the session goes on."""

    line: str
    reason: str


@dataclass(frozen=True)
class HangupNotice:
    """The out-of-band ``HANGUP`` line. The call may still be alive (Redirect, bridge yank)."""


class State(Enum):
    ENV = "env"
    IDLE = "idle"
    WAITING = "waiting"  # a command was sent, its response is not complete
    USAGE = "usage"  # inside a multi-line 520 block
    CLOSED = "closed"


_RESULT = re.compile(r"^200 result=(?P<result>\S*)(?: \((?P<data>[^)]*)\))?(?: endpos=(?P<endpos>-?\d+))?\s*$")


class AgiConnection:
    """One FastAGI session, as the server sees it."""

    def __init__(self) -> None:
        self.state = State.ENV
        self.hung_up = False
        self._buffer = bytearray()
        self._env: dict[str, str] = {}
        self._usage: list[str] = []
        self.pending: str | None = None

    def send_command(self, command: str) -> bytes:
        if self.state is not State.IDLE:
            raise RuntimeError(f"cannot send an AGI command in state {self.state.value}")
        if "\n" in command or "\r" in command:
            raise ValueError("AGI command contains a line break")
        self.state = State.WAITING
        self.pending = command
        return (command + "\n").encode()

    def feed(self, data: bytes) -> list[Environment | Response | HangupNotice | Malformed]:
        """Raises AgiParseError on input that is not FastAGI; the caller closes the session."""
        if self.state is State.CLOSED:
            return []
        self._buffer += data
        out: list[Environment | Response | HangupNotice | Malformed] = []
        while True:
            nl = self._buffer.find(b"\n")
            if nl < 0:
                if len(self._buffer) > MAX_LINE:
                    self.state = State.CLOSED
                    raise AgiParseError("line too long")
                return out
            raw = bytes(self._buffer[:nl])
            del self._buffer[: nl + 1]
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            event = self._line(line)
            if event is not None:
                out.append(event)

    def _line(self, line: str) -> Environment | Response | HangupNotice | Malformed | None:
        if self.state is State.ENV:
            if not line:
                if not self._env:
                    return None  # tolerate a leading blank line
                self.state = State.IDLE
                return Environment(dict(self._env))
            key, sep, value = line.partition(":")
            if not sep or not key.startswith("agi_"):
                return Malformed(line[:200], "not an agi_ environment line")
            if len(self._env) >= MAX_ENV_LINES:
                self.state = State.CLOSED
                raise AgiParseError("environment too long")
            self._env[key] = value.strip()
            return None
        if line.strip() == "HANGUP":
            self.hung_up = True
            return HangupNotice()
        if self.state is State.USAGE:
            if line.startswith("520 "):
                self.state = State.IDLE
                self.pending = None
                usage = tuple(self._usage)
                self._usage = []
                return Response(520, message=line[4:], usage=usage)
            self._usage.append(line)
            return None
        if not line:
            return None
        if self.state is not State.WAITING:
            return Malformed(line[:200], "line while no command was pending")
        if line.startswith("520-"):
            self.state = State.USAGE
            self._usage = [line[4:]]
            return None
        code_text = line[:3]
        if not code_text.isdigit() or (len(line) > 3 and line[3] != " "):
            return Malformed(line[:200], "response without a status code")
        code = int(code_text)
        m = _RESULT.match(line) if code == 200 else None
        if code == 200 and m is None:
            return Malformed(line[:200], "malformed 200 response")
        self.state = State.IDLE
        self.pending = None
        if m is not None:
            endpos = m.group("endpos")
            return Response(
                200,
                result=m.group("result"),
                data=m.group("data"),
                endpos=int(endpos) if endpos is not None else None,
            )
        if code == 511:
            self.hung_up = True
        return Response(code, message=line[4:].strip())

    def close(self) -> None:
        self.state = State.CLOSED


def quote_arg(value: str) -> str:
    """Quote one AGI argument: Asterisk splits on blanks, groups with quotes, escapes with backslash."""
    if value == "":
        return '""'
    if any(c in value for c in ' \t"\\'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value
