"""The virtual PBX's virtual-time face: the same model and the unchanged engine, no sockets, no waiting.

Three in-memory stand-ins replace the network and the disk: two transports under the engine's own link and
server, and the store:

* ``VirtualAmiTransport``: the engine's AMI link (``virtual_link``) bound to the virtual PBX's AMI session
  handlers. Actions get the very responses the AMI server would send; events reach the engine as the same
  header lists, without being encoded to bytes and parsed back.
* ``MemoryAgiTransport``: FastAGI sessions over an in-memory stream pair (``memory_pipe``) instead of a TCP
  connection (the bytes are the real protocol, so the engine's AGI codec and IVR run unchanged).
* ``MemoryStore``: the ledger and call records in memory, with the store's interface.

``drive`` is the discrete-event loop: it lets every runnable task run, and when all of them wait on the
virtual clock, it moves the clock to the next deadline. Nothing here may wait on real time or real I/O,
or the day would run ahead of it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiDisconnected, AmiError, AmiLink
from engine.asterisk.ami_transport import AmiSession, AmiSink
from engine.asterisk.fastagi import SessionHandler
from engine.clock import VirtualClock
from engine.model.facts import Fact
from engine.model.records import CallRecord, derive, derive_one
from sim.pbx.ami_face import AmiFace, _Session
from sim.pbx.model import Headers, VirtualPbx

log = logging.getLogger("hotline.vtime")


# ---- AMI without a socket -----------------------------------------------------------------------------
class _DirectSession(_Session):
    """The AMI server's session, its output routed straight to the link instead of a socket."""

    keepalive = False  # an in-process session cannot go silent

    def __init__(self, face: AmiFace, sink: AmiSink) -> None:
        super().__init__(face, None)  # type: ignore[arg-type]
        self.sink = sink
        self.collect: tuple[str, list[Headers]] | None = None  # (ActionID, frames) of the action being handled
        self._closed = False
        self._ids = itertools.count(1)

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, headers: Headers) -> None:
        if self._closed:
            return
        if self.collect is not None:
            aid, out = self.collect
            if any(k == "ActionID" and v == aid for k, v in headers):
                out.append(headers)
                return
        if headers and headers[0][0] == "Event":
            only = self.sink.events
            if only is not None and headers[0][1] not in only and not any(k == "ActionID" for k, _ in headers):
                self.sink.on_skipped(1)  # as the TCP session's reader passes it over
                return
            self.sink.on_events([Frame(list(headers))])

    async def request(self, headers: dict[str, Any], as_list: bool, timeout: float) -> Frame | list[Frame]:
        if self._closed:
            raise AmiDisconnected("virtual PBX session is closed")
        aid = f"direct-{next(self._ids)}"
        fields = [(k, str(v)) for k, v in headers.items() if not isinstance(v, list | tuple)]
        fields += [(k, str(x)) for k, v in headers.items() if isinstance(v, list | tuple) for x in v]
        out: list[Headers] = []
        self.collect = (aid, out)
        try:
            keep = await self.handle(Frame([*fields, ("ActionID", aid)]))
        finally:
            self.collect = None
        if not keep:  # Logoff, a refused login: the server ends the session
            self._end("closed by the virtual PBX")
        if not out:
            raise AmiError(f"AMI {headers.get('Action')}: no response from the virtual PBX")
        frames = [Frame(h) for h in out]
        return frames if as_list else frames[0]

    def close(self) -> None:
        self._end("closed")

    def abort(self) -> None:
        self._end("aborted")

    def _end(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            super().close()  # off the PBX's listeners
            self.sink.on_lost(reason)


class VirtualAmiTransport:
    """The AMI transport whose far end is the virtual PBX in this process: actions get the very responses its AMI
    server would send, events reach the link as the same header lists, never encoded to bytes and parsed back."""

    def __init__(self, pbx: VirtualPbx, username: str = "engine", secret: str = "") -> None:
        self.face = AmiFace(pbx, "virtual-pbx", 0, username, secret)

    @property
    def where(self) -> str:
        return "the virtual PBX"

    async def open(self, sink: AmiSink) -> AmiSession:
        session = _DirectSession(self.face, sink)
        sink.on_banner("virtual")
        return session


def virtual_link(pbx: VirtualPbx, clock: VirtualClock) -> AmiLink:
    """The engine's own AMI link on the virtual PBX (it logs in with the transport's credentials)."""
    return AmiLink("virtual-pbx", 0, "engine", "", clock, transport=VirtualAmiTransport(pbx))


# ---- FastAGI without a socket -------------------------------------------------------------------------
class _MemoryWriter:
    """The writing half of an in-memory stream: bytes go straight into the peer's reader."""

    def __init__(self, peer: asyncio.StreamReader) -> None:
        self.peer = peer
        self.closed = False

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.peer.feed_data(data)

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.peer.feed_eof()

    def is_closing(self) -> bool:
        return self.closed

    async def wait_closed(self) -> None:
        return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("memory", 0) if name == "peername" else default


def memory_pipe() -> tuple[tuple[asyncio.StreamReader, _MemoryWriter], tuple[asyncio.StreamReader, _MemoryWriter]]:
    """Two connected (reader, writer) ends."""
    a, b = asyncio.StreamReader(), asyncio.StreamReader()
    return (a, _MemoryWriter(b)), (b, _MemoryWriter(a))


# ---- the store in memory ------------------------------------------------------------------------------
class MemoryStore:
    """The store's interface over lists: facts keyed (idempotent) and call records derived the same way."""

    engine = None  # no SQL engine: the queue_log goes to its file only

    def __init__(self) -> None:
        self.url = "memory:"
        self._facts: list[Fact] = []
        self._keys: set[str] = set()
        self._by_call: dict[str, list[Fact]] = {}
        self._records: dict[str, CallRecord] = {}
        self.record_hooks: list[Callable[[dict[str, Any]], None]] = []  # as the SQL store's

    async def close(self) -> None:
        return None

    async def append(self, facts: list[Fact], recorded_at: float) -> int:
        new = 0
        for f in facts:
            if f.key in self._keys:
                continue
            self._keys.add(f.key)
            self._facts.append(f)
            self._by_call.setdefault(f.call_id, []).append(f)
            new += 1
        return new

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]:  # fmt: skip
        found = list(self._facts) if call_id is None else list(self._by_call.get(call_id, ()))
        return [f for f in found if (not kinds or f.kind in kinds) and (since is None or f.at >= since)]

    async def update_record(self, call_id: str) -> CallRecord | None:
        rec = derive_one(call_id, self._by_call.get(call_id, []))
        if rec is not None:
            self._records[call_id] = rec
            row = rec.as_row()
            for hook in self.record_hooks:
                hook(row)
        else:
            self._records.pop(call_id, None)
        return rec

    async def unrecorded_calls(self, since: float) -> list[str]:
        ended = {f.call_id for f in self._facts if f.kind == "call.end" and f.at >= since}
        return list(dict.fromkeys(f.call_id for f in self._facts if f.kind == "channel.new" and f.at >= since
                                  and f.data.get("role") == "caller" and f.call_id in ended
                                  and f.call_id not in self._records))  # fmt: skip

    async def open_calls(self, since: float) -> list[str]:
        ended = {f.call_id for f in self._facts if f.kind == "call.end"}
        return list(dict.fromkeys(f.call_id for f in self._facts if f.kind == "channel.new" and f.at >= since
                                  and f.data.get("role") == "caller" and f.call_id not in ended))  # fmt: skip

    async def rebuild_records(self) -> int:
        self._records = {r.call_id: r for r in derive(self._facts)}
        return len(self._records)

    async def records(self, since: float | None = None) -> list[dict[str, object]]:
        rows = sorted(self._records.values(), key=lambda r: r.arrived_at)
        return [r.as_row() for r in rows if since is None or r.arrived_at >= since]


# ---- the discrete-event loop --------------------------------------------------------------------------
async def settle(max_rounds: int = 100_000) -> None:
    """Yield until no task is runnable (all wait on the virtual clock or on each other)."""
    loop = asyncio.get_running_loop()
    ready = loop._ready  # type: ignore[attr-defined]  # CPython's run queue: the only way to see "idle"
    for _ in range(max_rounds):
        await asyncio.sleep(0)
        if not ready:
            return
    raise RuntimeError("virtual time: tasks kept each other busy without the clock moving (a busy loop?)")


async def drive(clock: VirtualClock, until: float, stop: Callable[[], bool] = lambda: False,
                on_step: Callable[[float], None] | None = None) -> float:  # fmt: skip
    """Run the simulation to ``until`` on the clock's ``monotonic`` scale (or until ``stop()``)."""
    while True:
        await settle()
        if stop():
            return clock.monotonic()
        nxt = clock.next_deadline()
        if nxt is None or nxt > until:
            clock.advance_to(until)
            await settle()
            return clock.monotonic()
        clock.advance_to(nxt)
        if on_step is not None:
            on_step(nxt)


class MemoryAgiTransport:
    """FastAGI sessions over in-memory pipes: ``connect`` is what the virtual PBX's AGI face calls, and the
    server's handler gets the other end."""

    host = "memory"
    port = 0

    def __init__(self) -> None:
        self._handle: SessionHandler | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self, handle: SessionHandler) -> None:
        self._handle = handle  # no socket to bind

    async def serve(self) -> None:
        await asyncio.Event().wait()  # sessions arrive through ``connect``

    async def connect(self) -> tuple[asyncio.StreamReader, _MemoryWriter]:
        if self._handle is None:
            raise ConnectionRefusedError("the engine's FastAGI server has not started")
        client, server = memory_pipe()
        task = asyncio.get_running_loop().create_task(self._handle(*server), name="fastagi-session")  # type: ignore[arg-type]
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)
        return client
