"""The recorder's worker processes end with the engine, even when the engine is killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KILLED_ENGINE = """
import asyncio, os
from recording.encoder import EncoderPool

async def main(out):
    pool = EncoderPool(1)
    asyncio.create_task(pool.run(), name="recording-encoders")
    while pool.started is None:
        await asyncio.sleep(0.05)
    with open(out, "w") as f:
        f.write(str(pool.started[0]))
    os.kill(os.getpid(), 9)

if __name__ == "__main__":
    import sys
    asyncio.run(main(sys.argv[1]))
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_engine_leaves_no_encoder_process_behind(tmp_path):
    script = tmp_path / "engine.py"
    script.write_text(KILLED_ENGINE)
    out = tmp_path / "worker.pid"
    # no pipes: a worker that outlived the engine would hold them open, and this would wait on it
    r = subprocess.run([sys.executable, str(script), str(out)], cwd=ROOT, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert r.returncode == -9
    worker = int(out.read_text())
    deadline = time.monotonic() + 30
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker), f"encoder process {worker} outlived the killed engine"


RETIRING_ENGINE = """
import asyncio, random, sys, wave
from pathlib import Path
import numpy as np
from recording import encoder
from recording.encoder import EncoderPool

def leg(path, hz):
    t = np.arange(8000) / 8000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes((3000 * np.sin(2 * np.pi * hz * t)).astype(np.int16).tobytes())

async def main(work):
    encoder.TASKS_PER_WORKER = 3  # a pool retired every three merges
    random.seed(7)
    pool = EncoderPool(1)
    legs = [work / "in.wav", work / "out.wav"]
    leg(legs[0], 300.0); leg(legs[1], 500.0)
    merges = []
    for i in range(12):
        merges.append(asyncio.ensure_future(pool.merge(legs, work / f"m{i}.ogg", "opus", 16.0, 5)))
        await asyncio.sleep(random.random() * 0.02)
    await asyncio.gather(*merges[:7])  # a pool already retired twice, others at work
    done = sum(1 for m in merges if m.done() and not m.cancelled() and m.exception() is None)
    print(getattr(pool, "retired", -1), done, flush=True)
    pool.close()  # merges still under way: an engine that stops does not wait for them (their legs stay)

if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
"""


def test_a_pool_retired_and_closed_mid_merge_lets_the_engine_exit(tmp_path):
    """Python 3.11's own worker recycling (``max_tasks_per_child``) hung the process at exit when the pool was shut
    down while it replaced a worker; the pool retires itself instead, and an engine that stops with merges under way
    exits."""
    script = tmp_path / "engine.py"
    script.write_text(RETIRING_ENGINE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, str(script), str(tmp_path)], cwd=ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    retired, merged = map(int, r.stdout.split())
    assert retired >= 1 and merged >= 1, r.stdout
