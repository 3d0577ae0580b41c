"""A team lead listens, whispers and barges on the real Asterisk: the service API rings the lead's phone (a SIPp
softphone) into ChanSpy on the agent's call, seen in Asterisk's own ChanSpyStart and ChanSpyStop events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from acd.agent_state import State
from composition import running
from engine.asterisk.ami_codec import Frame
from engine.config import load_site
from engine.policy import Actor, Role
from engine.service_api import Outcome, Request
from sim.rtp_phone import open_phone, share_at, ulaw_tone
from sim.sipp import external_media, ivr_caller_scenario, make_audio, uas_scenario
from tests.asterisk.test_acd import acd_site, agent, caller, sipp, stop

pytestmark = pytest.mark.asterisk

LEAD_PHONE = "agent1002"  # the lab has two endpoints: 1001 takes the caller, 1002 is the lead's desk phone
LENA = Actor("lena", Role.TEAM_LEAD, via="web", teams=frozenset({"north"}), phone=LEAD_PHONE)
OMAR = Actor("omar", Role.TEAM_LEAD, via="web", teams=frozenset({"south"}), phone=LEAD_PHONE)


def spy_site(tmp: Path):
    site = acd_site(tmp, minimum=70, rules=False)  # only 1001 (skill 90) takes callers: 1002 stays free to spy
    text = site.path.read_text().replace("skills = { hotline = 90 }", 'skills = { hotline = 90 }\ngroups = ["north"]')
    site.path.write_text(text)
    return load_site(site.path)


async def until(predicate: Callable[[], bool], timeout: float) -> bool:
    for _ in range(int(timeout * 10)):
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


# what these tests read of Asterisk's events: the engine passes over the events none of its readers use
SPY_EVENTS = {"ChanSpyStart", "ChanSpyStop", "OriginateResponse", "VarSet"}


def spies(frames: list[Frame], event: str) -> list[Frame]:
    return [f for f in frames if f.event == event]


def originated(frames: list[Frame]) -> list[str]:
    """The Data of every ChanSpy Asterisk originated (each async Originate ends in one OriginateResponse)."""
    return [f.get("Data") for f in frames if f.event == "OriginateResponse" and f.get("Application") == "ChanSpy"]


def qos(frames: list[Frame], channel: str) -> dict[str, str]:
    """The RTPAUDIOQOS variable Asterisk sets as ``channel`` hangs up ({} until its VarSet arrived: a moment after
    the ChanSpyStop, so a test waits for it before the engine stops)."""
    value = next((f.get("Value") for f in frames if f.event == "VarSet" and f.get("Channel") == channel
                  and f.get("Variable") == "RTPAUDIOQOS"), "")  # fmt: skip
    return dict(kv.split("=", 1) for kv in value.split(";") if "=" in kv)


def sent_to(frames: list[Frame], channel: str) -> int:
    """RTP packets Asterisk sent to ``channel``."""
    return int(qos(frames, channel)["txcount"])


async def test_a_lead_listens_on_the_agents_call_and_a_lead_of_another_team_is_refused(lab, tmp_path):
    frames: list[Frame] = []
    async with running(spy_site(tmp_path)) as eng:
        eng.on_events(SPY_EVENTS, frames.append)
        api = eng.features["api"]
        machine = eng.features["acd"].machines["1001"]
        a1 = await agent(tmp_path, "1001", "answer", 0.5)
        lead = await agent(tmp_path, "1002", "answer", 0.5)
        await asyncio.sleep(0.5)
        c = await caller(tmp_path, hangup_after=10.0)
        assert await until(lambda: machine.state is State.ON_CALL, 30)
        refused = await api.do(OMAR, Request("listen", "1001"))
        await asyncio.sleep(1.0)  # time enough for an Originate to show: none may come
        asked = len(frames)
        done = await api.do(LENA, Request("listen", "1001"))
        assert await until(lambda: bool(spies(frames, "ChanSpyStart")), 10)
        assert await asyncio.wait_for(c.wait(), 60) == 0
        assert await until(lambda: bool(spies(frames, "ChanSpyStop")), 10), "E: the spy ends with the agent's call"
        spyer = spies(frames, "ChanSpyStop")[0].get("SpyerChannel")
        assert await until(lambda: bool(qos(frames, spyer)), 10)
        await stop(lead, a1)
        actions = [f.data for f in await eng.store.facts("") if f.kind == "action"]
        records = await eng.store.records()
    assert refused == Outcome(False, "1001 is not in a team omar leads", "policy")
    assert not [f for f in frames[:asked] if f.get("Channel").startswith(f"PJSIP/{LEAD_PHONE}-")], "nothing rang"
    assert done.ok, done
    assert originated(frames) == ["PJSIP/agent1001-,qE"], "one ChanSpy, lena's; omar's never reached Asterisk"
    (start,), (end,) = spies(frames, "ChanSpyStart"), spies(frames, "ChanSpyStop")
    agent_leg = next(f for f in frames if f.event == "Newchannel" and f.get("Channel").startswith("PJSIP/agent1001-"))
    assert start.get("SpyerChannel").startswith(f"PJSIP/{LEAD_PHONE}-")
    assert start.get("SpyeeChannel") == agent_leg.get("Channel")
    assert start.get("SpyeeUniqueid") == agent_leg.get("Uniqueid")
    assert (end.get("SpyerChannel"), end.get("SpyeeChannel")) == (start.get("SpyerChannel"), start.get("SpyeeChannel"))
    assert frames.index(end) < frames.index(next(f for f in frames if f.event == "Hangup"
                                                 and f.get("Channel") == agent_leg.get("Channel")))  # fmt: skip
    assert sent_to(frames, start.get("SpyerChannel")) > 0, "the call's audio reached the lead's phone"
    assert [(a["actor"], a["role"], a["via"], a["action"], a["agent"], a["ok"], a["refused_by"]) for a in actions] == [
        ("omar", "team_lead", "web", "listen", "1001", False, "policy"),
        ("lena", "team_lead", "web", "listen", "1001", True, ""),
    ], actions  # fmt: skip
    # the lead's leg is no caller: the one call record is the caller's, answered by 1001
    assert [(r["outcome"], r["agent_id"]) for r in records] == [("answered", "1001")], records


async def test_a_lead_whispers_then_barges_on_the_same_call(lab, tmp_path):
    frames: list[Frame] = []
    async with running(spy_site(tmp_path)) as eng:
        eng.on_events(SPY_EVENTS, frames.append)
        api = eng.features["api"]
        machine = eng.features["acd"].machines["1001"]
        a1 = await agent(tmp_path, "1001", "answer", 0.5)
        lead = await agent(tmp_path, "1002", "answer", 0.5, calls=2)
        await asyncio.sleep(0.5)
        c = await caller(tmp_path, hangup_after=12.0)
        assert await until(lambda: machine.state is State.ON_CALL, 30)
        assert (await api.do(LENA, Request("whisper", "1001"))).ok
        assert await until(lambda: len(spies(frames, "ChanSpyStart")) == 1, 10)
        await asyncio.sleep(1.0)
        # the lead puts the phone down: the spy stops while the agent's call goes on
        whisperer = spies(frames, "ChanSpyStart")[0].get("SpyerChannel")
        await eng.link.action({"Action": "Hangup", "Channel": whisperer})
        assert await until(lambda: len(spies(frames, "ChanSpyStop")) == 1, 10)
        assert machine.state is State.ON_CALL
        assert (await api.do(LENA, Request("barge", "1001"))).ok
        assert await until(lambda: len(spies(frames, "ChanSpyStart")) == 2, 10)
        assert await asyncio.wait_for(c.wait(), 60) == 0
        assert await until(lambda: len(spies(frames, "ChanSpyStop")) == 2, 10)
        assert await until(lambda: all(qos(frames, f.get("SpyerChannel")) for f in spies(frames, "ChanSpyStop")), 10)
        await stop(lead, a1)
        actions = [f.data for f in await eng.store.facts("") if f.kind == "action"]
    assert originated(frames) == ["PJSIP/agent1001-,qEw", "PJSIP/agent1001-,qEB"]
    starts, stops = spies(frames, "ChanSpyStart"), spies(frames, "ChanSpyStop")
    agent_leg = next(f.get("Channel") for f in frames if f.event == "Newchannel"
                     and f.get("Channel").startswith("PJSIP/agent1001-"))  # fmt: skip
    assert {f.get("SpyeeChannel") for f in starts + stops} == {agent_leg}, "both on the one agent leg"
    spyers = [f.get("SpyerChannel") for f in starts]
    assert spyers[0] == whisperer and spyers[1] != whisperer and spyers[1].startswith(f"PJSIP/{LEAD_PHONE}-")
    assert [f.get("SpyerChannel") for f in stops] == spyers
    assert all(sent_to(frames, s) > 0 for s in spyers)
    assert [(a["actor"], a["action"], a["ok"]) for a in actions] == [("lena", "whisper", True), ("lena", "barge", True)]


# ---- listen, then barge: what each party hears -------------------------------------------------------------------
CALLER_HZ, AGENT_HZ, LEAD_HZ = 440, 600, 1000  # each phone speaks its own tone: a share of energy says who is heard


def received_from(frames: list[Frame], channel: str) -> int:
    """RTP packets Asterisk received from ``channel``'s phone."""
    return int(qos(frames, channel)["rxcount"])


async def test_a_lead_listens_then_barges_and_both_parties_hear_the_lead(lab, tmp_path):
    """What each party hears is taken at its phone: the caller's and the agent's media are RTP endpoints of the
    test (SIPp does their SIP). Not the call's recording: MixMonitor hears a channel's audio before ChanSpy's
    whisper is mixed in, so the lead's voice is in neither leg (docs/asterisk.md#chanspy-barge)."""
    frames: list[Frame] = []
    caller_ear, agent_ear = await open_phone(ulaw_tone(CALLER_HZ)), await open_phone(ulaw_tone(AGENT_HZ))
    clock = asyncio.get_running_loop().time
    try:
        async with running(spy_site(tmp_path)) as eng:
            eng.on_events(SPY_EVENTS, frames.append)
            api = eng.features["api"]
            machine = eng.features["acd"].machines["1001"]
            (tmp_path / "a.xml").write_text(external_media(uas_scenario("answer", 0.5), agent_ear.port))
            a1 = await sipp(tmp_path, "-sf", "a.xml", "-p", "5071", "-mp", "10710", "-m", "1", log="a.log")
            # the lead's phone speaks its tone from the moment it answers, the listen leg included
            voice = make_audio(tmp_path / "lead.wav", 1.0, LEAD_HZ)
            (tmp_path / "l.xml").write_text(uas_scenario("answer", 0.3, audio=voice))
            lead = await sipp(tmp_path, "-sf", "l.xml", "-p", "5072", "-mp", "10720", "-m", "2", log="l.log")
            steps = [("pause", 1.5), ("dtmf", "1", 0.0), ("wait_bye", 40.0)]
            (tmp_path / "c.xml").write_text(external_media(
                ivr_caller_scenario(caller="13800138000", tag="barge", audio=voice, steps=steps), caller_ear.port))
            c = await sipp(tmp_path, "127.0.0.1:5060", "-sf", "c.xml", "-p", "5080", "-mp", "16100",
                           "-s", "4001234567", "-m", "1", log="c.log")  # fmt: skip
            assert await until(lambda: machine.state is State.ON_CALL, 30)
            listen = await api.do(LENA, Request("listen", "1001"))
            assert await until(lambda: len(spies(frames, "ChanSpyStart")) == 1, 10)
            listening = (clock() + 0.3, clock() + 2.3)
            await asyncio.sleep(listening[1] - clock())
            barge = await api.do(LENA, Request("barge", "1001"))
            assert await until(lambda: len(spies(frames, "ChanSpyStart")) == 2, 10)
            barging = (clock() + 0.3, clock() + 2.3)
            await asyncio.sleep(barging[1] - clock())
            agent_leg = next(f.get("Channel") for f in frames if f.event == "Newchannel"
                             and f.get("Channel").startswith("PJSIP/agent1001-"))  # fmt: skip
            await eng.link.action({"Action": "Hangup", "Channel": agent_leg})  # the agent ends the call
            assert await asyncio.wait_for(c.wait(), 20) == 0
            assert await until(lambda: len(spies(frames, "ChanSpyStop")) == 2, 10)
            assert await until(lambda: all(qos(frames, f.get("SpyerChannel")) for f in spies(frames, "ChanSpyStop")),
                               10)  # fmt: skip
            await stop(lead, a1)
            actions = [f.data for f in await eng.store.facts("") if f.kind == "action"]
    finally:
        caller_ear.close()
        agent_ear.close()
    assert listen.ok and barge.ok, (listen, barge)
    assert originated(frames) == ["PJSIP/agent1001-,qE", "PJSIP/agent1001-,qEB"]
    spying = [(f.event, f.get("SpyerChannel"), f.get("SpyeeChannel")) for f in frames if f.event.startswith("ChanSpy")]
    (_, listener, listened), (_, barger, barged) = (s for s in spying if s[0] == "ChanSpyStart")
    assert listened == barged == agent_leg and listener != barger and barger.startswith(f"PJSIP/{LEAD_PHONE}-")
    # the barge replaced the listen leg: that spy ended before the barge's began
    assert [s[:2] for s in spying] == [("ChanSpyStart", listener), ("ChanSpyStop", listener),
                                       ("ChanSpyStart", barger), ("ChanSpyStop", barger)], spying  # fmt: skip
    assert received_from(frames, listener) > 50, "the lead spoke while listening (50 packets: a second)"
    for ear, own_hz, other_hz in ((caller_ear, CALLER_HZ, AGENT_HZ), (agent_ear, AGENT_HZ, CALLER_HZ)):
        before, after = ear.between(*listening), ear.between(*barging)
        assert min(len(before), len(after)) >= 1.5 * 8000, (len(before), len(after))  # the phone heard audio
        assert share_at(before, other_hz) > 0.5 and share_at(before, own_hz) < 0.02, "each hears the other"
        assert share_at(before, LEAD_HZ) < 0.02, f"{own_hz} Hz phone heard the lead before the barge"
        assert share_at(after, LEAD_HZ) > 0.2, f"{own_hz} Hz phone did not hear the lead's barge"
        assert share_at(after, other_hz) > 0.2, "the call goes on under the lead's voice"
    assert [(a["actor"], a["action"], a["agent"], a["ok"]) for a in actions] == [
        ("lena", "listen", "1001", True), ("lena", "barge", "1001", True)]  # fmt: skip
