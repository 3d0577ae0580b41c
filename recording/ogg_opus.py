"""Ogg Opus files (RFC 7845) of one mono Opus stream per channel: channel mapping family 1, no coupled streams.

Sans-I/O: ``encode_ogg`` turns samples into the file's bytes; the caller writes them. Granule positions count
48 kHz samples from the stream's start, the encoder's look-ahead (the pre-skip) included; the last page's says
where the audio really ends, so a decoder gives back exactly the samples that went in.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from recording.opus_lib import DEFAULT_COMPLEXITY, MonoStreams

GRANULE_RATE = 48000
PACKETS_PER_PAGE = 50  # one second of 20 ms packets a page
VENDOR = b"hotline"


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def crc32(data: bytes) -> int:
    """Ogg's CRC: polynomial 0x04C11DB7, no reflection, initial value and final xor 0."""
    c = 0
    for b in data:
        c = ((c << 8) & 0xFFFFFFFF) ^ _CRC[((c >> 24) ^ b) & 0xFF]
    return c


def page(serial: int, seq: int, granule: int, packets: list[bytes], flags: int) -> bytes:
    lacing = bytearray()
    for p in packets:
        lacing += bytes([255] * (len(p) // 255) + [len(p) % 255])
    if len(lacing) > 255:
        raise ValueError(f"{len(lacing)} lacing values do not fit one Ogg page")
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(lacing)) + bytes(lacing)
    body = b"".join(packets)
    crc = crc32(header + body)
    return header[:22] + struct.pack("<I", crc) + header[26:] + body


def opus_head(channels: int, pre_skip: int, rate: int) -> bytes:
    """Family 1 with as many uncoupled streams as channels, channel i in stream i."""
    return (struct.pack("<8sBBHIhB", b"OpusHead", 1, channels, pre_skip, rate, 0, 1)
            + bytes([channels, 0]) + bytes(range(channels)))  # fmt: skip


def opus_tags() -> bytes:
    return b"OpusTags" + struct.pack("<I", len(VENDOR)) + VENDOR + struct.pack("<I", 0)


def _pages(frames: np.ndarray, rate: int, kbit_s: float, serial: int, complexity: int) -> Iterator[bytes]:
    n, channels = frames.shape
    enc = MonoStreams(rate, channels, kbit_s, complexity)
    try:
        scale = GRANULE_RATE // rate
        pre_skip = enc.lookahead * scale
        yield page(serial, 0, 0, [opus_head(channels, pre_skip, rate)], 0x02)
        yield page(serial, 1, 0, [opus_tags()], 0)
        # the look-ahead's worth of silence after the end, so the last real sample comes out of the encoder
        total = n + enc.lookahead
        count = -(-total // enc.frame)
        padded = np.zeros((count * enc.frame, channels), dtype=np.int16)
        padded[:n] = frames
        end = pre_skip + n * scale
        seq, granule, packets, lacing = 2, 0, [], 0
        for i in range(count):
            packet = enc.encode(padded[i * enc.frame : (i + 1) * enc.frame])
            need = len(packet) // 255 + 1
            if packets and (len(packets) == PACKETS_PER_PAGE or lacing + need > 255):
                yield page(serial, seq, granule, packets, 0)
                seq, packets, lacing = seq + 1, [], 0
            packets.append(packet)
            lacing += need
            granule += enc.frame * scale
        yield page(serial, seq, min(granule, end), packets, 0x04)
    finally:
        enc.close()


def encode_ogg(frames: np.ndarray, rate: int, kbit_s: float, serial: int = 0x686F746C,
               complexity: int = DEFAULT_COMPLEXITY) -> bytes:
    """The whole file of ``frames`` (n x channels, int16) at ``rate`` (8000, 12000, 16000, 24000 or 48000)."""
    if rate not in (8000, 12000, 16000, 24000, 48000):
        raise ValueError(f"Opus cannot take {rate} Hz audio as it is")
    return b"".join(_pages(frames, rate, kbit_s, serial, complexity))
