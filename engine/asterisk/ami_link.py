"""The AMI link: panoramisk 1.4 behind one adapter, with the workarounds for its known bugs.

What panoramisk does here: action objects, ActionIDs and response correlation (including event
lists). What this module does instead of it (docs/asterisk.md#panoramisk):

* framing: our sans-I/O ``AmiDecoder`` replaces panoramisk's per-chunk split, so a UTF-8 character
  split across reads is not dropped (bug 11) and a malformed frame is logged and skipped;
* every action gets an explicit ``as_list`` (bug 1: QueueAdd never completing) and Originate always an
  explicit ``Async`` header (bug 2: a missing one crashes the protocol); Originate completes on the
  first response, so OriginateResponse reaches the event stream (bug 3);
* actions pending when the link drops fail at once and are never re-sent (a re-sent Originate would
  dial twice), instead of waiting for a FullyBooted that may never come;
* our own keepalive checks the Pong (panoramisk's pinger never does) and our own reconnect loop backs
  off exponentially;
* a resync (CoreShowChannels) runs after every login and every FullyBooted, and ``ready`` is set only
  after it, so nothing decides on a stale picture of Asterisk.

Everything reaches the engine through one ordered queue: LinkUp, Frame, ResyncBegun, Resync, LinkDown. A
resync's listing is older than the events queued between its ``ResyncBegun`` and itself (a caller can arrive
while Asterisk lists the channels and the devices): the model keeps what those events say over the listing.

The far end is a transport (``engine.asterisk.ami_transport``): TCP to Asterisk by default, the virtual PBX's
in-process handlers in virtual time; the logic above is the link's whichever it is.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from engine.asterisk.ami_codec import AmiDecoder, AmiParseError, Banner, Frame, encode_action
from engine.asterisk.ami_transport import AmiSession, AmiSink, AmiTransport
from engine.clock import Clock

log = logging.getLogger("hotline.ami")


class AmiError(Exception):
    """An action failed: Response Error, timeout, or the link dropped."""


class AmiTimeout(AmiError):
    pass


class AmiDisconnected(AmiError):
    pass


@dataclass(frozen=True)
class LinkUp:
    version: str
    connection: int


@dataclass(frozen=True)
class LinkDown:
    reason: str
    connection: int


@dataclass(frozen=True)
class ResyncBegun:
    """Queued as the listing is asked for: the events after this may be newer than the listing."""

    connection: int
    reason: str


@dataclass(frozen=True)
class Resync:
    channels: list[Frame]
    connection: int
    reason: str
    devices: list[Frame] = field(default_factory=list)  # DeviceStateChange items of DeviceStateList


LinkItem = LinkUp | LinkDown | ResyncBegun | Resync | Frame | list[Frame]  # a list: the events of one read, in order


LINK_EVENTS = frozenset({"FullyBooted"})  # the link's own: Asterisk (re)booted under the connection


@dataclass
class LinkStats:
    connects: int = 0
    malformed: int = 0
    events: int = 0
    skipped: int = 0  # events of no use to the engine, passed over unparsed (``AmiLink.only``)
    resyncs: int = 0
    ping_failures: int = 0


class _Factory:
    """What AMIProtocol expects of its factory; we never let it queue actions for re-sending."""

    forgetable_actions: tuple[str, ...] = ()
    save_stream = None

    def __init__(self, link: AmiSink) -> None:
        self.link = link
        self.awaiting_actions: list[Any] = []

    def connection_lost(self, exc: object) -> None:
        self.link.on_lost(str(exc) if exc else "connection closed")

    def dispatch(self, message: Message) -> None:  # pragma: no cover - handle_message bypasses it
        pass


class _Protocol(AMIProtocol):
    """The TCP session: panoramisk's protocol with our decoder; ``link`` is the sink it reports to."""

    keepalive = True

    def __init__(self, link: AmiSink) -> None:
        self.link = link

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.decoder = AmiDecoder(events=self.link.events)
        self.log = log
        self.factory = _Factory(self.link)
        self.encoding = "utf-8"

    def data_received(self, data: bytes) -> None:
        events: list[Frame] = []  # queued together, one item for the read (or up to a response among them)
        decoder = self.decoder
        items = decoder.feed(data)
        if decoder.skipped:
            self.link.on_skipped(decoder.skipped)
            decoder.skipped = 0
        for item in items:
            if isinstance(item, Banner):
                self.version = item.version
                self.link.on_banner(item.version)
            elif isinstance(item, AmiParseError):
                self.link.on_malformed(item)
            else:
                events = self._frame(item, events)
        if events:
            self.link.on_events(events)

    def _frame(self, frame: Frame, events: list[Frame]) -> list[Frame]:
        pending = None
        if self.responses and frame.action_id:  # no action waiting (most reads): no look-up
            pending = self.responses.get(frame.action_id)
        if pending is not None:
            if events:  # the events before it reach the queue before its action's caller is told
                self.link.on_events(events)
                events = []
            message = Message(frame.as_dict())
            message.frame = frame  # keep headers in order, repeated ones included
            super().handle_message(message)
        elif frame.is_event:
            events.append(frame)
        else:
            log.debug("AMI: response for no pending action: %s", frame.as_dict())
        return events

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_pending(f"AMI connection lost: {exc or 'closed'}")
        super().connection_lost(exc)

    def _fail_pending(self, reason: str) -> None:
        for action in list(self.responses.values()):
            if not action.future.done():
                action.future.set_exception(AmiDisconnected(reason))
        self.responses.clear()

    async def request(self, headers: dict[str, Any], as_list: bool, timeout: float) -> Frame | list[Frame]:
        action = Action(headers, as_list=as_list)
        fut = self.send(action, as_list=as_list)
        try:
            result = await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            self.responses.pop(action.id, None)
            raise AmiTimeout(f"AMI {headers.get('Action')} got no response in {timeout:.1f} s") from None
        return _unwrap(result)

    def abort(self) -> None:
        self.transport.abort()


def _unwrap(result: Any) -> Frame | list[Frame]:
    if isinstance(result, list):
        return [getattr(m, "frame", None) or Frame(list(m.items())) for m in result]
    return getattr(result, "frame", None) or Frame(list(result.items()))


@dataclass(frozen=True)
class TcpTransport:
    """Asterisk's AMI over TCP: the default transport."""

    host: str
    port: int

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def open(self, sink: AmiSink) -> AmiSession:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(lambda: _Protocol(sink), self.host, self.port)
        assert isinstance(proto, _Protocol)
        return proto


@dataclass
class AmiLink:
    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    clock: Clock
    action_timeout: float = 10.0
    ping_interval: float = 5.0
    backoff_max: float = 10.0
    transport: AmiTransport | None = None  # None: TCP to host:port
    # the event names the engine uses (its call model's and its features' hooks'); the rest is passed over
    # unparsed; None: every event (tools that record or show everything)
    only: set[str] | None = None

    def __post_init__(self) -> None:
        if self.transport is None:
            self.transport = TcpTransport(self.host, self.port)
        self.queue: asyncio.Queue[LinkItem] = asyncio.Queue()
        self.ready = asyncio.Event()
        self.stats = LinkStats()
        self._protocol: AmiSession | None = None  # the open session
        self._connection = 0
        self._lost_event = asyncio.Event()
        self._lost_reason = ""
        self._closing = False
        self._banner_seen = asyncio.Event()
        self._booted = asyncio.Event()
        self._rng = random.Random()

    # ---- the session's reports (the AmiSink; sync, in the loop) ------------------------------
    def on_banner(self, version: str) -> None:
        self.version = version
        self._banner_seen.set()

    def on_malformed(self, error: AmiParseError) -> None:
        self.stats.malformed += 1
        log.warning("AMI: skipped malformed frame (%s): %r", error, error.raw[:120])

    def on_events(self, frames: list[Frame]) -> None:
        self.stats.events += len(frames)
        now = time.monotonic()  # real seconds, whatever the engine's clock: how late the model is
        for frame in frames:
            frame.received = now
        self.queue.put_nowait(frames if len(frames) > 1 else frames[0])
        for frame in frames:
            if frame.event == "FullyBooted":
                self._booted.set()
                if self.ready.is_set():
                    # Asterisk (re)booted under a live connection: the picture may be stale
                    asyncio.get_running_loop().create_task(self._resync("FullyBooted"), name="ami-resync")

    def on_lost(self, reason: str) -> None:
        self._lost_reason = reason
        self._lost_event.set()

    def on_skipped(self, count: int) -> None:
        self.stats.skipped += count

    @property
    def events(self) -> set[str] | None:
        """What a session's reader passes on: ``only`` (the very set: names added later count at once), with
        what the link itself watches for."""
        if self.only is not None and not LINK_EVENTS <= self.only:
            self.only |= LINK_EVENTS
        return self.only

    # ---- public API ---------------------------------------------------------------------------
    async def action(self, headers: dict[str, Any], *, as_list: bool = False, timeout: float | None = None) -> Any:
        """Send an action; return its response Frame (or list of Frames for list actions).

        Raises AmiError on ``Response: Error``, AmiTimeout, AmiDisconnected.
        """
        proto = self._protocol
        if proto is None or proto.closed:
            raise AmiDisconnected("AMI link is down")
        if headers.get("Action", "").lower() == "originate" and not any(k.lower() == "async" for k in headers):
            headers = {**headers, "Async": "false"}
        encode_action({k: v for k, v in headers.items() if not isinstance(v, list | tuple)})  # rejects CR/LF
        frames = await proto.request(headers, as_list, timeout or self.action_timeout)
        first = frames[0] if isinstance(frames, list) else frames
        if first.response.lower() == "error":
            raise AmiError(f"AMI {headers.get('Action')}: {first.get('Message') or 'error'}")
        return frames

    async def close(self) -> None:
        self._closing = True
        if self._protocol is not None and not self._protocol.closed:
            try:
                await self.action({"Action": "Logoff"}, timeout=2)
            except AmiError:
                pass
            self._protocol.close()

    def drop(self) -> None:
        """Cut the connection (tests, and the keepalive when a Pong is missing)."""
        if self._protocol is not None and not self._protocol.closed:
            self._protocol.abort()

    # ---- the connection loop ------------------------------------------------------------------
    async def run(self) -> None:
        delay = 0.5
        transport = self.transport
        assert transport is not None
        task = asyncio.current_task()
        assert task is not None
        while not self._closing:
            self._lost_event = asyncio.Event()
            self._banner_seen = asyncio.Event()
            self._booted = asyncio.Event()
            try:
                # not wait_for: on 3.11 it returns the inner result (here a refused connect) when the cancel and
                # the failure meet in one loop turn, and the OSError branch below then swallowed the cancel
                async with asyncio.timeout(self.action_timeout):
                    proto = await transport.open(self)
            except (OSError, TimeoutError) as exc:
                if task.cancelling():
                    raise asyncio.CancelledError from exc
                log.warning("AMI: cannot connect to %s (%s); retrying in %.1f s", transport.where, exc, delay)
                await self.clock.sleep(delay + self._rng.uniform(0, delay / 4))
                delay = min(delay * 2, self.backoff_max)
                continue
            self._protocol = proto
            self._connection += 1
            try:
                await self._session()
                delay = 0.5  # a session that got logged in resets the backoff
            except AmiError as exc:
                log.error("AMI: %s", exc)
            finally:
                self.ready.clear()
                if not proto.closed:
                    proto.close()
                self._protocol = None
                if not self._closing:
                    reason = self._lost_reason or "closed"
                    self.queue.put_nowait(LinkDown(reason, self._connection))
                    log.warning("AMI: link down (%s); reconnecting in %.1f s", reason, delay)
            if not self._closing:
                await self.clock.sleep(delay + self._rng.uniform(0, delay / 4))
                delay = min(delay * 2, self.backoff_max)

    async def _session(self) -> None:
        # a server that closes at once (Asterisk still starting, a proxy with nothing behind it) is retried now,
        # not after the whole banner timeout
        seen = asyncio.ensure_future(self._banner_seen.wait())
        lost = asyncio.ensure_future(self._lost_event.wait())
        await asyncio.wait([seen, lost], timeout=self.action_timeout, return_when=asyncio.FIRST_COMPLETED)
        seen.cancel()
        lost.cancel()
        if not self._banner_seen.is_set():
            raise AmiError("connection closed before the AMI banner" if self._lost_event.is_set()
                           else "no AMI banner from the server")  # fmt: skip
        resp = await self.action({"Action": "Login", "Username": self.username, "Secret": self.secret, "Events": "on"})
        assert self.transport is not None
        log.info("AMI: logged in to %s as %s (%s)", self.transport.where, self.username, resp.get("Message"))
        self.stats.connects += 1
        self.queue.put_nowait(LinkUp(getattr(self, "version", ""), self._connection))
        # Asterisk sends FullyBooted to every new session, at once when it is up, else when its boot ends; a
        # listing asked for while it still boots was seen never to be answered (the link stayed not ready for
        # 24 s after an Asterisk restart). A server that never says it falls back after the timeout.
        booted = asyncio.ensure_future(self._booted.wait())
        lost = asyncio.ensure_future(self._lost_event.wait())
        await asyncio.wait([booted, lost], timeout=max(self.action_timeout, 30), return_when=asyncio.FIRST_COMPLETED)
        booted.cancel()
        lost.cancel()
        if self._lost_event.is_set():
            raise AmiError("connection lost before FullyBooted")
        await self._resync("login")
        if self._protocol is None or not self._protocol.keepalive:
            await self._lost_event.wait()
            return
        async with asyncio.TaskGroup() as tg:
            pinger = tg.create_task(self._keepalive(), name="ami-keepalive")
            await self._lost_event.wait()
            pinger.cancel()

    async def _resync(self, reason: str) -> None:
        self.queue.put_nowait(ResyncBegun(self._connection, reason))
        frames = await self.action({"Action": "CoreShowChannels"}, as_list=True, timeout=max(self.action_timeout, 30))
        channels = [f for f in frames if f.event == "CoreShowChannel"]
        devices = await self.action({"Action": "DeviceStateList"}, as_list=True, timeout=max(self.action_timeout, 30))
        self.stats.resyncs += 1
        self.queue.put_nowait(Resync(channels, self._connection, reason,
                                     [f for f in devices if f.event == "DeviceStateChange"]))  # fmt: skip
        self.ready.set()
        log.info("AMI: resync after %s: %d live channel(s)", reason, len(channels))

    async def _keepalive(self) -> None:
        while True:
            await self.clock.sleep(self.ping_interval)
            try:
                resp = await self.action({"Action": "Ping"}, timeout=min(self.action_timeout, self.ping_interval * 2))
                if resp.get("Ping") != "Pong":
                    raise AmiError(f"unexpected ping reply {resp.as_dict()}")
            except AmiError as exc:
                self.stats.ping_failures += 1
                log.error("AMI: keepalive failed (%s); dropping the link", exc)
                self._lost_reason = f"keepalive: {exc}"
                self.drop()
                return
