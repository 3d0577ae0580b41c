"""Whole-call recording: MixMonitor on the customer channel, merged to one stereo WAV afterwards.

Asterisk 22 writes corrupt files for stereo ``D`` unless the file is ``.raw`` (docs/asterisk.md#mixmonitor), so we
record the two legs with ``r()``/``t()`` while bridged (``b``) and merge them: left = the customer
(audio read from their channel), right = what they hear (the agent).
"""

from __future__ import annotations

import array
import os
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RecordingPaths:
    """The same files as Asterisk names them and as the engine reads them."""

    call_id: str
    asterisk_dir: str
    local_dir: Path

    def _name(self, suffix: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.call_id)
        return f"{safe}{suffix}.wav"

    def asterisk(self, suffix: str = "") -> str:
        return f"{self.asterisk_dir.rstrip('/')}/{self._name(suffix)}"

    def local(self, suffix: str = "") -> Path:
        return self.local_dir / self._name(suffix)

    def mixmonitor_action(self, channel: str) -> dict[str, str]:
        return {
            "Action": "MixMonitor",
            "Channel": channel,
            "File": self.asterisk("-mix"),
            "Options": f"br({self.asterisk('-in')})t({self.asterisk('-out')})",
        }


def _read_mono(path: Path) -> tuple[array.array, int]:
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit mono, got {w.getnchannels()} ch / {w.getsampwidth() * 8} bit")
        rate = w.getframerate()
        data = array.array("h")
        data.frombytes(w.readframes(w.getnframes()))
    return data, rate


def merge_legs(left: Path, right: Path, out: Path) -> float:
    """Interleave two mono 16-bit WAVs into one stereo WAV; the shorter leg is padded with silence.

    Returns the duration in seconds. Writes to a temporary name first so a reader never sees half a file.
    """
    a, rate_a = _read_mono(left)
    b, rate_b = _read_mono(right)
    if rate_a != rate_b:
        raise ValueError(f"legs have different rates: {rate_a} and {rate_b}")
    n = max(len(a), len(b))
    a.extend([0] * (n - len(a)))
    b.extend([0] * (n - len(b)))
    stereo = array.array("h", bytes(4 * n))
    stereo[0::2] = a
    stereo[1::2] = b
    tmp = out.with_suffix(".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate_a)
        w.writeframes(stereo.tobytes())
    os.replace(tmp, out)
    return n / rate_a


def wav_info(path: Path) -> tuple[int, float]:
    with wave.open(str(path), "rb") as w:
        return w.getnchannels(), w.getnframes() / w.getframerate()
