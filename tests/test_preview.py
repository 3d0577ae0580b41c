"""Preview mode in virtual time, through the unchanged engine on the virtual PBX: no dial until the agent
asks, exactly one dial per request, the live answer bridged straight to that agent (no AMD, no abandon),
and each outbound conversation recorded like an inbound call."""

import asyncio
import logging
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from acd.feature_codes import FeatureCodes
from recording.encode import probe, sha256_of
from sim import world
from sim.day import scratch_site, simulate
from sim.demo import _day_start
from sim.pbx.model import CalleeBehavior
from sim.synthetic_leads import synthetic_index, synthetic_number

AGENT, IDLE_AGENT = "2001", "2002"
QUIET = 120.0  # s the agent sits in its session before the first request: nothing may be dialed meanwhile


def far_end(number: str) -> CalleeBehavior:
    """Every third lead a person (answers after 4 s, talks 20 s), then a busy line, then no answer."""
    idx = synthetic_index(number)
    kind = (idx or 0) % 3
    if kind == 0:
        return CalleeBehavior("answer", 4.0, 20.0)
    return CalleeBehavior("busy") if kind == 1 else CalleeBehavior("never")


def _preview_day(agent_says, hours: float = 0.5) -> list[Any]:  # type: ignore[no-untyped-def]
    """A campaign in preview mode with two agents; ``agent_says(engine)`` acts for the agents."""
    facts: list[Any] = []

    def hook(eng) -> None:  # type: ignore[no-untyped-def]
        eng.spawn(agent_says(eng), "agent")

    async def go() -> None:
        with tempfile.TemporaryDirectory(prefix="hotline-preview-") as tmp:
            wd = Path(tmp)
            site = scratch_site(wd, lambda secret: world.site_text(
                ami_port=5038, agi_port=4573, secret_file=secret, store_url="sqlite+aiosqlite:///unused.db",
                recordings=wd / "recordings", queue_log=wd / "queue_log", outbound_agents=2, mode="preview",
            ))  # fmt: skip
            start = _day_start(site["site"]["timezone"], 10.0)
            sim = await simulate(site, [], start, hours * 3600, seed=1, carrier=far_end, on_engine=hook)
            facts.extend(sim.facts)

    asyncio.run(go())
    return facts


async def _until(eng, pred, limit: float = 600.0) -> None:  # type: ignore[no-untyped-def]
    t0 = eng.clock.monotonic()
    while not pred():
        assert eng.clock.monotonic() - t0 < limit, "waited too long in virtual time"
        await eng.clock.sleep(0.5)


def test_preview_dials_only_when_the_agent_asks_and_bridges_to_that_agent(caplog):
    caplog.set_level(logging.INFO, logger="hotline.dialer")
    asked: list[float] = []
    said: dict[str, Any] = {}

    async def agent_says(eng) -> None:  # type: ignore[no-untyped-def]
        dialer = eng.features["dialer"]
        runner = dialer.runners[0]
        seat = runner.seats[AGENT]
        await _until(eng, lambda: seat.state == "idle")
        await eng.clock.sleep(QUIET)
        said["quiet_dials"] = sum(1 for r in dialer.runners for _ in r.dials)
        with pytest.raises(ValueError, match="holds no lead"):
            await dialer.control(AGENT, "preview_dial")
        # look, look again (the same lead), pass on it
        said["first"] = await dialer.control(AGENT, "preview_next")
        said["again"] = await dialer.control(AGENT, "preview_next")
        said["skip"] = await dialer.control(AGENT, "preview_skip")
        # look, then dial; then *29 (next and dial at once) a few times, each after the last call is over
        await dialer.control(AGENT, "preview_next")
        for i in range(7):
            await _until(eng, lambda: seat.state in ("idle", "wrap"))
            asked.append(eng.clock.now())
            said.setdefault("replies", []).append(
                await dialer.control(AGENT, "preview_dial" if i == 0 else "preview_call")
            )
            with pytest.raises(ValueError, match="a preview dial needs the agent free"):
                await dialer.control(AGENT, "preview_call")  # a double press while the number rings
            await _until(eng, lambda: seat.state != "preview")

    facts = _preview_day(agent_says)
    assert said["quiet_dials"] == 0
    placed = [f for f in facts if f.kind == "outbound.placed"]
    assert len(placed) == len(asked) == 7, "exactly one dial per request"
    assert min(f.at for f in placed) >= asked[0], "no dial before the agent asked"
    for f, t in zip(placed, asked, strict=True):
        assert f.at - t < 1.0 and f.data["agent"] == AGENT and f.data["amd"] is False

    by_call: dict[str, dict[str, Any]] = defaultdict(dict)
    for f in facts:
        by_call[f.call_id][f.kind] = f
    previews = [f for f in facts if f.kind == "outbound.preview"]
    assert len(previews) == 8 and all(f.data["agent"] == AGENT for f in previews)  # the skipped one + 7 dialed
    (skip,) = [f for f in facts if f.kind == "outbound.skip"]
    assert skip.data["lead"] == previews[0].data["lead"] and "outbound.placed" not in by_call[skip.call_id]
    for f in placed:  # the dial carries its preview's id: lead shown, dialed and resolved under one call
        assert by_call[f.call_id]["outbound.preview"].data["lead"] == f.data["lead"]
    connects = [f for f in facts if f.kind == "outbound.connect"]
    results = [f for f in facts if f.kind == "outbound.result"]
    assert len(connects) + len(results) == 7 and connects and results
    assert {f.data["outcome"] for f in results} <= {"busy", "no_answer"}
    assert all(c.data["agent"] == AGENT and c.data["after_greeting"] < 0.5 for c in connects)
    assert not any(f.kind in ("outbound.abandon", "outbound.machine") for f in facts), "no abandon, no AMD"
    # people answered only the dials of leads 0, 3, 6, ...: the classification follows the far end
    for c in connects:
        assert by_call[c.call_id]["outbound.placed"].data["lead"] % 3 == 0

    # every conversation is recorded on the customer's channel under the outbound call's id
    started = {f.call_id: f for f in facts if f.kind == "recording.started"}
    for c in connects:
        assert c.call_id in started and started[c.call_id].data["file"].endswith(f"/{c.call_id}.wav")
    assert {f.call_id for f in facts if f.kind == "call.end"} >= {c.call_id for c in connects}

    # the agent's replies and the logs name leads by masked number only
    lead0 = previews[0].data["lead"]
    assert said["first"] == said["again"] == f"{AGENT}: lead {lead0} *******{synthetic_number(lead0)[-4:]}"
    assert said["skip"] == f"{AGENT}: lead {lead0} skipped (back later)"
    assert all("dialing lead" in r for r in said["replies"])
    text = caplog.text
    assert "previews lead" in text
    assert not any(synthetic_number(f.data["lead"]) in text for f in previews), "a full number in the log"

    # the other agent never asked: nothing was dialed for it and no customer reached it
    assert not any(f.data.get("agent") == IDLE_AGENT for f in [*placed, *connects])


def test_preview_actions_belong_to_preview_campaigns_and_star_29_is_next_and_dial():
    from sim.day import run_day
    from sim.traffic import InboundModel

    seen: dict[str, Any] = {}

    def hook(eng) -> None:  # type: ignore[no-untyped-def]
        async def go() -> None:
            try:
                await eng.features["dialer"].control(AGENT, "preview_next")
            except ValueError as exc:
                seen["error"] = str(exc)

        eng.spawn(go(), "agent")

    asyncio.run(run_day(hours=0.02, seed=1, outbound_agents=2, on_engine=hook,
                        inbound=InboundModel(calls_per_day=0.001)))  # fmt: skip
    assert "is predictive: the dialer paces its calls" in seen["error"]

    # *29 on an agent's phone reaches the dialer as preview_call for that agent
    calls: list[tuple[str, str, str]] = []

    async def outbound(agent: str, action: str, arg: str) -> str:
        calls.append((agent, action, arg))
        return "ok"

    async def control(agent: str, action: str, arg: str) -> str:
        raise AssertionError("not an ACD action")

    class Agi:
        channel = "PJSIP/agent2001-00000007"
        env = type("Env", (), {"args": ["preview_call"]})()
        streamed: list[str] = []

        async def answer(self) -> None:
            return None

        async def stream(self, prompt: str) -> None:
            self.streamed.append(prompt)

    with tempfile.TemporaryDirectory() as tmp:
        site = scratch_site(Path(tmp), lambda secret: world.site_text(
            ami_port=5038, agi_port=4573, secret_file=secret, store_url="sqlite+aiosqlite:///unused.db",
            recordings=Path(tmp), queue_log=Path(tmp) / "q", outbound_agents=1, mode="preview"))  # fmt: skip
    from engine.clock import VirtualClock
    from engine.policy import Policy
    from engine.service_api import Backends, ServiceApi

    facts: list = []

    async def record(batch: list) -> None:
        facts.extend(batch)

    api = ServiceApi(Policy(lambda a: frozenset()), Backends(control, outbound), record, VirtualClock(),
                     frozenset({AGENT}))  # fmt: skip
    agi = Agi()
    asyncio.run(FeatureCodes(site.agents, api)(agi))  # type: ignore[arg-type]
    assert calls == [(AGENT, "preview_call", "")] and agi.streamed == ["beep"]
    assert [(f.kind, f.data["actor"], f.data["via"], f.data["ok"]) for f in facts] == [("action", AGENT, "phone", True)]


def test_an_outbound_conversation_is_recorded_and_indexed_like_an_inbound_call(tmp_path):
    """Real time (scaled), sockets and real WAV legs: the virtual PBX's MixMonitor on the customer's channel,
    merged to stereo after the call by the same end-of-call hook as inbound calls."""

    from composition import running
    from engine.clock import ScaledClock
    from engine.config import load_site
    from sim.demo import _free_port
    from sim.pbx.server import VirtualPbxServer

    async def go() -> tuple[Any, list[Any]]:
        clock = ScaledClock(20.0, start=_day_start("Asia/Shanghai", 10.0))
        server = VirtualPbxServer(clock, tmp_path)
        await server.start()
        site_file = tmp_path / "site.toml"
        site_file.write_text(world.site_text(
            ami_port=server.ami.port, agi_port=_free_port(), secret_file=server.secret_file,
            store_url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", recordings=server.recordings,
            queue_log=tmp_path / "queue_log", outbound_agents=1, mode="preview"))  # fmt: skip
        server.pbx.endpoint_callee = lambda endpoint, n: CalleeBehavior("answer", 0.5)
        server.pbx.trunk_callee = far_end  # lead 0: a person who talks 20 s
        try:
            async with running(load_site(site_file), clock=clock) as eng:
                server.agi.port = eng.agi.port
                seat = eng.features["dialer"].runners[0].seats[AGENT]
                for _ in range(400):
                    if seat.state == "idle":
                        break
                    await asyncio.sleep(0.02)
                reply = await eng.features["dialer"].control(AGENT, "preview_call")
                for _ in range(600):  # 20 s of talk at 20x, then the merge
                    facts = await eng.store.facts()
                    if any(f.kind == "recording.saved" for f in facts):
                        break
                    await asyncio.sleep(0.05)
                return reply, await eng.store.facts()
        finally:
            await server.close()

    reply, facts = asyncio.run(go())
    assert "dialing lead 0" in reply
    (connect,) = [f for f in facts if f.kind == "outbound.connect"]
    (saved,) = [f for f in facts if f.kind == "recording.saved"]
    assert saved.call_id == connect.call_id and saved.data["channels"] == 2
    assert saved.data["seconds"] == pytest.approx(20.0, abs=1.0), "the bridged conversation, not the ringing"
    path = Path(saved.data["path"])
    assert path.name == f"{connect.call_id}.opus"
    assert probe(path) == (2, pytest.approx(saved.data["seconds"], abs=0.05))
    assert saved.data["format"] == "opus" and saved.data["sha256"] == sha256_of(path)
    assert not any(p.name.endswith(("-in.wav", "-out.wav")) for p in path.parent.iterdir()), "legs merged away"
