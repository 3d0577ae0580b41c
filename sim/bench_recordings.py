"""`hotline bench recordings`: what a minute of a call costs stored, and what encoding it costs, in the same
run: the recorder's Opus (one mono stream per side), libsndfile's stereo Opus (one coupled stream, the
alternative it was chosen over) and the 16-bit stereo WAV both replace.

Two sources, each a conversation whose sides take turns (the other side silent meanwhile), caller left and
agent right: real synthetic speech (espeak-ng, an English and a Mandarin voice, resampled to 8 kHz by sox) and
speech-shaped noise (harder to compress). For each Opus bit-rate and for WAV: MB per minute, the mean
kbit/s, how far below the talker the silent side stays after the round trip (dB; near 0 means the encoder
merged the sides), and the CPU seconds to encode and to decode one minute, on the calling thread (one core).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from recording.encode import read_pcm, store
from recording.opus_lib import DEFAULT_COMPLEXITY

RATE = 8000
TEXTS = {
    "en": "Thank you for calling. I can see your order here, it left our warehouse on Monday and should reach you "
          "by Thursday. Is there anything else I can help you with today?",
    "cmn": "您好，我想问一下我的订单什么时候能到。上周三下的单，到现在还没有收到任何消息，麻烦您帮我查一下。",
}  # fmt: skip


def speechlike(seconds: float, seed: int) -> np.ndarray:
    """Noise shaped like speech: 300-3400 Hz, in bursts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spec = np.fft.rfft(rng.normal(0, 1, n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spec[(f < 300) | (f > 3400)] = 0
    band = np.fft.irfft(spec, n)
    bursts = (np.sin(2 * np.pi * 0.4 * np.arange(n) / RATE) > -0.2).astype(float)
    return (band / np.abs(band).max() * 12000 * bursts).astype(np.int16)


def espeak(text: str, voice: str, folder: Path) -> np.ndarray:
    raw, out = folder / f"{voice}-raw.wav", folder / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True, capture_output=True)
    return read_pcm(out)[0][:, 0]


def turns(left: np.ndarray, right: np.ndarray, seconds: float, turn: float = 5.0) -> np.ndarray:
    """A conversation of ``seconds``: the caller talks ``turn`` s, then the agent, and so on."""
    n = int(seconds * RATE)
    out = np.zeros((n, 2), dtype=np.int16)
    side = (np.arange(n) // int(turn * RATE)) % 2
    out[:, 0] = np.resize(left, n) * (side == 0)
    out[:, 1] = np.resize(right, n) * (side == 1)
    return out


def apart_db(frames: np.ndarray, back: np.ndarray) -> float:
    """How far below the talking left side the silent right side is, decoded (dB)."""
    m = min(len(frames), len(back))
    talk = np.abs(frames[:m, 0]) > 0
    b = back[:m].astype(float)
    rms = [float(np.sqrt((b[talk, ch] ** 2).mean())) for ch in (0, 1)]
    return 20 * float(np.log10(rms[0] / max(rms[1], 1.0)))


def coupled_stereo(frames: np.ndarray, path: Path, kbit_s: float) -> None:
    """libsndfile's Opus: one coupled stereo stream; its compression level sets the rate linearly from 256 kbit/s
    per channel at 0 to 6 at 1 (libsndfile 1.2, ogg_opus.c)."""
    per = min(max(kbit_s / 2, 6.0), 256.0)
    sf.write(str(path), frames, RATE, format="OGG", subtype="OPUS", compression_level=(256.0 - per) / 250.0)


def measure(frames: np.ndarray, folder: Path, name: str, kind: str, kbit_s: float,
            complexity: int = DEFAULT_COMPLEXITY) -> dict[str, Any]:  # fmt: skip
    minutes = len(frames) / RATE / 60
    path = folder / f"{name}-{kind}-{kbit_s:g}-{complexity}.{'wav' if kind == 'wav' else 'opus'}"
    t0 = time.thread_time()
    if kind == "stereo":
        coupled_stereo(frames, path, kbit_s)
    else:
        store(frames, RATE, path, "wav" if kind == "wav" else "opus", kbit_s, complexity)  # the recorder's own path
    encode = time.thread_time() - t0
    t1 = time.thread_time()
    back, _ = read_pcm(path)
    decode = time.thread_time() - t1
    size = path.stat().st_size
    if kind != "stereo":
        encode -= decode  # store() decodes the file back once to check it: the encoding alone is the rest
    return {"source": name, "format": kind, "bitrate": kbit_s if kind != "wav" else None,
            "complexity": complexity if kind == "2mono" else None,
            "mb_per_min": size / 1e6 / minutes, "mean_kbit_s": size * 8 / 1000 / (minutes * 60),
            "sides_apart_db": apart_db(frames, back), "encode_cpu_s_per_min": encode / minutes,
            "decode_cpu_s_per_min": decode / minutes}  # fmt: skip


def main(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-rec-") as tmp:
        folder = Path(tmp)
        sources = {
            "speech": turns(espeak(TEXTS["en"], "en", folder), espeak(TEXTS["cmn"], "cmn", folder), args.minutes * 60),
            "speechlike": turns(speechlike(60, 1), speechlike(60, 2), args.minutes * 60),
        }
        for name, frames in sources.items():
            rows.append(measure(frames, folder, name, "wav", 0))
            for kind in ("2mono", "stereo"):
                for kb in args.bitrates:
                    rows.append(measure(frames, folder, name, kind, kb))
            # the recorder's other encoder complexities, at its default bit-rate: what CPU each saves
            for cx in [c for c in args.complexities if c != DEFAULT_COMPLEXITY]:
                rows.append(measure(frames, folder, name, "2mono", 16.0, cx))
    print("format: 2mono = the recorder's Opus, one mono stream per side; stereo = libsndfile's coupled stereo Opus")
    print(f"{'source':<11}{'format':<7}{'kbit/s set':>10}{'cx':>4}{'MB/min':>8}{'kbit/s':>8}{'apart dB':>9}"
          f"{'enc s/min':>10}{'dec s/min':>10}{'vs WAV':>8}")  # fmt: skip
    for r in rows:
        wav = next(w for w in rows if w["source"] == r["source"] and w["format"] == "wav")
        r["size_vs_wav"] = r["mb_per_min"] / wav["mb_per_min"]
        cx = "-" if r["complexity"] is None else r["complexity"]
        print(f"{r['source']:<11}{r['format']:<7}{r['bitrate'] or '-':>10}{cx:>4}{r['mb_per_min']:>8.3f}"
              f"{r['mean_kbit_s']:>8.1f}{r['sides_apart_db']:>9.1f}{r['encode_cpu_s_per_min']:>10.3f}"
              f"{r['decode_cpu_s_per_min']:>10.3f}{r['size_vs_wav']:>8.3f}")  # fmt: skip
    Path(args.json).write_text(json.dumps({"minutes": args.minutes, "rows": rows}, indent=1))
    print(f"figures written to {args.json}")
    return 0
