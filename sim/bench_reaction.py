"""`hotline bench reaction`: from an agent becoming free to the next waiting caller ringing that agent.

Both systems serve the same SIPp agent on the same lab Asterisk in one run: first this engine (wrap-up 0,
callers queued through the FastAGI IVR), then app_queue (the ``baseline`` queue, wrap-up 0, the agent
added with QueueAdd). Ten callers wait at once; the agent answers at once, talks a moment and hangs up.
Reaction = the agent's next INVITE received − its BYE sent, read from the agent's own SIPp trace, so the
clock is the same for both systems. Figures are printed and written with ``--json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.dialplan import BASELINE_EXTEN
from sim.sipp import LOAD_AGENT, LOAD_CALLER, make_audio, read_trace, sipp_binary

log = logging.getLogger("hotline.bench")


SERVICE = """
[[services]]
name = "hotline"
skills = { reaction = 1 }
wrap_up = 0
"""


def _site_text(base: Path, db: Path) -> str:
    text = base.read_text()
    text = text.replace('contact = "sip:agent1001@127.0.0.1:5071"',
                        'contact = "sip:agent1001@127.0.0.1:5071"\nskills = { reaction = 100 }')  # fmt: skip
    text = text.replace('url = "sqlite+aiosqlite:///hotline-lab.db"', f'url = "sqlite+aiosqlite:///{db}"')
    return text + SERVICE


async def _sipp(cwd: Path, args: list[str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sipp_binary(), *args, cwd=cwd, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)  # fmt: skip


async def _round(cwd: Path, tag: str, did: str, callers: int, talk: float) -> list[float]:
    audio = make_audio(cwd / "tone.wav")
    (cwd / f"agent-{tag}.xml").write_text(LOAD_AGENT.format(klass=tag, talk_ms=int(talk * 1000)))
    (cwd / f"agent-{tag}.csv").write_text("SEQUENTIAL\n" + "100;\n" * (callers + 2))
    (cwd / f"caller-{tag}.xml").write_text(LOAD_CALLER.format(klass=tag, patience_ms=600_000, audio=audio))
    (cwd / f"callers-{tag}.csv").write_text(
        "SEQUENTIAL\n" + "".join(f"1380000{i:04d};R-{tag}-{i};1;300;\n" for i in range(callers))
    )
    agent = await _sipp(cwd, ["-sf", f"agent-{tag}.xml", "-inf", f"agent-{tag}.csv", "-i", "127.0.0.1", "-p", "5071",
                              "-mp", "17000", "-rtp_echo", "-nostdin", "-timeout", "300s", "-trace_msg",
                              "-message_file", f"agent-{tag}.log"])  # fmt: skip
    await asyncio.sleep(0.5)
    caller = await _sipp(cwd, ["127.0.0.1:5060", "-sf", f"caller-{tag}.xml", "-inf", f"callers-{tag}.csv",
                               "-i", "127.0.0.1", "-p", "5080", "-mp", "18000", "-s", did, "-m", str(callers),
                               "-l", str(callers), "-r", "20", "-nostdin", "-timeout", "300s", "-trace_msg",
                               "-message_file", f"caller-{tag}.log"])  # fmt: skip
    await asyncio.wait_for(caller.wait(), 320)
    agent.send_signal(signal.SIGUSR1)
    try:
        await asyncio.wait_for(agent.wait(), 15)
    except TimeoutError:
        agent.terminate()
        await agent.wait()
    msgs = read_trace(cwd / f"agent-{tag}.log")
    byes = [m.at for m in msgs if m.sent and m.first_line.startswith("BYE")]
    invites = sorted(m.at for m in msgs if not m.sent and m.first_line.startswith("INVITE"))
    reactions = []
    for bye in byes:
        nxt = next((t for t in invites if t > bye), None)
        if nxt is not None:
            reactions.append(nxt - bye)
    return reactions


def _stats(xs: list[float]) -> dict[str, Any]:
    if not xs:
        return {"n": 0}
    a = np.array(xs) * 1000
    return {"n": len(xs), "mean_ms": round(float(a.mean()), 1), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1), "max_ms": round(float(a.max()), 1)}  # fmt: skip


async def bench_reaction(site_path: Path, callers: int = 10, talk: float = 1.0) -> dict[str, Any]:
    from composition import running
    from engine.config import load_site

    with tempfile.TemporaryDirectory(prefix="hotline-reaction-") as tmp:
        work = Path(tmp)
        site_file = work / "site.toml"
        site_file.write_text(_site_text(site_path, work / "bench.db"))
        site = load_site(site_file)
        async with running(site) as eng:
            ours = await _round(work, "engine", site["hotline"]["number"], callers, talk)
            # app_queue gets the same agent; the engine keeps running but these calls never reach its IVR
            await eng.link.action({"Action": "QueueAdd", "Queue": "baseline", "Interface": "PJSIP/agent1001",
                                   "MemberName": "agent1001"})  # fmt: skip
            try:
                theirs = await _round(work, "app_queue", BASELINE_EXTEN, callers, talk)
            finally:
                await eng.link.action({"Action": "QueueRemove", "Queue": "baseline", "Interface": "PJSIP/agent1001"})
    a, b = _stats(ours), _stats(theirs)
    return {
        "callers_per_round": callers, "talk_seconds": talk,
        "engine": a, "app_queue": b,
        "ratio_p50": round(b["p50_ms"] / a["p50_ms"], 1) if a.get("p50_ms") and b.get("p50_ms") else None,
        "goal_engine_p99_ms": 50.0,
    }  # fmt: skip


def print_reaction(r: dict[str, Any]) -> None:
    print(f"reaction bench: agent free -> next waiting caller ringing it ({r['callers_per_round']} callers a round)")
    print(f"{'system':<10} {'n':>3} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name in ("engine", "app_queue"):
        s = r[name]
        if s.get("n"):
            print(f"{name:<10} {s['n']:>3} {s['mean_ms']:>8} {s['p50_ms']:>8} {s['p99_ms']:>8} {s['max_ms']:>8}")
        else:
            print(f"{name:<10}   0  (no samples)")
    print(f"app_queue / engine at p50: {r['ratio_p50']}x; goal: engine p99 <= {r['goal_engine_p99_ms']} ms")


def main(args: Any) -> int:
    logging.getLogger("hotline").setLevel(logging.WARNING)
    report = asyncio.run(bench_reaction(Path(args.site), args.callers, args.talk))
    print_reaction(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"figures written to {args.json}")
    return 0
