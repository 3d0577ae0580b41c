"""A phone's media side for lab tests: it speaks a tone as RTP and keeps what it hears, with arrival times.

SIPp's rtp_stream plays a file but keeps nothing it receives. A test that must know what a caller or an agent
actually heard lets SIPp do the SIP and gives its SDP this endpoint's port (``sim.sipp.external_media``). The lab's
endpoints have ``rtp_symmetric``: Asterisk sends to where RTP comes from, so the endpoint sends from the very port
it advertised, and starts once Asterisk's first packet tells it where Asterisk listens.
"""

from __future__ import annotations

import asyncio
import struct
import subprocess

import numpy as np

RATE = 8000
FRAME = 160  # 20 ms of PCMU per packet


def ulaw_tone(freq: int, seconds: int = 1) -> bytes:
    """Raw u-law of a sine (whole seconds of a whole frequency: it loops without a click)."""
    return subprocess.run(["sox", "-n", "-t", "ul", "-r", str(RATE), "-c", "1", "-", "synth", str(seconds), "sine",
                           str(freq), "vol", "0.3"], check=True, capture_output=True).stdout  # fmt: skip


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 u-law bytes to linear samples (float, 16-bit scale)."""
    u = ~np.frombuffer(data, dtype=np.uint8)
    exponent, mantissa = (u >> 4) & 7, (u & 0x0F).astype(np.int32)
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.float64)


def share_at(samples: np.ndarray, freq: float, width: float = 20.0) -> float:
    """The share of the signal's energy within ``width`` Hz of ``freq`` (0 for silence)."""
    if len(samples) < FRAME:
        return 0.0
    power = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    hz = np.fft.rfftfreq(len(samples), 1 / RATE)
    total = float(power[1:].sum())  # the DC bin left out: u-law's offset is no sound
    return float(power[np.abs(hz - freq) <= width].sum()) / total if total > 0 else 0.0


class RtpPhone(asyncio.DatagramProtocol):
    def __init__(self, tone: bytes, limit: float = 120.0) -> None:
        if not tone or len(tone) % FRAME:
            raise ValueError(f"the tone must be whole 20 ms packets, not {len(tone)} bytes")
        self.tone = tone
        self.limit = limit  # seconds the phone speaks at most: a forgotten phone stops by itself
        self.heard: list[tuple[float, bytes]] = []  # (arrival in the loop's clock, u-law payload)
        self.transport: asyncio.DatagramTransport | None = None
        self._speaking: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or data[1] & 0x7F != 0:  # PCMU only (no telephone-event, no RTCP)
            return
        skip = 12 + 4 * (data[0] & 0x0F)  # the header and its CSRCs
        self.heard.append((asyncio.get_running_loop().time(), data[skip:]))
        if self._speaking is None:
            self._speaking = asyncio.get_running_loop().create_task(self._speak(addr))

    async def _speak(self, peer: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(int(self.limit / 0.02)):
            at = n * FRAME % len(self.tone)
            payload = self.tone[at : at + FRAME]
            header = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * FRAME & 0xFFFFFFFF, 0x484F54)  # PCMU, one SSRC
            assert self.transport is not None
            self.transport.sendto(header + payload, peer)
            await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - loop.time()))  # a steady 20 ms, no drift

    def between(self, since: float, until: float) -> np.ndarray:
        """What the phone heard from ``since`` to ``until`` (the loop's clock), as linear samples."""
        return ulaw_decode(b"".join(p for at, p in self.heard if since <= at < until))

    def close(self) -> None:
        if self._speaking is not None:
            self._speaking.cancel()
        if self.transport is not None:
            self.transport.close()


async def open_phone(tone: bytes) -> RtpPhone:
    """An RTP endpoint on a free loopback port, speaking ``tone`` in a loop once Asterisk sends to it."""
    _, phone = await asyncio.get_running_loop().create_datagram_endpoint(lambda: RtpPhone(tone),
                                                                         local_addr=("127.0.0.1", 0))  # fmt: skip
    return phone
