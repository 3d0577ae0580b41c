"""The dialer's path on the real Asterisk: SIPp as the dialed parties (busy, congestion, no answer, a
machine's long greeting, people) and as an always-on agent. Every outcome is classified from what
Asterisk reports; a person reaches the waiting agent within 2 s of the greeting's end, or hears the
abandon message and is counted; a number on the do-not-call list is never dialed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from composition import running
from dialer.baselines import FixedRatio
from dialer.leads import LeadStore, parse_lead_text
from dialer.report import campaign_report
from engine.config import load_site
from sim.sipp import far_end_scenario, make_greeting, read_trace, sipp_binary, uas_scenario
from tests.asterisk.conftest import SITE
from tests.asterisk.test_acd import dial_code

pytestmark = pytest.mark.asterisk

CAMPAIGN = """
[[campaigns]]
name = "renewals"
agents = ["1002"]
window = "00:00-24:00"
ring_timeout = 15
abandon_prompt = "please-try-again"
wrap_up = 1
max_attempts = 1
"""
GREETING = 0.6  # s of "hello" from the person; then silence, so AMD hears the greeting end


def dialer_site(tmp: Path):
    text = SITE.read_text().replace('url = "sqlite+aiosqlite:///hotline-lab.db"',
                                    f'url = "sqlite+aiosqlite:///{tmp / "dialer.db"}"')  # fmt: skip
    f = tmp / "site.toml"
    f.write_text(text + CAMPAIGN)
    return load_site(f)


async def sipp(cwd: Path, scenario: str, name: str, port: str, calls: int) -> asyncio.subprocess.Process:
    (cwd / f"{name}.xml").write_text(scenario)
    return await asyncio.create_subprocess_exec(
        sipp_binary(), "-sf", f"{name}.xml", "-i", "127.0.0.1", "-p", port, "-mp", "1" + port[1:] + "0",
        "-m", str(calls), "-nostdin", "-timeout", "90s", "-trace_msg", "-message_file", f"{name}.log",
        cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)  # fmt: skip


async def until(pred, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await pred()
        if got:
            return got
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_dial_outcomes_amd_bridge_abandon_and_dnc(lab, tmp_path):
    site = dialer_site(tmp_path)
    person = make_greeting(tmp_path / "hello.wav", GREETING, 6.0)
    machine = make_greeting(tmp_path / "machine.wav", 4.5, 3.0)
    agent = await sipp(tmp_path, uas_scenario("answer", 0.5), "agent", "5072", 1)
    async with running(site) as eng:
        runner = eng.features["dialer"].runners[0]
        runner.pacer = FixedRatio(2.0)  # two leads at once in the last step, for one agent: one must abandon
        leads = LeadStore(eng.store.engine)
        now = time.time()
        await leads.add_dnc(["13900000009"], None, now, "test")

        async def seat_idle():  # type: ignore[no-untyped-def]
            return runner.seats["1002"].state == "idle"

        await until(seat_idle, 20, "the agent's always-on session")

        async def facts(kind: str) -> list:  # type: ignore[type-arg]
            return [f for f in await eng.store.facts() if f.kind == kind]

        async def dial(phones: list[str], far_end: str, name: str, want: int) -> list:  # type: ignore[type-arg]
            proc = await sipp(tmp_path, far_end, name, "5070", want)
            await asyncio.sleep(0.3)
            before = len(await facts("outbound.result")) + len(await facts("outbound.verdict"))
            rows, bad = parse_lead_text("phone\n" + "\n".join(phones) + "\n")
            assert not bad
            await leads.import_leads("renewals", rows, time.time())

            async def resolved():  # type: ignore[no-untyped-def]
                n = len(await facts("outbound.result")) + len(await facts("outbound.verdict"))
                return n - before >= want

            await until(resolved, 40, f"{name}: {want} dial(s) resolved")
            await asyncio.wait_for(proc.wait(), 40)
            return await eng.store.facts()

        # the do-not-call number rides along with the busy one: it must never reach the carrier
        await dial(["13900000009", "13900000001"], uas_scenario("busy"), "busy", 1)
        await dial(["13900000002"], uas_scenario("congestion"), "congestion", 1)
        t0 = time.monotonic()
        await dial(["13900000003"], uas_scenario("never"), "noanswer", 1)
        rang = time.monotonic() - t0
        await dial(["13900000004"], far_end_scenario(machine, 1.0, 30.0, "machine"), "machine", 1)
        everything = await dial(["13900000005", "13900000006"], far_end_scenario(person, 1.0, 5.0), "people", 2)

        async def settled():  # type: ignore[no-untyped-def]
            return runner.seats["1002"].state == "idle" and not runner.dials

        await until(settled, 30, "the conversation to end and the agent back in the session")

        async def recorded():  # type: ignore[no-untyped-def]
            return [f for f in await facts("recording.saved") if f.call_id.startswith("dl-")]

        await until(recorded, 20, "the outbound conversation's recording, merged and indexed")

        async def sampled():  # type: ignore[no-untyped-def]
            return await facts("outbound.amd_sample")

        await until(sampled, 20, "the machine's first seconds kept for QA's check of AMD")
        # the agent's word on the call, from its phone's second line: "call back" (3), and a call back in
        # 30 minutes for itself; an unknown code is refused
        assert await dial_code(tmp_path, "*263") == 0
        assert await dial_code(tmp_path, "*2730") == 0
        own_callbacks = await leads.claim("renewals", None, 5, time.time() + 31 * 60, agent="1002")
        everything = await eng.store.facts()
        status = await leads.counts("renewals")
        session = runner.seats["1002"].channel
        await eng.link.action({"Action": "Hangup", "Channel": session})
    await asyncio.wait_for(agent.wait(), 30)

    results = {f.data["lead"]: f for f in everything if f.kind == "outbound.result"}
    placed = [f for f in everything if f.kind == "outbound.placed"]
    outcomes = sorted(f.data["outcome"] for f in results.values())
    assert outcomes == ["busy", "congestion", "no_answer"], outcomes
    busy = next(f for f in results.values() if f.data["outcome"] == "busy")
    assert busy.data["cause"] == 17 and busy.data["dial_status"] == "BUSY"
    cong = next(f for f in results.values() if f.data["outcome"] == "congestion")
    assert cong.data["cause"] == 34
    assert rang >= 15.0, "rings at least the campaign's 15 s before giving up"
    assert status.get("dnc") == 1, status  # marked do-not-call when it came up for dialing
    traces = [read_trace(tmp_path / f"{n}.log") for n in ("busy", "congestion", "noanswer", "machine", "people")]
    invites = [m for t in traces for m in t if not m.sent and m.first_line.startswith("INVITE")]
    assert invites and not any("13900000009" in m.first_line for m in invites)
    assert len(placed) == 6

    verdicts = [f for f in everything if f.kind == "outbound.verdict"]
    assert sorted(v.data["amd"] for v in verdicts) == ["HUMAN", "HUMAN", "MACHINE"], [v.data for v in verdicts]
    assert len([f for f in everything if f.kind == "outbound.machine"]) == 1
    # MixMonitor ran from the answer: the machine's first seconds (its greeting, AMD's verdict) are kept for QA;
    # the people's were stopped at the verdict and deleted
    (machine_call,) = [v.call_id for v in verdicts if v.data["amd"] == "MACHINE"]
    (sample,) = [f for f in everything if f.kind == "outbound.amd_sample"]
    assert sample.call_id == machine_call and Path(sample.data["path"]).exists()
    # from the answer to the hang-up after AMD's verdict: AMD may call a long greeting a machine within 1.5 s
    assert 1.0 <= sample.data["seconds"] <= 12.0, sample.data
    people = [v.call_id for v in verdicts if v.data["amd"] == "HUMAN"]
    assert not [c for c in people if (Path(sample.data["path"]).parent / f"{c}.wav").exists()]
    (connect,) = [f for f in everything if f.kind == "outbound.connect"]
    (abandon,) = [f for f in everything if f.kind == "outbound.abandon"]
    # the bridged conversation was recorded (MixMonitor on the person's channel, from the bridge on) and
    # finished like an inbound call; the abandoned person never reached an agent, so nothing was recorded
    (saved,) = [f for f in everything if f.kind == "recording.saved" and f.call_id == connect.call_id]
    assert saved.data["channels"] == 2 and Path(saved.data["path"]).exists()
    assert 1.0 < saved.data["seconds"] < 5.0, saved.data  # the 5-s call less its ring, greeting and verdict
    assert not any(f.kind == "recording.started" and f.call_id == abandon.call_id for f in everything)
    # the person reached the agent within 2 s of the greeting's end, checked on Asterisk's own events:
    # the answer (channel.up) plus the greeting we played, against the lead leg entering the bridge
    up = next(f.at for f in everything if f.kind == "channel.up" and f.uniqueid == connect.call_id)
    entered = next(f.at for f in everything if f.kind == "bridge.enter" and f.uniqueid == connect.call_id)
    assert entered - (up + GREETING) <= 2.0, entered - (up + GREETING)
    assert connect.data["agent"] == "1002"
    # the other person heard the message (please-try-again, 1.4 s) from inside the window, then was hung up
    gone = next(f.at for f in everything if f.kind == "channel.hangup" and f.uniqueid == abandon.call_id)
    assert abandon.data["message_at"] - abandon.data["greeting_end"] <= 2.0
    assert gone - abandon.data["message_at"] >= 1.2
    report = campaign_report(everything)["renewals"]
    assert (report["connected"], report["abandoned"], report["live"]) == (1, 1, 2)
    assert report["abandon_rate_us"] == 0.5 and report["abandon_rate_uk"] > 0.5

    (dispo,) = [f for f in everything if f.kind == "outbound.disposition"]
    (callback,) = [f for f in everything if f.kind == "outbound.callback"]
    assert dispo.call_id == callback.call_id == connect.call_id and dispo.data["label"] == "call back"
    assert callback.data["own"] is True and callback.data["agent"] == "1002"
    connected_lead = next(f.data["lead"] for f in placed if f.call_id == connect.call_id)
    assert [x.id for x in own_callbacks] == [connected_lead], "due in 30 minutes, for agent 1002 only"

    out = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "--site", str(site.path),
                          "--json"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["renewals"]["abandon_rate_us"] == 0.5


async def test_hotline_overflow_joins_an_outbound_agents_session_and_the_dialer_lends_it(lab, tmp_path):
    from tests.asterisk.test_acd import acd_site, agent, caller, stop

    # 1001 (the hotline's own agent) is busy; after the 6-s rule step 1002 qualifies, and 1002 works the
    # campaign from its always-on session: the caller joins that session without ringing
    site = acd_site(tmp_path, minimum=70)
    site.path.write_text(site.path.read_text() + CAMPAIGN)
    site = load_site(site.path)
    a1 = await agent(tmp_path, "1001", "busy", calls=3)
    a2 = await agent(tmp_path, "1002", "answer", 0.5)
    async with running(site) as eng:
        dialer = eng.features["dialer"]
        seat = dialer.runners[0].seats["1002"]

        async def idle():  # type: ignore[no-untyped-def]
            return seat.state == "idle"

        await until(idle, 20, "1002's always-on session")
        session = seat.channel
        # long enough to outlast one full ring of 1001 (15 s) should its busy reply be slow to come
        c = await caller(tmp_path, hangup_after=24.0)
        states = set()
        deadline = time.monotonic() + 40
        while c.returncode is None and time.monotonic() < deadline:
            states.add(seat.state)
            await asyncio.sleep(0.1)
        assert await asyncio.wait_for(c.wait(), 30) == 0
        await until(idle, 30, "1002 back in the pool after the wrap-up")
        (rec,) = await until(lambda: _records(eng), 20, "the call record")
        facts = await eng.store.facts(rec["call_id"])
        still_up = eng.model.by_name(session) is not None
        await eng.link.action({"Action": "Hangup", "Channel": session})
    await stop(a1)
    await asyncio.wait_for(a2.wait(), 30)
    assert rec["outcome"] == "answered" and rec["agent_id"] == "1002", rec
    assert rec["queue_wait"] >= 6.0 - 1.6 and rec["ring_time"] < 1.0, "joined after the rule step, no ringing"
    assert rec["talk_time"] > 5.0
    assert "lent" in states, "the dialer took 1002 out of its pool for the call"
    kinds = [f.kind for f in facts]
    assert kinds.count("dialer.lent") == 1 and kinds.count("dialer.returned") == 1
    assert still_up, "F() sent 1002 back to its session when the caller hung up"
    # no second INVITE reached 1002's phone: the call came into the session it had answered once
    invites = [m for m in read_trace(tmp_path / "a1002.log") if not m.sent and m.first_line.startswith("INVITE")]
    assert len(invites) == 1


async def _records(eng):  # type: ignore[no-untyped-def]
    rows = await eng.store.records()
    return rows if rows else None
