"""A TCP proxy between the engine and Asterisk's AMI: cutting it is a real TCP abort of the engine's link.

Tests cut the link or inject bytes between frames; ``hotline sim chaos`` cuts it as one of its faults.
"""

from __future__ import annotations

import asyncio


class AmiProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self.pending: bytes = b""
        self.injected = 0
        self.connections = 0
        self.refused = 0  # clients dropped because Asterisk was not listening (e.g. while it restarts)

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _client(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        try:
            ur, uw = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.refused += 1
            cw.transport.abort()  # the engine sees what it would see without the proxy: no AMI
            return
        self.connections += 1
        self.pairs.append((cw, uw))

        async def pump(r: asyncio.StreamReader, w: asyncio.StreamWriter, to_engine: bool) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    # inject only between frames, so no real event is damaged
                    if to_engine and self.pending and data.endswith(b"\r\n\r\n"):
                        w.write(self.pending)
                        self.pending = b""
                        self.injected += 1
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.close()

        await asyncio.gather(pump(cr, uw, False), pump(ur, cw, True))

    def cut(self) -> int:
        """Abort every connection through the proxy; return how many."""
        n = len(self.pairs)
        for cw, uw in self.pairs:
            cw.transport.abort()
            uw.transport.abort()
        self.pairs.clear()
        return n

    def close(self) -> None:
        self.cut()
        self.server.close()
