"""A leg that a busy phone refuses can be created and hung up before its originator starts watching the model;
the model remembers it ended, so the ring path moves on at once instead of waiting out the ring timeout
(seen on the real Asterisk: a caller abandoned after 24 s beside a free overflow agent)."""

from __future__ import annotations

import asyncio

from engine.asterisk.ami_codec import Frame
from engine.model.calls import ENDED_KEPT, CallModel


def _frame(event: str, uid: str, **more: str) -> Frame:
    fields = {"Event": event, "Uniqueid": uid, "Linkedid": uid, "Channel": f"PJSIP/agent1001-{uid}",
              "ChannelState": "0", "Context": "agents", "Exten": "s", **more}  # fmt: skip
    return Frame(list(fields.items()))


def test_the_model_remembers_legs_that_came_and_went():
    m = CallModel()
    m.apply(_frame("Newchannel", "hl-1"), 1.0)
    m.apply(_frame("Hangup", "hl-1", Cause="17"), 1.004)
    assert "hl-1" not in m.channels and m.ended["hl-1"] == 1.004
    for i in range(ENDED_KEPT + 5):
        m.apply(_frame("Hangup", f"x{i}"), 2.0)
    assert len(m.ended) == ENDED_KEPT and "hl-1" not in m.ended  # bounded: the oldest go first


def test_a_busy_phone_is_moved_past_at_once_not_after_the_ring_timeout(tmp_path):
    """The virtual PBX refuses the busy phone's leg 1 ms after the INVITE, while the dispatcher is still writing
    its offer: three offers must be refused (and the agent auto-paused) within seconds, not one per 25 s."""
    from composition import running
    from engine.clock import ScaledClock
    from engine.config import load_site
    from sim.pbx.model import CalleeBehavior, CallerScript
    from sim.pbx.server import VirtualPbxServer
    from tests.test_engine_on_vpbx import SITE

    async def go() -> list:
        clock = ScaledClock(5.0)  # 10x left a loaded machine's 0.6 s of real time over the bound below
        server = VirtualPbxServer(clock, tmp_path)
        await server.start()
        site = server.engine_site(load_site(SITE), tmp_path / "e.db")
        server.pbx.endpoints["agent1001"] = CalleeBehavior("busy")
        try:
            async with running(site, clock=clock) as eng:
                server.agi.port = eng.agi.port
                server.pbx.inbound(CallerScript(caller="13800000001", digits=[(1.0, "1")], talk=5.0, patience=20.0))
                for _ in range(300):
                    await asyncio.sleep(0.05)
                    if await eng.store.records() and not server.pbx.channels:
                        break
                return await eng.store.facts()
        finally:
            await server.close()

    facts = asyncio.run(go())
    offers = [f for f in facts if f.kind == "agent.offer"]
    paused = [f for f in facts if f.kind == "agent.paused"]
    assert len(offers) >= 3 and paused, f"{len(offers)} offer(s), paused: {bool(paused)}"
    # a refused ring waited out would take the ring timeout (25 s) each: 75 s for three
    assert paused[0].at - offers[0].at < 12.0, "three refused rings took as long as the ring timeout"
