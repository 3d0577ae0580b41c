"""One scripted hotline call through the lab: SIPp caller and SIPp agent, the engine in this process.

`python -m sim.scripted_call --site examples/lab-site.toml` is the main job until the virtual PBX lands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.sipp import caller_scenario, make_audio, read_trace, sipp_binary, uas_scenario


@dataclass(frozen=True)
class CallScript:
    caller: str = "13800138000"
    digit: str = "1"
    digit_after: float = 2.5  # s after the caller's 200 OK
    ring: float = 3.0  # s the agent lets it ring
    hangup_after: float = 9.0  # s after the DTMF INFO
    hold_at: float | None = None  # s after the DTMF INFO: the caller's side holds (re-INVITE sendonly)
    hold_for: float = 0.0
    agent_port: int = 5071
    caller_port: int = 5080  # the trunk is identified by this source port
    did: str = "4001234567"


async def _sipp(*args: str, log: str, cwd: Path) -> asyncio.subprocess.Process:
    """One SIPp run of one call, bounded in time, with its message trace (for timings) in ``log``."""
    common = ["-i", "127.0.0.1", "-m", "1", "-nostdin", "-timeout", "60s", "-trace_msg", "-message_file", log]
    return await asyncio.create_subprocess_exec(
        sipp_binary(), *args, *common, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )


CALLER_HZ, AGENT_HZ = 440, 1000  # the two sides' tones


async def place_call(
    workdir: Path, script: CallScript, tag: str = "call", during_talk: Callable[[], Awaitable[None]] | None = None
) -> dict[str, Any]:
    """Run the two SIPp sides; return SIPp's own times (epoch seconds) of the key messages."""
    audio = make_audio(workdir / "tone.wav")
    (workdir / "caller.xml").write_text(
        caller_scenario(
            caller=script.caller,
            tag=tag,
            audio=audio,
            digit=script.digit,
            digit_after=script.digit_after,
            hangup_after=script.hangup_after,
            hold_at=script.hold_at,
            hold_for=script.hold_for,
        )
    )
    # the agent speaks a tone of its own (the caller's is 440 Hz): a recording's two sides can be told apart
    voice = make_audio(workdir / "agent-tone.wav", freq=AGENT_HZ)
    (workdir / "agent.xml").write_text(uas_scenario("answer", script.ring, audio=voice))
    agent = await _sipp("-sf", "agent.xml", "-p", str(script.agent_port), "-mp", "16000", log="agent.log", cwd=workdir)
    await asyncio.sleep(0.5)
    caller = await _sipp(
        "127.0.0.1:5060",
        "-sf",
        "caller.xml",
        "-p",
        str(script.caller_port),
        "-mp",
        "16100",
        "-s",
        script.did,
        log="caller.log",
        cwd=workdir,
    )
    if during_talk is not None:
        await asyncio.sleep(script.digit_after + script.ring + 3.0)
        await during_talk()
    rc_caller = await asyncio.wait_for(caller.wait(), 70)
    rc_agent = await asyncio.wait_for(agent.wait(), 70)
    if rc_caller or rc_agent:
        raise RuntimeError(f"SIPp failed (caller exit {rc_caller}, agent exit {rc_agent}); traces in {workdir}")
    c = read_trace(workdir / "caller.log")
    a = read_trace(workdir / "agent.log")
    return {
        "answer": next(m.at for m in c if not m.sent and m.first_line.startswith("SIP/2.0 200")),
        "bye": next(m.at for m in c if m.sent and m.first_line.startswith("BYE")),
        "agent_invite": next(m.at for m in a if not m.sent and m.first_line.startswith("INVITE")),
        "agent_200": next(m.at for m in a if m.sent and m.first_line.startswith("SIP/2.0 200")),
        "reinvites": [m.at for m in c if m.sent and m.first_line.startswith("INVITE")][1:],
    }


async def wait_records(store, n: int, timeout: float = 20.0) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Wait until n call records exist and each has its recording indexed."""
    for _ in range(int(timeout * 10)):
        rows = await store.records()
        if len(rows) >= n and all(r["recording"] for r in rows):
            return rows
        await asyncio.sleep(0.1)
    return await store.records()


async def main_async(site_path: str) -> int:
    from composition import running
    from engine.config import load_site

    async with running(load_site(site_path)) as eng:
        before = {r["call_id"] for r in await eng.store.records()}
        with tempfile.TemporaryDirectory(prefix="hotline-call-") as tmp:
            sipp = await place_call(Path(tmp), CallScript())
        rows = await wait_records(eng.store, len(before) + 1)
    new = [r for r in rows if r["call_id"] not in before]
    if not new:
        print("no call record was written")
        return 1
    talk = round(sipp["bye"] - sipp["agent_200"], 3)
    ring = round(sipp["agent_200"] - sipp["agent_invite"], 3)
    print(json.dumps({"record": new[0], "sipp": {"talk": talk, "ring": ring}}, indent=1))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--site", default="examples/lab-site.toml")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return asyncio.run(main_async(args.site))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
