"""A minimal HTTP/1.1 client on asyncio streams for the load runs: one-shot requests (sign-in, /metrics) and
server-sent-event streams (the wallboard's), loopback only, no dependency beyond the standard library.

``Dechunker`` and ``SseParser`` are pure and incremental (bytes in, payload or messages out); ``request`` and
``watch`` are the thin shells. A stream's reader notes the real time of each read, so the delay from a
message's ``wall`` field (when the server read it off the bus) to the client holding it can be measured.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

MAX_HEAD = 64 * 1024  # a response head larger than this is not one of ours


class Dechunker:
    """HTTP/1.1 chunked transfer coding, fed as it arrives; ``done`` once the last (empty) chunk is read."""

    def __init__(self) -> None:
        self._buf = b""
        self._left = -1  # payload bytes still due in this chunk; -1: a size line is next
        self._crlf = 0  # bytes of the CRLF closing the chunk still to skip
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while not self.done and self._buf:
            if self._crlf:
                skip = min(self._crlf, len(self._buf))
                self._buf, self._crlf = self._buf[skip:], self._crlf - skip
            elif self._left < 0:
                end = self._buf.find(b"\r\n")
                if end < 0:
                    break
                size = int(self._buf[:end].split(b";", 1)[0], 16)  # a ValueError is a broken stream
                self._buf = self._buf[end + 2 :]
                self._left, self.done = size, size == 0
            else:
                take = min(self._left, len(self._buf))
                out += self._buf[:take]
                self._buf, self._left = self._buf[take:], self._left - take
                if self._left == 0:
                    self._left, self._crlf = -1, 2
        return bytes(out)


class SseParser:
    """Server-sent events (``event:`` and ``data:`` lines, a blank line ends a message), fed bytes as they
    arrive; returns the complete messages as (event, data). ``retry:`` and comment lines are dropped."""

    def __init__(self) -> None:
        self._text = ""
        self._utf8 = codecs.getincrementaldecoder("utf-8")()  # a character may be split across reads

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        self._text += self._utf8.decode(data).replace("\r\n", "\n")
        *blocks, self._text = self._text.split("\n\n")
        out = []
        for block in blocks:
            event, lines = "message", []
            for line in block.split("\n"):
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "event":
                    event = value
                elif name == "data":
                    lines.append(value)
            if lines:
                out.append((event, "\n".join(lines)))
        return out


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k == name.lower()), "")

    def cookies(self) -> dict[str, str]:
        """The Set-Cookie headers' names and values (attributes dropped)."""
        found = {}
        for k, v in self.headers:
            if k == "set-cookie":
                name, _, value = v.split(";", 1)[0].strip().partition("=")
                found[name] = value
        return found


def _head(raw: bytes) -> tuple[int, list[tuple[str, str]]]:
    first, *lines = raw.decode("latin-1").split("\r\n")
    status = int(first.split(" ", 2)[1])
    headers = []
    for line in lines:
        if line:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
    return status, headers


def _request_bytes(method: str, host: str, port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def request(host: str, port: int, method: str, path: str, headers: dict[str, str] | None = None,
                  form: dict[str, str] | None = None, timeout: float = 10.0) -> Reply:  # fmt: skip
    """One request on its own connection (``Connection: close``); the whole reply, read within ``timeout``."""
    hdrs = {"Connection": "close", **(headers or {})}
    body = b""
    if form is not None:
        body = urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"

    async def go() -> Reply:
        reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEAD)
        try:
            writer.write(_request_bytes(method, host, port, path, hdrs, body))
            await writer.drain()
            status, head = _head(await reader.readuntil(b"\r\n\r\n"))
            rest = await reader.read()
        finally:
            writer.close()
        reply = Reply(status, head, rest)
        if "chunked" in reply.header("transfer-encoding"):
            reply.body = Dechunker().feed(rest)
        return reply

    return await asyncio.wait_for(go(), timeout)


@dataclass
class StreamTally:
    """What one wallboard client saw over the run, across its reconnections."""

    events: Counter[str] = field(default_factory=Counter)  # snapshot, change, tick
    bytes: int = 0  # event-stream bytes (after the chunked coding)
    connects: int = 0
    cuts: int = 0  # streams that ended before the run did (each followed by a reconnection)
    errors: list[str] = field(default_factory=list)  # failed connections, refused or broken streams
    resnapshots: int = 0  # snapshots after a connection's first: the server dropped this client's queue
    delays: list[float] = field(default_factory=list)  # s, from each change's ``wall`` to this client reading it

    def take(self, event: str, data: str, read_at: float, first: bool) -> None:
        self.events[event] += 1
        if event == "snapshot" and not first:
            self.resnapshots += 1
        elif event == "change":
            self.delays.append(read_at - float(json.loads(data)["wall"]))


async def watch(host: str, port: int, path: str, cookie: str, tally: StreamTally, *,
                max_connects: int = 30, retry: float = 1.0) -> None:  # fmt: skip
    """Read the event stream until cancelled, reconnecting as a browser does (after ``retry`` s) when it is cut,
    at most ``max_connects`` times."""
    head = {"Cookie": cookie, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
    while tally.connects < max_connects:
        tally.connects += 1
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=MAX_HEAD), 10)
            writer.write(_request_bytes("GET", host, port, path, head, b""))
            await writer.drain()
            status, headers = _head(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10))
            kind = dict(headers).get("content-type", "")
            if status != 200 or not kind.startswith("text/event-stream"):
                tally.errors.append(f"HTTP {status} {kind}")
                return  # refused (signed out, forbidden): reconnecting would not change that
            dechunk, sse, first = Dechunker(), SseParser(), True
            while not dechunk.done:
                data = await reader.read(65536)
                read_at = time.time()
                if not data:
                    break
                payload = dechunk.feed(data)
                tally.bytes += len(payload)
                for event, body in sse.feed(payload):
                    tally.take(event, body, read_at, first)
                    first = first and event != "snapshot"
            tally.cuts += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        finally:
            if writer is not None:
                writer.close()
        await asyncio.sleep(retry)
