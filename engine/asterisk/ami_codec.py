"""Sans-I/O AMI codec: bytes in, frames out; actions in, bytes out.

No sockets here. The link (``ami_link``) and the virtual PBX both feed bytes into
``AmiDecoder`` and act on what comes back, the way h11's ``Connection`` is used.

Wire facts this follows (docs/asterisk.md#ami-framing): the banner is one line with no blank line after it;
Asterisk sends CRLF and accepts LF; a message is ``Key: Value`` lines ended by an empty line;
some error messages carry an embedded LF that produces an extra empty line (harmless here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import repeat

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


class Frame:
    """One AMI message: ordered headers, case-insensitive lookup, first occurrence wins.

    The decoder hands over names and values as two tuples with the look-up table ready; the list of pairs is
    made only when someone asks for it. A frame never changes after it is made."""

    __slots__ = ("_headers", "_names", "_values", "_index", "received")
    __hash__ = None  # type: ignore[assignment]  # equal by headers, and those are a list

    def __init__(self, headers: list[tuple[str, str]] | None = None, received: float = 0.0) -> None:
        self._headers: list[tuple[str, str]] | None = headers if headers is not None else []
        self._names: tuple[str, ...] = ()
        self._values: tuple[str, ...] = ()
        self._index: dict[str, str] | None = None  # lowercased name -> first value
        # ``time.monotonic()`` when the link read it (0: not from a link); the engine's event-lag histogram
        self.received = received

    @classmethod
    def _decoded(cls, names: tuple[str, ...], values: tuple[str, ...], index: dict[str, str]) -> Frame:
        frame = cls.__new__(cls)
        frame._headers = None
        frame._names, frame._values, frame._index = names, values, index
        frame.received = 0.0
        return frame

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self._headers is None:
            self._headers = list(zip(self._names, self._values, strict=False))  # as many of each
        return self._headers

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            for key, value in self.headers:
                index.setdefault(key.lower(), value)
            self._index = index
        return index

    def get(self, name: str, default: str = "") -> str:
        return (self._index if self._index is not None else self._lookup()).get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def __getitem__(self, name: str) -> str:
        try:
            return (self._index if self._index is not None else self._lookup())[name.lower()]
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in (self._index if self._index is not None else self._lookup())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.headers == other.headers

    def __repr__(self) -> str:
        return f"Frame(headers={self.headers!r})"

    # read for every frame: the names are already lowercase
    @property
    def event(self) -> str:
        return (self._index if self._index is not None else self._lookup()).get("event", "")

    @property
    def response(self) -> str:
        return (self._index if self._index is not None else self._lookup()).get("response", "")

    @property
    def action_id(self) -> str:
        return (self._index if self._index is not None else self._lookup()).get("actionid", "")

    @property
    def is_event(self) -> bool:
        return "event" in (self._index if self._index is not None else self._lookup())

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


# header names seen valid (no blank, no colon, not empty) -> lowercased: Asterisk uses a few hundred, so most
# frames are checked with look-ups alone; bounded, as a peer may send any names
_NAMES: dict[str, str] = {}
_NAMES_KEPT = 4096


def _known(names: tuple[str, ...]) -> bool:
    """Check names not seen before (their first colon after the name, no blank, not empty) and keep them."""
    for name in names:
        if name not in _NAMES:
            if not name or ":" in name or name.split() != [name]:
                return False
            if len(_NAMES) < _NAMES_KEPT:
                _NAMES[name] = name.lower()
    return True


def _plain_block(block: str, wanted: tuple[str, ...]) -> Frame | None:
    """A frame of CRLF lines, each ``Name: value``, cut and checked in a few C-level passes instead of a loop
    per line; ``wanted``: the lowercased names of which it must carry one. None when it holds anything else
    (another line form, a name with blanks or colons, too many lines, none of ``wanted``): the caller then
    decodes it frame by frame, which refuses it or reads it exactly as before."""
    # (zip without strict: every partition is three strings, and names and values are as many; the check costs
    # a tenth of the frame)
    names, seps, values = zip(*map(str.partition, block.split("\r\n"), repeat(": ")), strict=False)
    if "" in seps or len(names) > MAX_HEADERS:
        return None
    index = dict(zip(map(_NAMES.get, names), values, strict=False))
    if None in index:
        if not _known(names):
            return None
        index = dict(zip([n.lower() for n in names], values, strict=False))
    if len(index) < len(names):  # a name twice: its first value is the one that counts
        index = dict(zip(reversed([n.lower() for n in names]), reversed(values), strict=False))
    if wanted:
        for name in wanted:
            if name in index:
                break
        else:
            return None
    return Frame._decoded(names, values, index)


# the first empty line: every frame end is one of \r\n\r\n, \n\n, \n\r\n, \r\n\n; the leftmost match starts
# where the earliest of them does and, at one place, only one of them can match
_FRAME_END = re.compile(rb"\r?\n\r?\n")


class AmiDecoder:
    """Client-side decoder (server → client direction).

    ``feed`` returns Banner, Frame and AmiParseError items in wire order. Errors are returned,
    not raised, so one bad frame costs exactly that frame. Bytes are split into frames before
    they are decoded, so a UTF-8 character split across TCP reads is never lost.
    """

    def __init__(self, expect_banner: bool = True, require: tuple[str, ...] = ("Event", "Response"),
                 events: AbstractSet[str] | None = None) -> None:  # fmt: skip
        """``require``: a frame must carry one of these headers (a server decoding actions passes ()).
        ``events``: the event names the reader uses; an event frame of another name that answers no action (no
        ActionID) is passed over after its first line, unparsed, and counted in ``skipped`` (None: all)."""
        self._require = require
        self._wanted = tuple(name.lower() for name in require)
        self._events = events
        self.skipped = 0
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self._discarding = False  # inside an over-long line, skipping to the next frame end

    def feed(self, data: bytes) -> list[Banner | Frame | AmiParseError]:
        self._buffer += data
        out: list[Banner | Frame | AmiParseError] = []
        self._drain(out)
        return out

    def _drain(self, out: list[Banner | Frame | AmiParseError]) -> None:
        buf = self._buffer
        while True:
            if self._expect_banner:
                nl = buf.find(b"\n")
                if nl < 0:
                    if len(buf) > MAX_LINE:
                        self._expect_banner = False
                        out.append(AmiParseError("banner line too long", bytes(buf[:200])))
                        del buf[:]
                    return
                line = bytes(buf[:nl]).rstrip(b"\r").decode("utf-8", errors="replace")
                del buf[: nl + 1]
                self._expect_banner = False
                if line.startswith("Asterisk Call Manager/"):
                    out.append(Banner(line))
                    continue
                if ":" in line:
                    # no banner (e.g. a proxy); the line belongs to the first frame
                    buf[0:0] = (line + "\n").encode()
                    continue
                out.append(AmiParseError(f"unexpected banner {line[:80]!r}", line.encode()))
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
            self._plain_frames(buf, out)
            # leading blank lines (e.g. from an embedded "\n" in a Message) are not frames
            while buf[:2] == b"\r\n" or buf[:1] == b"\n":
                del buf[: 2 if buf[:1] == b"\r" else 1]
            end = _frame_end(buf)
            if end is None:
                if len(buf) > MAX_LINE * 4 or _longest_line(buf) > MAX_LINE:
                    self._discarding = True
                    out.append(AmiParseError("frame or line too long; skipped", bytes(buf[:200])))
                    continue
                return
            block = bytes(buf[: end[0]])
            del buf[: end[1]]
            self._parse(block, out)

    def _plain_frames(self, buf: bytearray, out: list[Banner | Frame | AmiParseError]) -> None:
        """The common case at speed: up to the buffer's last \r\n\r\n, a stream of CRLF lines and nothing else
        (every CR before an LF, every LF after a CR) is cut at each \r\n\r\n; the frames, the blank lines
        between them and the errors are exactly those the frame-by-frame loop gives."""
        last = buf.rfind(b"\r\n\r\n")
        if last < 0:
            return
        end = last + 4
        crlf = buf.count(b"\r\n", 0, end)
        if buf.count(b"\n", 0, end) != crlf or buf.count(b"\r", 0, end) != crlf:
            return
        region = bytes(buf[:end])
        del buf[:end]
        try:
            text = region.decode("utf-8")
        except UnicodeDecodeError:  # cut as bytes and decoded frame by frame, with replacement characters
            for raw in region.split(b"\r\n\r\n"):
                raw = raw.lstrip(b"\r\n")  # blank lines between frames
                if raw:
                    self._parse(raw, out)
            return
        wanted, events = self._wanted, self._events
        for block in text.split("\r\n\r\n"):
            if block[:2] == "\r\n":
                block = block.lstrip("\r\n")
            if block:
                # most of what Asterisk sends (VarSet, AGIExec, Cdr...) is of no use to the engine: the name is
                # read off the first line and the frame passed over before any parsing
                if events is not None and block[:7] == "Event: ":
                    first = block.find("\r\n")
                    if block[7:first if first >= 0 else None] not in events and "\r\nActionID: " not in block:
                        self.skipped += 1
                        continue
                frame = _plain_block(block, wanted)
                if frame is not None:
                    out.append(frame)
                else:
                    self._parse(block.encode(), out)  # valid UTF-8: the bytes as they came

    def _parse(self, block: bytes, out: list[Banner | Frame | AmiParseError]) -> None:
        try:
            frame = _parse_block(block, self._require)
        except AmiParseError as exc:
            out.append(exc)
            return
        if self._events is not None and frame.is_event and frame.event not in self._events and not frame.action_id:
            self.skipped += 1  # as the fast path does
            return
        out.append(frame)


def _frame_end(buf: bytearray) -> tuple[int, int] | None:
    """Find the first empty line; return (end of block, end of terminator)."""
    m = _FRAME_END.search(buf)
    return (m.start(), m.end()) if m else None


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
