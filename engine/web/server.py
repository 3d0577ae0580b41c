"""The engine's HTTP listener: uvicorn serving an ASGI app in the engine's own event loop, as one named task.

The socket is bound up front (``bind``), so a taken port is a one-line error naming the setting before anything
else starts, instead of uvicorn's own exit from inside a task. The engine keeps its signal handlers: uvicorn's
are not installed, and a cancelled task closes the socket and the open connections at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

log = logging.getLogger("hotline.http")


class HttpListenError(Exception):
    """The HTTP listener's address cannot be listened on: the message names the setting and the address."""

    def __init__(self, setting: str, address: str, reason: str) -> None:
        super().__init__(f"{setting}: cannot listen on {address}: {reason}")
        self.setting = setting
        self.address = address
        self.reason = reason


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # SIGTERM / SIGINT stop the whole engine (composition.run_engine), not this listener alone


class HttpServer:
    def __init__(self, app: Any, host: str, port: int, setting: str = "http.listen") -> None:
        self.app = app
        self.host = host
        self.port = port
        self.setting = setting  # named in the error: what to change
        self._sock: socket.socket | None = None
        self._server: _Server | None = None

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def bind(self) -> None:
        """Listen now; HttpListenError when the address is taken or not this machine's."""
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
            family, kind, proto, _, addr = infos[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:  # a host name that does not resolve
            raise HttpListenError(self.setting, self.address, str(exc)) from exc
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart within TIME_WAIT still binds
            sock.bind(addr)
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise HttpListenError(self.setting, self.address, reason) from exc
        self._sock = sock
        self.port = int(sock.getsockname()[1])  # the real one when 0 was asked for
        log.info("HTTP listening on %s (/metrics, /signin, /wallboard)", self.url)

    async def serve(self) -> None:
        """Named task: serve until cancelled."""
        if self._sock is None:
            self.bind()
        assert self._sock is not None
        # log_config None: uvicorn's records go through the engine's logging, only warnings and errors
        config = uvicorn.Config(self.app, lifespan="off", access_log=False, log_config=None, log_level="warning",
                                timeout_graceful_shutdown=1)  # fmt: skip
        self._server = server = _Server(config)
        try:
            await server.serve(sockets=[self._sock])
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening and drop the open connections (synchronous: it runs while the task is cancelled)."""
        server = self._server
        if server is not None:
            for listener in getattr(server, "servers", []):
                listener.close()
            state = server.server_state
            for conn in list(state.connections):
                conn.shutdown()
            for task in list(state.tasks):
                task.cancel()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

