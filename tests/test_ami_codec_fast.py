"""The decoder's fast path (whole CRLF runs cut at once) against the frame-by-frame decoder it replaced.

``Reference`` is that decoder as it was: four searches for the first empty line, then a loop over the lines.
Every stream, cut anywhere into reads, must give the same banners, frames (headers and look-ups) and errors
(message and raw bytes).
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.asterisk.ami_codec import MAX_HEADERS, MAX_LINE, AmiDecoder, AmiParseError, Banner, Frame, encode_frame


def _ref_parse(block: bytes, require: tuple[str, ...]) -> Frame:
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
    if require and not any(any(k.lower() == name.lower() for k, _ in headers) for name in require):
        raise AmiParseError(f"frame has none of {', '.join(require)}", block)
    return frame


def _ref_end(buf: bytearray) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n", b"\r\n\n"):
        i = buf.find(sep)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, i + len(sep))
    return best


class Reference:
    def __init__(self, expect_banner: bool = True, require: tuple[str, ...] = ("Event", "Response")) -> None:
        self._require = require
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self._discarding = False

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
                    buf[0:0] = (line + "\n").encode()
                    continue
                yield AmiParseError(f"unexpected banner {line[:80]!r}", line.encode())
                continue
            if self._discarding:
                end = _ref_end(buf)
                if end is None:
                    if len(buf) > 3:
                        del buf[: len(buf) - 3]
                    return
                del buf[: end[1]]
                self._discarding = False
                continue
            while buf[:2] == b"\r\n" or buf[:1] == b"\n":
                del buf[: 2 if buf[:1] == b"\r" else 1]
            end = _ref_end(buf)
            if end is None:
                if len(buf) > MAX_LINE * 4 or len(buf) - buf.rfind(b"\n") - 1 > MAX_LINE:
                    self._discarding = True
                    yield AmiParseError("frame or line too long; skipped", bytes(buf[:200]))
                    continue
                return
            block = bytes(buf[: end[0]])
            del buf[: end[1]]
            try:
                yield _ref_parse(block, self._require)
            except AmiParseError as exc:
                yield exc


def _view(items: list[Banner | Frame | AmiParseError]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for i in items:
        if isinstance(i, Frame):
            names = {k for k, _ in i.headers} | {k.lower() for k, _ in i.headers} | {k.upper() for k, _ in i.headers}
            out.append(("frame", i.headers, sorted((n, i.get(n), n in i) for n in names), i.event, i.response))
        elif isinstance(i, AmiParseError):
            out.append(("error", str(i), i.raw))
        else:
            out.append(("banner", i))
    return out


def _both(data: bytes, cuts: list[int], banner: bool, require: tuple[str, ...] = ("Event", "Response")) -> None:
    fast, ref = AmiDecoder(expect_banner=banner, require=require), Reference(expect_banner=banner, require=require)
    got: list[Banner | Frame | AmiParseError] = []
    want: list[Banner | Frame | AmiParseError] = []
    prev = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        got += fast.feed(data[prev:cut])
        want += ref.feed(data[prev:cut])
        prev = max(prev, cut)
    assert _view(got) == _view(want)
    assert fast._buffer == ref._buffer, "the same bytes wait for the next read"


# pieces a stream is made of: whole frames, line ends of every kind, and bytes that break the form
PIECES = st.one_of(
    st.sampled_from([b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"\n\n", b"\n\r\n", b"\r\n\n", b": ", b":", b" ",
                     b"Event: X", b"Response: Success", b"event: y", b"ActionID: 1", b"Key:v", b"A:B: C",
                     b"K\tey: v", b" Key: v", b"Key : v", b"\xe4\xb8", b"\xad", b"\xe4\xb8\xad", b"\x1c",
                     "\u03a3: s".encode(), b"Asterisk Call Manager/11.0.0\r\n", b"Message: x\n\r\n\r\n"]),
    st.binary(max_size=12),
    st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,8}", fullmatch=True),
                       st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=12)),
             min_size=1, max_size=5).map(lambda h: encode_frame([("Event", "X"), *h])),
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, max_size=30), st.lists(st.integers(min_value=0, max_value=10_000), max_size=6),
       st.booleans(), st.sampled_from([("Event", "Response"), ()]))  # fmt: skip
def test_the_fast_path_decodes_every_stream_like_the_frame_by_frame_decoder(pieces, cuts, banner, require):
    _both(b"".join(pieces), cuts, banner, require)


def test_runs_of_blank_lines_between_frames_and_a_cr_before_the_crlf():
    frames = b"Event: A\r\nK: 1\r\n\r\n"
    for data in (
        frames + b"\r\n" + frames,
        frames + b"\r\n\r\n\r\n" + frames + b"\r\n",
        b"\r\n\r\n" + frames,
        b"Event: A\r\r\n\r\n" + frames,
        b"Event: A\r\n\r\n\r\r\n\r\n" + frames,
        b"Key:v\r\n\r\n" + frames,
    ):
        for cut in range(len(data) + 1):
            _both(data, [cut], False)


def test_too_many_headers_and_a_long_frame_are_refused_as_before():
    many = encode_frame([("Event", "X")] + [(f"H{i}", "v") for i in range(MAX_HEADERS + 1)])
    _both(many + b"Event: Y\r\n\r\n", [], False)
    _both(b"Event: X\r\nData: " + b"x" * (MAX_LINE + 10) + b"\r\n\r\nEvent: Y\r\n\r\n", [MAX_LINE], False)


def test_a_decoded_frame_looks_up_like_one_built_by_hand():
    f = AmiDecoder(expect_banner=False).feed(b"Event: A\r\nKEY: 1\r\nkey: 2\r\nUniqueid: 1.5\r\n\r\n")[0]
    by_hand = Frame(list(f.headers))
    for name in ("event", "Key", "KEY", "uniqueid", "Missing"):
        assert f.get(name, "-") == by_hand.get(name, "-") and (name in f) == (name in by_hand)
    assert f == by_hand and f["key"] == "1"
