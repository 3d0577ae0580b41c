"""FastAGI server: a thin asyncio shell around ``AgiConnection``.

Each connection is its own task: a client that connects and sends nothing is dropped after
``env_timeout`` and a client that sends garbage is dropped at once; neither can stall other
sessions or the AMI link (unlike panoramisk 1.4's handler, docs/asterisk.md#panoramisk).

Sessions come from a transport: a TCP listener by default, in-memory pipes in the virtual PBX's virtual time
(``sim.vtime.MemoryAgiTransport``); the server's handling is the same for both.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Protocol

from engine.asterisk.agi_codec import (
    AgiConnection,
    AgiParseError,
    Environment,
    HangupNotice,
    Malformed,
    Response,
    quote_arg,
)

log = logging.getLogger("hotline.agi")

DEAD_OK = {"EXEC", "GET", "SET", "VERBOSE", "NOOP", "DATABASE", "ASYNCAGI", "SPEECH"}


class AgiTap(Protocol):
    """Sees a session's exchange as the engine sees it: ``env`` (text: the script), ``command`` (the line
    sent), ``reply`` (the response line), ``hangup`` (the out-of-band HANGUP line). For transcripts only."""

    def __call__(self, kind: str, env: Environment, text: str) -> None: ...


class AgiHangup(Exception):
    """The channel is gone (or was pulled out of AGI): stop sending media commands."""


class AgiClosed(Exception):
    """The session's socket closed or the peer broke the protocol."""


class AgiChannel:
    """What a route handler talks to: one FastAGI session."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        codec: AgiConnection,
        env: Environment,
        command_timeout: float,
        tap: AgiTap | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._codec = codec
        self.env = env
        self.command_timeout = command_timeout
        self.malformed = 0
        self._tap = tap
        self._backlog: list[Environment | Response | HangupNotice | Malformed] = []

    @property
    def hung_up(self) -> bool:
        return self._codec.hung_up

    @property
    def uniqueid(self) -> str:
        return self.env.get("uniqueid")

    @property
    def channel(self) -> str:
        return self.env.get("channel")

    async def command(self, *words: str, timeout: float | None = None) -> Response:
        """Send one command (words are quoted as needed) and wait for its response.

        Raises AgiHangup for 511 or a media command on a channel known to be dead.
        """
        name = words[0].split()[0].upper()
        if self._codec.hung_up and name not in DEAD_OK:
            raise AgiHangup(f"channel {self.channel} hung up before {words[0]}")
        line = " ".join([words[0], *(quote_arg(w) for w in words[1:])])
        self._writer.write(self._codec.send_command(line))
        if self._tap is not None:
            self._tap("command", self.env, line)
        await self._writer.drain()
        events, self._backlog = self._backlog, []
        while True:
            for i, ev in enumerate(events):
                if self._tap is not None and isinstance(ev, HangupNotice | Response):
                    self._tap("hangup" if isinstance(ev, HangupNotice) else "reply", self.env,
                              "HANGUP" if isinstance(ev, HangupNotice) else ev.line)  # fmt: skip
                if isinstance(ev, HangupNotice):
                    log.debug("AGI %s: HANGUP notice", self.channel)
                elif isinstance(ev, Malformed):
                    self.malformed += 1
                    log.warning("AGI %s: skipped malformed line (%s): %r", self.channel, ev.reason, ev.line)
                elif isinstance(ev, Response):
                    if ev.code == 511:
                        raise AgiHangup(f"channel {self.channel} is dead ({line})")
                    if ev.code == 520:
                        log.warning("AGI usage error for %r: %s", line, " ".join(ev.usage)[:200])
                    elif ev.code == 510:
                        log.warning("AGI: unknown command %r", line)
                    # lines read with the response (a HANGUP right behind it) belong to the next command
                    self._backlog = events[i + 1 :]
                    return ev
            try:
                data = await asyncio.wait_for(self._reader.read(4096), timeout or self.command_timeout)
            except TimeoutError:
                raise AgiClosed(f"no response to {line!r} in {timeout or self.command_timeout:.0f} s") from None
            if not data:
                raise AgiClosed("Asterisk closed the session")
            try:
                events = self._codec.feed(data)
            except AgiParseError as exc:
                raise AgiClosed(f"protocol error: {exc}") from None

    # small helpers for the commands every handler uses
    async def answer(self) -> None:
        await self.command("ANSWER")

    async def stream(self, prompt: str, escape: str = "") -> Response:
        return await self.command("STREAM FILE", prompt, escape)

    async def wait_digit(self, timeout_ms: int) -> str | None:
        return (await self.command("WAIT FOR DIGIT", str(timeout_ms))).digit

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, value)

    async def goto(self, context: str, exten: str, priority: str = "1") -> None:
        """Continue the dialplan there once the session closes (never a Redirect while in AGI)."""
        await self.command("SET CONTEXT", context)
        await self.command("SET EXTENSION", exten)
        await self.command("SET PRIORITY", priority)


Handler = Callable[[AgiChannel], Awaitable[None]]


class AgiListenError(Exception):
    """The FastAGI port cannot be listened on: the message names the address."""


SessionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class AgiTransport(Protocol):
    """Where FastAGI sessions come from: each one is handed to the server's handler as a (reader, writer) pair."""

    host: str
    port: int  # the real one once started (0 asks TCP for any free port)

    async def start(self, handle: SessionHandler) -> None:
        """Start taking sessions; OSError when it cannot (a port in use)."""
        ...

    async def serve(self) -> None:
        """Run until cancelled."""
        ...


class TcpAgiTransport:
    """Asterisk's FastAGI connections: the default transport."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self, handle: SessionHandler) -> None:
        self._server = await asyncio.start_server(handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()


class FastAgiServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 4573, *, env_timeout: float = 5.0,
                 command_timeout: float = 300.0, tap: AgiTap | None = None,
                 transport: AgiTransport | None = None) -> None:  # fmt: skip
        self.transport: AgiTransport = transport if transport is not None else TcpAgiTransport(host, port)
        self.env_timeout = env_timeout
        self.command_timeout = command_timeout
        self.routes: dict[str, Handler] = {}
        self.sessions = 0
        self.active = 0  # sessions open now
        self.rejected = 0
        self.malformed = 0
        self.tap = tap
        self.started = asyncio.Event()

    @property
    def host(self) -> str:
        return self.transport.host

    @property
    def port(self) -> int:
        return self.transport.port

    def route(self, name: str, handler: Handler) -> None:
        self.routes[name.strip("/")] = handler

    async def start(self) -> None:
        """Bind the listening socket; AgiListenError names the address when it cannot (e.g. already in use)."""
        try:
            await self.transport.start(self._handle)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's own text repeats the address
            raise AgiListenError(f"FastAGI cannot listen on {self.host}:{self.port}: {reason}") from exc
        self.started.set()
        log.info("FastAGI listening on %s:%s (routes: %s)", self.host, self.port, ", ".join(sorted(self.routes)))

    async def serve(self) -> None:
        if not self.started.is_set():
            await self.start()
        await self.transport.serve()

    async def _read_env(self, reader: asyncio.StreamReader, codec: AgiConnection) -> Environment | None:
        while True:
            data = await reader.read(4096)
            if not data:
                return None
            for ev in codec.feed(data):
                if isinstance(ev, Environment):
                    return ev
                if isinstance(ev, Malformed):
                    self.malformed += 1
                    log.warning("FastAGI: skipped malformed environment line (%s): %r", ev.reason, ev.line)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        codec = AgiConnection()
        try:
            try:
                env = await asyncio.wait_for(self._read_env(reader, codec), self.env_timeout)
            except TimeoutError:
                self.rejected += 1
                log.warning("FastAGI %s: no environment within %.0f s; closed", peer, self.env_timeout)
                return
            except AgiParseError as exc:
                self.rejected += 1
                log.warning("FastAGI %s: not AGI (%s); closed", peer, exc)
                return
            if env is None:
                self.rejected += 1
                log.info("FastAGI %s: closed before sending an environment", peer)
                return
            handler = self.routes.get(env.script)
            if handler is None:
                self.rejected += 1
                log.warning("FastAGI %s: no route for script %r; closed", peer, env.script)
                return
            self.sessions += 1
            if self.tap is not None:
                self.tap("env", env, env.script)
            chan = AgiChannel(reader, writer, codec, env, self.command_timeout, self.tap)
            self.active += 1
            try:
                await handler(chan)
            except AgiHangup as exc:
                log.info("FastAGI %s: %s", env.script, exc)
            except AgiClosed as exc:
                log.warning("FastAGI %s on %s: %s", env.script, chan.channel, exc)
            except Exception:
                log.exception("FastAGI handler %r failed on %s", env.script, chan.channel)
            finally:
                self.active -= 1
        finally:
            # closing promptly ends the AGI; a lingering socket keeps a dead channel (docs/asterisk.md#agi-session-end)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass
