"""A call's two legs into one stored file: Ogg Opus (or WAV), checked by decoding it back.

Opus is written as one mono stream per side (``recording/ogg_opus.py``, libopus): a stereo Opus stream merges
the caller and the agent at a call recording's bit-rates (measured 0 dB between the sides at 16 kbit/s),
two mono streams keep them some 40 dB apart at the same size. libsndfile (``soundfile``) reads the file back,
in this process, for the check here and for the replay's analysis, and writes WAV.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from recording.ogg_opus import encode_ogg
from recording.opus_lib import DEFAULT_COMPLEXITY

FORMATS = ("opus", "wav")


@dataclass(frozen=True)
class Stored:
    """What the index keeps of a stored recording."""

    path: Path
    format: str
    seconds: float
    channels: int
    bytes: int
    sha256: str


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def probe(path: Path) -> tuple[int, float]:
    """Channels and seconds of a stored recording, read from the file itself."""
    info = sf.info(str(path))
    return info.channels, info.frames / info.samplerate


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """The decoded samples (frames x channels, int16) and the rate."""
    data, rate = sf.read(str(path), dtype="int16", always_2d=True)
    return data, rate


def store(frames: np.ndarray, rate: int, out: Path, fmt: str = "opus", kbit_s: float = 16.0,
          complexity: int = DEFAULT_COMPLEXITY) -> Stored:
    """Write ``frames`` (n x channels, int16) to ``out`` in ``fmt``, decode it back and check its length and
    channels, then give its size and SHA-256. Written under a temporary name first: a reader never sees half a
    file, and a file that fails the check is not left behind. Raises ValueError when the check fails."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown recording format {fmt!r} (use one of {', '.join(FORMATS)})")
    n, channels = frames.shape
    tmp = out.with_name(out.name + ".part")
    try:
        if fmt == "opus":
            tmp.write_bytes(encode_ogg(frames, rate, kbit_s, complexity=complexity))
        else:
            sf.write(str(tmp), frames, rate, format="WAV", subtype="PCM_16")
        # decoded in full, not taken from the header: a damaged stream fails here, not at the first replay
        back, back_rate = read_pcm(tmp)
        # Opus frames are 2.5 to 20 ms: the decoded length may differ by a frame, never by more
        if back.shape[1] != channels or back_rate != rate or abs(len(back) - n) > rate // 50:
            raise ValueError(f"{out.name}: decoded {back.shape[1]} ch / {len(back)} frames at {back_rate} Hz, "
                             f"wrote {channels} ch / {n} frames at {rate} Hz")  # fmt: skip
        digest = sha256_of(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return Stored(out, fmt, len(back) / rate, channels, size, digest)
