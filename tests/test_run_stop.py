"""`hotline run` stops: at once with exit 2 when its FastAGI port is taken, and on SIGTERM / SIGINT while
Asterisk is unreachable; the AMI link never swallows the cancellation that stops it."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from engine.asterisk.ami_link import AmiLink
from engine.clock import RealClock

ROOT = Path(__file__).resolve().parent.parent
BOUND = 60.0  # generous: these runs take about a second; the bound only keeps a hang from hanging the suite


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _site(tmp_path: Path, agi_port: int, http: str = "") -> Path:
    """A site whose AMI is a closed loopback port (connection refused) and whose FastAGI port and HTTP listener
    are given (none by default: parallel runs never meet on one port)."""
    (tmp_path / "secret").write_text("not-a-real-secret\n")
    (tmp_path / "rec").mkdir()
    f = tmp_path / "site.toml"
    f.write_text(f"""
[site]
name = "t"
timezone = "Asia/Shanghai"

[asterisk]
ami_host = "127.0.0.1"
ami_port = {_free_port()}
ami_secret_file = "{tmp_path / "secret"}"
agi_host = "127.0.0.1"
agi_port = {agi_port}

[recording]
local_dir = "{tmp_path / "rec"}"

[http]
listen = "{http}"

[store]
url = "sqlite+aiosqlite:///{tmp_path / "h.db"}"

[hotline]
number = "4001234567"
agent = "1001"

[[agents]]
id = "1001"
name = "A"
contact = "sip:a@127.0.0.1:5071"
""")
    return f


def _start(args: list[str]) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    p = subprocess.Popen([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, text=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert p.stderr is not None
        for line in p.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return p, lines


def _wait_for_line(p: subprocess.Popen[str], lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            assert p.poll() is None, f"exited early ({p.returncode}):\n{''.join(seen)}"
            continue
        seen.append(line)
        if text in line:
            return
    p.kill()
    pytest.fail(f"no {text!r} within {BOUND:.0f} s:\n{''.join(seen)}")


def _finish(p: subprocess.Popen[str], lines: queue.Queue[str], seen: list[str]) -> int:
    try:
        rc = p.wait(BOUND)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = -999
    time.sleep(0.2)  # let the pump thread drain the last lines
    while not lines.empty():
        seen.append(lines.get())
    return rc


def test_run_exits_2_at_once_when_the_agi_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        site = _site(tmp_path, port)
        t0 = time.monotonic()
        p, lines = _start(["run", str(site)])
        seen: list[str] = []
        rc = _finish(p, lines, seen)
        took = time.monotonic() - t0
    out = "".join(seen)
    assert rc == 2, f"exit {rc}:\n{out}"
    assert f"127.0.0.1:{port}" in out and "in use" in out, out
    assert "Traceback" not in out
    assert "cannot connect" not in out, "the AMI link was started before the port was known to be free"
    assert took < BOUND


def test_run_exits_2_at_once_when_the_http_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        site = _site(tmp_path, _free_port(), http=f"127.0.0.1:{port}")
        p, lines = _start(["run", str(site)])
        seen: list[str] = []
        rc = _finish(p, lines, seen)
    out = "".join(seen)
    assert rc == 2, f"exit {rc}:\n{out}"
    assert f"{site}: http.listen: cannot listen on 127.0.0.1:{port}: Address already in use" in out, out
    assert "Traceback" not in out
    assert "cannot connect" not in out, "the AMI link was started before the port was known to be free"


def test_run_serves_metrics_on_its_http_listen_setting(tmp_path):
    port = _free_port()
    site = _site(tmp_path, _free_port(), http=f"127.0.0.1:{port}")
    p, lines = _start(["run", str(site)])
    seen: list[str] = []
    try:
        _wait_for_line(p, lines, "AMI: cannot connect", seen)
        text = ""
        deadline = time.monotonic() + BOUND
        while "hotline_ami_up" not in text and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    text = r.read().decode()
            except OSError:
                time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGTERM)
        rc = _finish(p, lines, seen)
    assert "hotline_ami_up 0.0" in text, text  # Asterisk unreachable: the link is down, and /metrics says so
    assert 'hotline_calls_offered_total{service="hotline"} 0.0' in text
    assert rc == 0, "".join(seen)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_stops_on_signal_while_ami_is_unreachable(tmp_path, sig):
    site = _site(tmp_path, _free_port())
    p, lines = _start(["run", str(site)])
    seen: list[str] = []
    _wait_for_line(p, lines, "AMI: cannot connect", seen)  # the engine runs and retries the link
    p.send_signal(sig)
    rc = _finish(p, lines, seen)
    out = "".join(seen)
    assert rc == 0, f"exit {rc}:\n{out}"
    assert "engine stopping on signal" in out
    assert "Traceback" not in out


def test_ami_link_connect_failing_in_the_same_turn_as_its_cancel_still_stops():
    """The cancel that stops the link lands while a refused connect is already done: it must not be swallowed."""

    async def go() -> None:
        loop = asyncio.get_running_loop()
        link = AmiLink("127.0.0.1", 9, "user", "secret", RealClock(), action_timeout=5.0)
        runner: asyncio.Task[None] | None = None

        async def refused(*args: object, **kwargs: object) -> None:
            assert runner is not None
            loop.call_soon(runner.cancel)  # the cancel arrives in the very next turn of the loop
            raise ConnectionRefusedError(111, "Connect call failed")

        loop.create_connection = refused  # type: ignore[method-assign]
        runner = asyncio.create_task(link.run(), name="ami-link")
        done, _ = await asyncio.wait({runner}, timeout=5.0)
        link._closing = True  # ends a link that swallowed the cancel at its next retry
        if not done:
            runner.cancel()
        assert done and runner.cancelled(), "the AMI link swallowed its cancellation and kept retrying"

    asyncio.run(go())


def test_second_signal_ends_a_stop_that_hangs():
    """The first signal asks for a clean stop; a second one must end the process whatever the stop does."""
    code = (
        "import asyncio, signal, composition\n"
        "class Hang:\n"
        "    def __init__(self): self.store = self\n"
        "    async def run(self, duration): print('running', flush=True); await asyncio.sleep(3600)\n"
        "    async def stop(self): await asyncio.sleep(3600)\n"
        "    async def close(self): pass\n"
        "composition.build = lambda site: Hang()\n"
        "composition.migrate = lambda url: None\n"
        "asyncio.run(composition.run_engine({'store': {'url': ''}}))\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert p.stdout is not None and p.stdout.readline().strip() == "running"  # signal handlers are in
    p.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert p.poll() is None, "the hanging stop should still be running after one signal"
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(BOUND)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        pytest.fail("a second SIGTERM did not end a process whose clean stop hangs")
    assert rc != 0


def test_a_server_that_closes_before_its_banner_is_retried_at_once_not_after_the_banner_timeout():
    """Asterisk starting (or a proxy with nothing behind it) accepts and closes: the link must not sit out the
    10-s banner timeout before trying again, or the agents' states come back that much later."""

    async def main() -> int:
        accepted = 0

        async def close_at_once(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            w.close()

        server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        link = AmiLink("127.0.0.1", port, "engine", "secret", RealClock(), action_timeout=10.0, ping_interval=5.0)
        task = asyncio.create_task(link.run())
        await asyncio.sleep(2.5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        return accepted

    # backoff 0.5 s then 1 s: three tries in 2.5 s; waiting out the banner timeout would allow one
    assert asyncio.run(main()) >= 2


def test_the_login_resync_waits_for_fully_booted():
    """Right after an Asterisk restart the engine can log in while Asterisk still boots; a listing asked for then
    went unanswered and the link stayed not ready for 24 s. The listing is asked for once FullyBooted came."""

    async def main() -> tuple[float, float]:
        booted_at: list[float] = []
        listed_at: list[float] = []
        loop = asyncio.get_running_loop()

        boots: list[asyncio.Future[None]] = []

        async def server(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                await serve(r, w)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass  # the link went away: the test is over
            finally:
                w.close()

        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            w.write(b"Asterisk Call Manager/11.0.0\r\n")
            while block := await r.readuntil(b"\r\n\r\n"):
                head = dict(line.split(": ", 1) for line in block.decode().strip().split("\r\n") if ": " in line)
                aid = head.get("ActionID", "")
                if head.get("Action") == "Login":
                    w.write(f"Response: Success\r\nActionID: {aid}\r\nMessage: Authentication accepted\r\n\r\n"
                            .encode())  # fmt: skip

                    async def boot() -> None:
                        await asyncio.sleep(0.8)  # still booting
                        booted_at.append(loop.time())
                        w.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")

                    boots.append(asyncio.ensure_future(boot()))
                elif head.get("Action") in ("CoreShowChannels", "DeviceStateList"):
                    listed_at.append(loop.time())
                    done = head["Action"] + "Complete"  # CoreShowChannelsComplete, DeviceStateListComplete
                    w.write(f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\nMessage: listed\r\n\r\n"
                            f"Event: {done}\r\nActionID: {aid}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n".encode())
                await w.drain()

        srv = await asyncio.start_server(server, "127.0.0.1", 0)
        link = AmiLink("127.0.0.1", srv.sockets[0].getsockname()[1], "engine", "secret", RealClock(),
                       action_timeout=10.0, ping_interval=5.0)  # fmt: skip
        task = asyncio.create_task(link.run())
        await asyncio.wait_for(link.ready.wait(), 10)
        task.cancel()
        await asyncio.gather(task, *boots, return_exceptions=True)
        srv.close()
        await srv.wait_closed()
        return booted_at[0], listed_at[0]

    booted, listed = asyncio.run(main())
    assert listed >= booted
