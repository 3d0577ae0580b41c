"""The CPU and memory a load run reports for the engine and Asterisk, read from /proc: checked against what a
child process measures of itself."""

import asyncio
import subprocess
import sys

from sim.usage import Usage

BURN = """
import time, sys
x = 0
while time.process_time() < 0.6:
    x += 1
print(f"{time.process_time():.3f}", flush=True)
time.sleep(30)
"""


def test_cpu_seconds_match_the_process_own_count_and_an_idle_one_spends_none():
    busy = subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:

        async def watch() -> dict:
            use = Usage({"busy": busy.pid, "idle": idle.pid}, every=0.1)
            use.start()
            own = float(await asyncio.to_thread(busy.stdout.readline))
            return {**await use.stop(), "own": own}

        got = asyncio.run(watch())
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
    # the window opened just after the start: the child's interpreter start-up before it is not counted
    assert got["own"] - 0.15 <= got["busy"]["cpu_s"] <= got["own"] + 0.02, got
    assert got["idle"]["cpu_s"] < 0.1, got
    assert got["busy"]["rss_peak_mb"] > 1 and not got["busy"]["exited"]
    assert got["cpu_ratio"] is None or got["cpu_ratio"] > 5
    # the whole machine's busy time (/proc/stat) holds at least the busy child's own (/proc/PID/stat)
    m = got["machine"]
    assert m["cpus"] >= 1 and 0 <= m["steal_pct_mean"] <= m["steal_pct_max"] <= 100
    assert m["busy_pct_mean"] / 100 * m["cpus"] * got["seconds"] >= got["busy"]["cpu_s"] - 0.05, got
