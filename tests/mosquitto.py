"""A throwaway mosquitto for tests: its own config, a free loopback port, no persistence, stopped by the test.

Never the system's service: the Debian package may run one on 1883, and nothing here relies on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from sim.ports import tcp_free_port


def binary() -> str:
    found = shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if found is None:
        pytest.fail("mosquitto is missing: run `make setup-test` (scripts/setup.sh --test installs Debian's mosquitto)")
    return found


class Mosquitto:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.exe = binary()
        self.port = port or tcp_free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                             "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n")  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        assert self.proc is None
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited {self.proc.returncode}: {self.log.read_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                self.starts += 1
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no goodbye to anyone, and (persistence off) every retained message gone."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None


async def retained(port: int, pattern: str, until: Any, timeout: float = 15.0) -> dict[str, dict[str, Any]]:
    """Topic -> JSON payload of the retained messages a fresh subscriber to ``pattern`` gets, read until
    ``until(got)`` holds (or ``timeout``). The broker sends its retained copies right after the subscription,
    so when no retained one comes for half a second a new subscriber asks again (also while it is down)."""
    got: dict[str, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until(got) and loop.time() < deadline:
        got.clear()  # each attempt is a fresh subscriber: only what the broker retains now counts
        try:
            async with aiomqtt.Client("127.0.0.1", port, timeout=2) as client:
                await client.subscribe(pattern)
                quiet_until = loop.time() + 0.5  # live (not retained) messages do not count
                messages = aiter(client.messages)
                while not until(got):
                    m = await asyncio.wait_for(anext(messages), max(0.0, quiet_until - loop.time()))
                    if m.retain:
                        got[str(m.topic)] = json.loads(bytes(m.payload))
                        quiet_until = loop.time() + 0.5
        except (aiomqtt.MqttError, TimeoutError):
            await asyncio.sleep(0.2)
    return got
