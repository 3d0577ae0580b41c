"""Fixtures for tests against the real Asterisk 22 lab and real SIPp.

The lab is provisioned by `hotline lab up` (root and debootstrap required; CI runs as root). If it
cannot be provisioned these tests fail with the lab's own message: they are the proof of the core.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "lab-site.toml"


@pytest.fixture(scope="session")
def lab():
    if shutil.which("sipp") is None:
        pytest.fail("sipp is missing: run `make setup` (Debian package sip-tester)")
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(SITE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if r.returncode != 0:
        pytest.fail(f"hotline lab up failed:\n{r.stdout}\n{r.stderr}")
    yield r.stdout.strip()
    # leave Asterisk running: `hotline lab down` stops it; the next session reuses it


class AmiProxy:
    """A TCP proxy between the engine and Asterisk's AMI, so a test can cut the link or inject bytes."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self.pending: bytes = b""
        self.injected = 0
        self.connections = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _client(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection(*self.upstream)
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

    def cut(self) -> None:
        for cw, uw in self.pairs:
            cw.transport.abort()
            uw.transport.abort()
        self.pairs.clear()

    def close(self) -> None:
        self.cut()
        self.server.close()
