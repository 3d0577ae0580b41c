"""A private Kannel SMS gateway on loopback: Debian's bearerbox and smsbox with a configuration of its own, free
ports and a message store in its own folder, and Kannel's own ``fakesmsc`` (Debian's kannel-extras) as the
operator's SMSC. Never the system's Kannel service. The tests start theirs with it.

``fakesmsc`` prints every message the gateway hands it (``Got message N: <from to type [udh] text>``); that
output is the operator's side of the truth. It sends the operator's incoming messages (a customer's ``TD``)
when it starts, so an incoming message is made by starting it again with that message. The gateway keeps
accepted messages in its store file, so a restart (``stop`` then ``start``) neither loses nor resends them.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from sim.ports import tcp_free_port

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
GOT = re.compile(r"Got message \d+: <(.*)>$")


class KannelMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Delivered:
    """One message part as the SMSC received it."""

    sender: str
    to: str
    coding: str  # fakesmsc's type: text (7-bit), ucs-2, or data (a part of a long text: 7-bit or UCS-2 alike)
    udh: bytes  # the concatenation header of a long text's part (b"" for a short text)
    data: bytes  # the part's bytes: UTF-16BE for UCS-2, one byte a character for 7-bit text

    @property
    def part(self) -> tuple[int, int, int] | None:
        """(reference, parts, this part) from the concatenation header."""
        if len(self.udh) >= 6 and self.udh[1] == 0:
            return self.udh[3], self.udh[4], self.udh[5]
        return None


def parse_delivered(line: str) -> Delivered | None:
    """A line of fakesmsc's output, read as Latin-1 (its bytes as they are)."""
    m = GOT.search(line.rstrip("\n"))
    if not m:
        return None
    words = m.group(1).split(" ", 3)
    sender, to, kind = words[0], words[1], words[2]
    rest = words[3] if len(words) > 3 else ""
    udh = b""
    if kind == "udh":  # "udh <header> <type> <text>"
        head, kind, rest = (rest.split(" ", 2) + ["", ""])[:3]
        udh = urllib.parse.unquote_to_bytes(head)
    # fakesmsc writes a 7-bit text as it is, and URL-encodes binary and UCS-2 data (a space as "+")
    data = rest.encode("latin-1") if kind == "text" else urllib.parse.unquote_to_bytes(rest.replace("+", " "))
    return Delivered(sender, to, kind, udh, data)


class Kannel:
    def __init__(self, folder: Path | None = None) -> None:
        for binary in (BEARERBOX, SMSBOX, FAKESMSC):
            if not binary.exists():
                raise KannelMissing(f"{binary} is missing: run `make setup-test` (scripts/setup.sh --test installs "
                                    "Debian's kannel and kannel-extras)")  # fmt: skip
        self.folder = folder or Path(tempfile.mkdtemp(prefix="hotline-kannel-"))
        self.admin_port, self.box_port, self.smsc_port, self.send_port = (tcp_free_port() for _ in range(4))
        self.username = "hotline"
        self.password = "pw-" + str(time.time_ns())[-8:]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.fakesmsc_runs = 0

    @property
    def send_url(self) -> str:
        return f"http://127.0.0.1:{self.send_port}/cgi-bin/sendsms"

    def configure(self, mo_url: str) -> None:
        """``mo_url``: Kannel's get-url for incoming messages (Kannel's escapes: %p sender, %a text...)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        f = self.folder
        (f / "kannel.conf").write_text(f"""group = core
admin-port = {self.admin_port}
admin-password = {self.password}
smsbox-port = {self.box_port}
box-allow-ip = 127.0.0.1
log-file = {f}/bearerbox.log
log-level = 1
store-type = file
store-location = {f}/store
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.send_port}
log-file = {f}/smsbox.log
log-level = 1
http-request-retry = 30
http-queue-delay = 1

group = sendsms-user
username = {self.username}
password = {self.password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{mo_url}"
""")

    def _spawn(self, name: str, *cmd: str) -> None:
        log = open(self.folder / f"{name}.out", "ab")  # noqa: SIM115 - the child keeps it
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)

    def _wait_port(self, port: int, what: str, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"kannel: {what} did not listen on {port} within {timeout:.0f} s; see {self.folder}")

    def start(self, *incoming: str) -> None:
        """bearerbox, the SMSC and smsbox; ``incoming``: messages the SMSC sends at once, each
        ``"SENDER RECEIVER text WORDS"``."""
        conf = str(self.folder / "kannel.conf")
        self._spawn("bearerbox", str(BEARERBOX), conf)
        self._wait_port(self.box_port, "bearerbox")
        self.smsc(*incoming)
        self._spawn("smsbox", str(SMSBOX), conf)
        self._wait_port(self.send_port, "smsbox")

    def smsc(self, *incoming: str) -> None:
        """(Re)start the operator's side; a restart sends ``incoming`` (the gateway queues what it has for the
        SMSC while none is connected)."""
        self._stop("fakesmsc")
        self.fakesmsc_runs += 1
        words = ["-m", str(len(incoming)), *incoming] if incoming else ["-m", "0", "1 2 text unused"]
        self._spawn("fakesmsc", str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.2", *words)

    def _stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        p.send_signal(sig)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def stop(self) -> None:
        """The gateway stops as its init script stops it (TERM); the SMSC goes with it."""
        for name in ("smsbox", "bearerbox", "fakesmsc"):
            self._stop(name)

    def delivered(self) -> list[Delivered]:
        out = []
        for line in (self.folder / "fakesmsc.out").read_bytes().decode("latin-1").splitlines():
            d = parse_delivered(line)
            if d is not None:
                out.append(d)
        return out

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
