"""Whole-call recording: MixMonitor on the customer channel, its legs merged to one stereo file afterwards.

Asterisk 22 writes corrupt files for stereo ``D`` unless the file is ``.raw`` (docs/asterisk.md#mixmonitor), so we
record the two legs with ``r()``/``t()`` while bridged (``b``) and merge them: left = the customer
(audio read from their channel), right = what they hear (the agent).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def safe_name(call_id: str) -> str:
    """A call id as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)


@dataclass(frozen=True)
class RecordingPaths:
    """The same files as Asterisk names them and as the engine reads them."""

    call_id: str
    asterisk_dir: str
    local_dir: Path

    def _name(self, suffix: str, ext: str = "wav") -> str:
        return f"{safe_name(self.call_id)}{suffix}.{ext}"

    def asterisk(self, suffix: str = "") -> str:
        return f"{self.asterisk_dir.rstrip('/')}/{self._name(suffix)}"

    def local(self, suffix: str = "") -> Path:
        return self.local_dir / self._name(suffix)

    def stored(self, fmt: str) -> Path:
        """The call's one file once merged: ``<call id>.opus`` (Ogg Opus) or ``<call id>.wav``."""
        return self.local_dir / self._name("", fmt)

    def mixmonitor_action(self, channel: str) -> dict[str, str]:
        return {
            "Action": "MixMonitor",
            "Channel": channel,
            "File": self.asterisk("-mix"),
            "Options": f"br({self.asterisk('-in')})t({self.asterisk('-out')})",
        }


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit mono, got {w.getnchannels()} ch / {w.getsampwidth() * 8} bit")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def merge_legs(left: Path, right: Path) -> tuple[np.ndarray, int]:
    """Two mono 16-bit WAVs side by side (frames x 2); the shorter leg is padded with silence."""
    a, rate_a = _read_mono(left)
    b, rate_b = _read_mono(right)
    if rate_a != rate_b:
        raise ValueError(f"legs have different rates: {rate_a} and {rate_b}")
    stereo = np.zeros((max(len(a), len(b)), 2), dtype=np.int16)
    stereo[: len(a), 0] = a
    stereo[: len(b), 1] = b
    return stereo, rate_a


def wav_info(path: Path) -> tuple[int, float]:
    with wave.open(str(path), "rb") as w:
        return w.getnchannels(), w.getnframes() / w.getframerate()
