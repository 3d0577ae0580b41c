"""Shared fixtures of the browser tests: one Chromium for the whole run (Debian's build, driven by Playwright),
and `hotline demo --http` serving the console on the virtual PBX; and `summary`, lines a test prints at the end of
the run (the fidelity table), from pytest-xdist's workers too.

The browser starts only when a test asks for it. Its binary is Debian's `chromium` package (installed by
`scripts/setup.sh --test`); HOTLINE_CHROMIUM names another. Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/lib/chromium/chromium")  # the Debian package's binary
START_BOUND = 60.0  # real seconds the demo may take to listen; only keeps a hang from hanging the suite
TIMINGS: dict[str, float] = {}  # what the fixtures' starts took, printed at the end of the run
NOTES: list[str] = []  # what tests leave for the end of the run (fixture `summary`)
FROM_WORKERS: list[str] = []  # the same, from pytest-xdist's workers


@dataclass
class Demo:
    url: str  # http://127.0.0.1:PORT
    proc: subprocess.Popen  # type: ignore[type-arg]
    workdir: Path
    lines: list[str] = field(default_factory=list)

    def credentials(self, role: str) -> tuple[str, str]:
        """The user and password the demo made for ``role`` (its demo-credentials.json)."""
        c = json.loads((self.workdir / "demo-credentials.json").read_text())[role]
        return c["user"], c["password"]


async def sign_in(browser: Any, demo: Demo, role: str, **context: Any) -> tuple[Any, Any]:
    """A new browser context signed in through the sign-in form as the demo's user of ``role``: (context, page)."""
    ctx = await browser.new_context(**context)
    page = await ctx.new_page()
    user, password = demo.credentials(role)
    await page.goto(f"{demo.url}/signin")
    await page.locator("#name").fill(user)  # by id: the form's words follow the browser's language
    await page.locator("#password").fill(password)
    async with page.expect_navigation():
        await page.locator("button[type=submit]").click()
    assert "/signin" not in page.url, f"{role} could not sign in: {await page.content()}"
    return ctx, page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """Playwright's async API in the session's own event loop: its sync API would leave a loop running in this
    thread and break every asyncio test after it. Browser tests run in that loop too
    (``pytest.mark.asyncio(loop_scope="session")``)."""
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: scripts/setup.sh --test installs Debian's chromium"
    t0 = time.monotonic()
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        TIMINGS["browser start (s)"] = time.monotonic() - t0
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture(scope="module")
def demo_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`hotline demo --http` for one simulated hour at 60x (about a minute), serving the console; stopped at the
    module's end whatever it is doing."""
    port = _free_port()
    work = tmp_path_factory.mktemp("demo-http")
    t0 = time.monotonic()
    p = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "demo", "--hours", "1", "--speed", "60", "--start", "10",
         "--outbound-agents", "4", "--no-live", "--http", f"127.0.0.1:{port}", "--workdir", str(work),
         "--no-actors"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    demo = Demo(f"http://127.0.0.1:{port}", p, work)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert p.stdout is not None
        for line in p.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + START_BOUND
        while not any("wallboard at" in s for s in demo.lines):
            assert p.poll() is None and time.monotonic() < deadline, "the demo did not serve:\n" + "".join(demo.lines)
            try:
                demo.lines.append(lines.get(timeout=0.2))
            except queue.Empty:
                pass
        TIMINGS["demo --http start (s)"] = time.monotonic() - t0
        yield demo
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save their screenshots: the README's docs/ with HOTLINE_SCREENSHOTS=1 (`make
    screenshots`), else a temporary folder (a test run leaves the working tree as it was)."""
    if os.environ.get("HOTLINE_SCREENSHOTS") == "1":
        return ROOT / "docs"
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def signed_in(browser: Any) -> Any:
    """``await signed_in(demo, role, **context)``: a browser context and page signed in as ``role``."""

    async def open_as(demo: Demo, role: str, **context: Any) -> tuple[Any, Any]:
        return await sign_in(browser, demo, role, **context)

    return open_as


@pytest.fixture(scope="session")
def summary() -> list[str]:
    """Lines a test leaves for the end of the run: shown also under pytest-xdist, whose workers' output is not."""
    return NOTES


def _lines() -> list[str]:
    timings = ["browser fixtures: " + ", ".join(f"{k} {v:.2f}" for k, v in TIMINGS.items())] if TIMINGS else []
    return NOTES + timings


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)  # set in a pytest-xdist worker only
    if workeroutput is not None:
        workeroutput["summary"] = _lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: a worker ended; keep its lines."""
    FROM_WORKERS.extend(getattr(node, "workeroutput", {}).get("summary", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for text in _lines() + FROM_WORKERS:
        for line in text.splitlines():
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """One private PostgreSQL 15 for the run (tests/postgres.py), started when a test first asks for it."""
    from tests.postgres import Postgres

    t0 = time.monotonic()
    pg = Postgres()
    pg.start()
    TIMINGS["postgres start (s)"] = time.monotonic() - t0
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind: a SQLite file, a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres").new_database())
