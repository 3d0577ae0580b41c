"""Engine logic against the virtual PBX (fast, no Asterisk): concurrency the real-Asterisk tests do not reach."""

import asyncio
from pathlib import Path

from composition import running
from engine.clock import ScaledClock
from engine.config import load_site
from sim.pbx.model import CalleeBehavior, CallerScript
from sim.pbx.server import VirtualPbxServer

SITE = Path(__file__).resolve().parent.parent / "examples" / "lab-site.toml"


async def _run(tmp_path: Path, scripts: list[tuple[float, CallerScript]], behavior: CalleeBehavior, speed: float):
    clock = ScaledClock(speed)
    server = VirtualPbxServer(clock, tmp_path)
    await server.start()
    site = server.engine_site(load_site(SITE), tmp_path / "e.db")
    server.pbx.endpoints["agent1001"] = behavior
    max_agent_legs = 0

    def watch(headers):
        nonlocal max_agent_legs
        legs = [c for c in server.pbx.channels.values() if c.endpoint == "agent1001"]
        max_agent_legs = max(max_agent_legs, len(legs))

    server.pbx.listeners.append(watch)
    try:
        async with running(site, clock=clock) as eng:
            server.agi.port = eng.agi.port
            for delay, script in scripts:
                await clock.sleep(delay)
                server.pbx.inbound(script)
            for _ in range(2400):  # 2 min real at most: the calls end sooner
                await asyncio.sleep(0.05)
                rows = await eng.store.records()
                if len(rows) == len(scripts) and not server.pbx.channels:
                    break
            rows = await eng.store.records()
    finally:
        await server.close()
    return rows, max_agent_legs


def test_callers_queue_for_one_agent_in_arrival_order(tmp_path):
    # 8 s apart (0.8 s of real time at x10; 2 s let a loaded CI machine queue the second caller first), all
    # three inside the first caller's 40 s with the only agent
    scripts = [
        (0.0, CallerScript(caller="13800000001", digits=[(1.0, "1")], talk=40.0)),
        (8.0, CallerScript(caller="13800000002", digits=[(1.0, "1")], talk=10.0, patience=300.0)),
        (8.0, CallerScript(caller="13800000003", digits=[(1.0, "1")], talk=10.0, patience=300.0)),
    ]
    rows, max_legs = asyncio.run(_run(tmp_path, scripts, CalleeBehavior("answer", 2.0), speed=10.0))
    assert max_legs == 1, "the agent was never offered two calls at once"
    assert [r["outcome"] for r in rows] == ["answered"] * 3
    by_caller = {r["caller"]: r for r in rows}
    c1, c2, c3 = (by_caller[f"1380000000{i}"] for i in (1, 2, 3))
    # the property is queue order; the spacing makes it the order they rang in
    assert c1["queued_at"] < c2["queued_at"] < c3["queued_at"], "queued in the order they rang"
    assert c1["connected_at"] < c2["connected_at"] < c3["connected_at"], "served in queue order"
    assert c2["connected_at"] >= c1["ended_at"] - 0.5


def test_caller_who_gives_up_is_an_abandon_and_the_next_one_is_served(tmp_path):
    scripts = [
        (0.0, CallerScript(caller="13800000001", digits=[(1.0, "1")], talk=30.0)),
        # 8 s after the first (0.8 s of real time at x10; 3 s let a loaded CI machine queue it first): still
        # well inside the first caller's 30 s with the only agent, so it gives up after its 8 s of patience
        (8.0, CallerScript(caller="13800000002", digits=[(1.0, "1")], talk=5.0, patience=8.0)),
        (1.0, CallerScript(caller="13800000003", digits=[(1.0, "1")], talk=5.0, patience=300.0)),
    ]
    rows, max_legs = asyncio.run(_run(tmp_path, scripts, CalleeBehavior("answer", 2.0), speed=10.0))
    by_caller = {r["caller"]: r for r in rows}
    assert by_caller["13800000002"]["outcome"] == "abandoned"
    assert by_caller["13800000002"]["hangup_side"] == "caller"
    assert by_caller["13800000003"]["outcome"] == "answered"
    assert max_legs == 1


def test_agent_status_survives_an_engine_restart(tmp_path):
    from acd.agent_state import Status

    async def go():
        clock = ScaledClock(10.0)
        server = VirtualPbxServer(clock, tmp_path)
        await server.start()
        site = server.engine_site(load_site(SITE), tmp_path / "e.db")
        try:
            async with running(site, clock=clock) as eng:
                acd = eng.features["acd"]
                for _ in range(50):
                    if acd.machines["1001"].status is Status.AVAILABLE:
                        break
                    await asyncio.sleep(0.05)
                await acd.control("1001", "pause", "lunch")
                await acd.control("1002", "logout")
            async with running(site, clock=clock) as eng:
                acd = eng.features["acd"]
                for _ in range(50):
                    if acd.machines["1001"].status is not Status.LOGGED_OUT:
                        break
                    await asyncio.sleep(0.05)
                return {a: (m.status, m.reason) for a, m in acd.machines.items()}
        finally:
            await server.close()

    states = asyncio.run(go())
    assert states == {"1001": (Status.PAUSED, "lunch"), "1002": (Status.LOGGED_OUT, "")}
