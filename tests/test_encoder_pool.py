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
