"""Loopback ports for a run's SIPp processes, handed out without overlap and checked free before anything starts.

Each SIPp binds its SIP port, a media port M and M + 2 (SIPp 3.6 echoes and streams RTP there, for every call
of the process) and a UDP control port (by default the first free one from 8888, tried 60 times, which a
run of 50 phones beside other tests can exhaust). Fixed blocks such as ``17000 + 100 * i`` collide once a
site has more than a few phones, and SIPp that cannot bind just exits; so every port is chosen here, once,
with a bind test, and a port the site itself names (an agent's contact) is checked the same way.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

MEDIA_RANGE = (20000, 30000)  # clear of the lab Asterisk's own RTP ports (30000-30999, rtp.conf)
CONTROL_RANGE = (41000, 42000)


class PortError(Exception):
    """A port the run needs is taken or named twice; the message says which and by whom."""


def tcp_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now, chosen by the kernel (a private server's: PostgreSQL, Kannel, MQTT)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def udp_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a UDP socket can bind ``host:port`` now (what SIPp will do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class PortPlan:
    """Hands out media and control ports for one run; ``reserved`` ports (the SIP ports) are never handed out."""

    def __init__(self, reserved: Iterable[int] = (), media: tuple[int, int] = MEDIA_RANGE,
                 control: tuple[int, int] = CONTROL_RANGE) -> None:  # fmt: skip
        self._used: set[int] = set(reserved)
        self._media = media[0]
        self._media_stop = media[1]
        self._control = control[0]
        self._control_stop = control[1]

    def reserve(self, wanted: Iterable[int]) -> None:
        """Never hand these out (SIP ports named after the plan was made)."""
        self._used.update(wanted)

    def media(self, owner: str) -> int:
        """A port M with M .. M + 3 free (M and M + 2 are bound; RTCP's odd neighbours kept clear too)."""
        while self._media + 3 < self._media_stop:
            m = self._media
            self._media += 4
            block = range(m, m + 4)
            if any(p in self._used for p in block):
                continue
            if all(udp_free(p) for p in (m, m + 2)):
                self._used.update(block)
                return m
        raise PortError(f"no free media ports left for {owner} in {MEDIA_RANGE[0]}-{MEDIA_RANGE[1]}")

    def control(self, owner: str) -> int:
        """A free UDP control port (SIPp binds it on every address)."""
        while self._control < self._control_stop:
            p = self._control
            self._control += 1
            if p not in self._used and udp_free(p, "0.0.0.0"):
                self._used.add(p)
                return p
        raise PortError(f"no free control port left for {owner} in {CONTROL_RANGE[0]}-{CONTROL_RANGE[1]}")


def check_sip_ports(wanted: list[tuple[str, int]]) -> None:
    """Each SIP port named once and free now; else a PortError naming the port and what wants it."""
    seen: dict[int, str] = {}
    for owner, port in wanted:
        if port in seen:
            raise PortError(f"SIP port {port} is wanted by both {seen[port]} and {owner}")
        seen[port] = owner
    taken = [f"{port} ({owner})" for owner, port in wanted if not udp_free(port)]
    if taken:
        raise PortError(f"SIP port(s) already in use on 127.0.0.1: {', '.join(taken)}")
