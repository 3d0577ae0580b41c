"""Sans-I/O AMI codec: bytes in, frames out; actions in, bytes out.

No sockets here. The link (``ami_link``) and the virtual PBX both feed bytes into
``AmiDecoder`` and act on what comes back, the way h11's ``Connection`` is used.

Wire facts this follows (docs/asterisk.md#ami-framing): the banner is one line with no blank line after it;
Asterisk sends CRLF and accepts LF; a message is ``Key: Value`` lines ended by an empty line;
some error messages carry an embedded LF that produces an extra empty line (harmless here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MAX_LINE = 64 * 1024  # a longer line means the peer is not speaking AMI; cut it off
MAX_HEADERS = 4096  # CoreShowChannel blocks with many ChanVariables stay far below this


class AmiParseError(ValueError):
    """A malformed frame. The decoder skips it and keeps going."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = raw


@dataclass(frozen=True)
class Banner:
    """``Asterisk Call Manager/11.0.0``: the first line a server writes."""

    text: str

    @property
    def version(self) -> str:
        return self.text.partition("/")[2].strip()


@dataclass
class Frame:
    """One AMI message: ordered headers, case-insensitive lookup, first occurrence wins."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    # ``time.monotonic()`` when the link read it (0: not from a link); the engine's event-lag histogram
    received: float = field(default=0.0, compare=False, repr=False)

    def get(self, name: str, default: str = "") -> str:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def __getitem__(self, name: str) -> str:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self.headers)

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def response(self) -> str:
        return self.get("Response")

    @property
    def action_id(self) -> str:
        return self.get("ActionID")

    @property
    def is_event(self) -> bool:
        return "Event" in self

    def as_dict(self) -> dict[str, str]:
        """First occurrence of each header; repeated ones (Output, ChanVariable) via get_all."""
        out: dict[str, str] = {}
        for key, value in self.headers:
            out.setdefault(key, value)
        return out


def _parse_block(block: bytes, require: tuple[str, ...]) -> Frame:
    headers: list[tuple[str, str]] = []
    text = block.decode("utf-8", errors="replace")
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or key != key.strip() or " " in key:
            raise AmiParseError(f"line without 'Key: Value' form: {line[:80]!r}", block)
        headers.append((key, value[1:] if value.startswith(" ") else value))
        if len(headers) > MAX_HEADERS:
            raise AmiParseError("too many header lines in one frame", block[:200])
    if not headers:
        raise AmiParseError("empty frame", block)
    frame = Frame(headers)
    if require and not any(name in frame for name in require):
        raise AmiParseError(f"frame has none of {', '.join(require)}", block)
    return frame


class AmiDecoder:
    """Client-side decoder (server → client direction).

    ``feed`` returns Banner, Frame and AmiParseError items in wire order. Errors are returned,
    not raised, so one bad frame costs exactly that frame. Bytes are split into frames before
    they are decoded, so a UTF-8 character split across TCP reads is never lost.
    """

    def __init__(self, expect_banner: bool = True, require: tuple[str, ...] = ("Event", "Response")) -> None:
        """``require``: a frame must carry one of these headers (a server decoding actions passes ())."""
        self._require = require
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self._discarding = False  # inside an over-long line, skipping to the next frame end

    def feed(self, data: bytes) -> list[Banner | Frame | AmiParseError]:
        self._buffer += data
        return list(self._drain())

    def _drain(self) -> Iterator[Banner | Frame | AmiParseError]:
        buf = self._buffer
        while True:
            if self._expect_banner:
                nl = buf.find(b"\n")
                if nl < 0:
                    if len(buf) > MAX_LINE:
                        self._expect_banner = False
                        yield AmiParseError("banner line too long", bytes(buf[:200]))
                        del buf[:]
                    return
                line = bytes(buf[:nl]).rstrip(b"\r").decode("utf-8", errors="replace")
                del buf[: nl + 1]
                self._expect_banner = False
                if line.startswith("Asterisk Call Manager/"):
                    yield Banner(line)
                    continue
                if ":" in line:
                    # no banner (e.g. a proxy); the line belongs to the first frame
                    buf[0:0] = (line + "\n").encode()
                    continue
                yield AmiParseError(f"unexpected banner {line[:80]!r}", line.encode())
                continue
            if self._discarding:
                end = _frame_end(buf)
                if end is None:
                    keep = 3  # a terminator may straddle reads
                    if len(buf) > keep:
                        del buf[: len(buf) - keep]
                    return
                del buf[: end[1]]
                self._discarding = False
                continue
            # leading blank lines (e.g. from an embedded "\n" in a Message) are not frames
            while buf[:2] == b"\r\n" or buf[:1] == b"\n":
                del buf[: 2 if buf[:1] == b"\r" else 1]
            end = _frame_end(buf)
            if end is None:
                if len(buf) > MAX_LINE * 4 or _longest_line(buf) > MAX_LINE:
                    self._discarding = True
                    yield AmiParseError("frame or line too long; skipped", bytes(buf[:200]))
                    continue
                return
            block = bytes(buf[: end[0]])
            del buf[: end[1]]
            try:
                yield _parse_block(block, self._require)
            except AmiParseError as exc:
                yield exc


def _frame_end(buf: bytearray) -> tuple[int, int] | None:
    """Find the first empty line; return (end of block, end of terminator)."""
    best: tuple[int, int] | None = None
    for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n", b"\r\n\n"):
        i = buf.find(sep)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, i + len(sep))
    return best


def _longest_line(buf: bytearray) -> int:
    last = buf.rfind(b"\n")
    return len(buf) - last - 1


def encode_action(headers: Iterable[tuple[str, str]] | dict[str, str]) -> bytes:
    """Encode an action. Values must not contain line breaks: Asterisk would read them as headers."""
    items = headers.items() if isinstance(headers, dict) else headers
    lines = []
    for key, value in items:
        text = str(value)
        if "\r" in text or "\n" in text or "\r" in key or "\n" in key:
            raise ValueError(f"AMI header {key!r} contains a line break")
        lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def encode_frame(headers: Iterable[tuple[str, str]]) -> bytes:
    """Server-side encoding (virtual PBX): same framing as an action."""
    return encode_action(headers)
