"""What QA reads off a call's two sides (pure, numpy): who talked how much, long silences, talking over.

The recording is cut into 50 ms frames; a side talks in a frame when its level is above a threshold, taken
from that side's own loudness (its 95th percentile level less 30 dB, not under -50 dBFS): a quiet line and a
loud one are judged alike, and the other side's faint leak stays under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME = 0.05  # seconds
SILENCE = 5.0  # a pause this long or longer is a silence worth a look
FLOOR_DBFS = -50.0
BELOW_PEAK_DB = 30.0


@dataclass(frozen=True)
class Talk:
    seconds: float
    caller_talk: float  # seconds the caller's side talked
    agent_talk: float
    talk_over: float  # seconds both talked at once
    silences: list[tuple[float, float]]  # (start, length) of every stretch with nobody talking of SILENCE s or more

    def summary(self) -> dict[str, float]:
        """The few figures a call's facts keep (the page computes the rest from the file)."""
        longest = max((n for _, n in self.silences), default=0.0)
        return {"caller_talk": round(self.caller_talk, 2), "agent_talk": round(self.agent_talk, 2),
                "talk_over": round(self.talk_over, 2), "silence_longest": round(longest, 2),
                "silence_total": round(sum(n for _, n in self.silences), 2)}  # fmt: skip

    def as_dict(self) -> dict[str, object]:
        total = self.caller_talk + self.agent_talk
        return {
            "seconds": round(self.seconds, 2),
            "caller_talk": round(self.caller_talk, 2), "agent_talk": round(self.agent_talk, 2),
            "caller_ratio": round(self.caller_talk / total, 3) if total else None,
            "agent_ratio": round(self.agent_talk / total, 3) if total else None,
            "talk_over": round(self.talk_over, 2),
            "silences": [{"at": round(a, 2), "seconds": round(n, 2)} for a, n in self.silences],
            "silence_total": round(sum(n for _, n in self.silences), 2),
        }  # fmt: skip


def levels_db(side: np.ndarray, rate: int) -> np.ndarray:
    """Each frame's RMS level in dBFS."""
    n = int(FRAME * rate)
    frames = len(side) // n
    x = side[: frames * n].astype(np.float64).reshape(frames, n) / 32768.0
    rms = np.sqrt((x * x).mean(axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-9))


def talking(side: np.ndarray, rate: int) -> np.ndarray:
    lv = levels_db(side, rate)
    if len(lv) == 0:
        return np.zeros(0, dtype=bool)
    threshold = max(float(np.percentile(lv, 95)) - BELOW_PEAK_DB, FLOOR_DBFS)
    return lv > threshold


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    if len(mask) == 0:
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def analyse(pcm: np.ndarray, rate: int) -> Talk:
    """``pcm``: frames x 2 (caller left, agent right)."""
    caller, agent = talking(pcm[:, 0], rate), talking(pcm[:, 1], rate)
    quiet = ~(caller | agent)
    silences = [(s * FRAME, n * FRAME) for s, n in runs(quiet) if n * FRAME >= SILENCE]
    return Talk(len(pcm) / rate, float(caller.sum()) * FRAME, float(agent.sum()) * FRAME,
                float((caller & agent).sum()) * FRAME, silences)  # fmt: skip


def peaks(pcm: np.ndarray, buckets: int = 800) -> list[list[float]]:
    """Per channel, the loudest sample of each of ``buckets`` equal slices, 0..1: the waveform the page draws."""
    n = len(pcm)
    if n == 0:
        return [[] for _ in range(pcm.shape[1])]
    edges = np.linspace(0, n, min(buckets, n) + 1).astype(int)
    out = []
    for ch in range(pcm.shape[1]):
        x = np.abs(pcm[:, ch].astype(np.int32))
        out.append([round(float(x[a:b].max()) / 32768.0, 3) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return out
