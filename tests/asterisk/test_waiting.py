"""While callers wait, on the real Asterisk with SIPp: the call-back offer (Read() in engine-announce, then
the queue-callback AGI), the call back placed from the agent's phone when the caller's turn comes, before
a caller who came later, and position announcements played by the dialplan between stretches of music."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from composition import running
from engine.asterisk.ami_codec import Frame
from sim.scripted_call import wait_records
from sim.sipp import LOAD_AGENT, LOAD_CALLER, far_end_scenario, make_audio, read_trace
from tests.asterisk.test_acd import acd_site, sipp, stop

pytestmark = pytest.mark.asterisk

RULES = 'announce_every = 15\nrules = [ { after = 6, offer_callback = true, announce = "queue-callswaiting" } ]'

# the caller's INFO (the menu digit, from LOAD_CALLER), then a second one: 1 at the call-back offer
_START = LOAD_CALLER.index('  <send retrans="500"><![CDATA[\nINFO')
_INFO = LOAD_CALLER[_START : LOAD_CALLER.index("  <!-- connected")]
SECOND_KEY = '  <pause milliseconds="{pause_ms}"/>\n' + _INFO.replace("CSeq: 2 INFO", "CSeq: 3 INFO").replace(
    "Signal=[field2]", "Signal=1"
)


def takes_the_offer(audio: Path, pause_ms: int) -> str:
    """LOAD_CALLER with a second key press (1, at the offer); the engine then hangs up on it."""
    text = LOAD_CALLER.format(klass="callback", patience_ms=60_000, audio=audio)
    marker = "  <!-- connected calls end with the agent's BYE"
    assert marker in text and "CSeq: 3 BYE" in text
    return text.replace(marker, SECOND_KEY.format(pause_ms=pause_ms) + marker).replace("CSeq: 3 BYE", "CSeq: 4 BYE")


async def test_a_call_back_keeps_its_place_and_is_placed_from_the_agents_phone(lab, tmp_path):
    site = acd_site(tmp_path, minimum=70, rules=False)  # only 1001 (skill 90) takes the hotline
    text = site.path.read_text().replace("max_wait = 0\n", "max_wait = 0\n" + RULES + "\n")
    site.path.write_text(text)
    from engine.config import load_site

    site = load_site(site.path)
    audio = make_audio(tmp_path / "tone.wav")
    (tmp_path / "agent.xml").write_text(LOAD_AGENT.format(klass="agent", talk_ms=10_000))
    (tmp_path / "agent.csv").write_text("SEQUENTIAL\n1000;\n1000;\n1000;\n")
    (tmp_path / "waits.xml").write_text(LOAD_CALLER.format(klass="waits", patience_ms=90_000, audio=audio))
    (tmp_path / "a.csv").write_text("SEQUENTIAL\n13800138001;A;1;1500;\n")
    (tmp_path / "c.csv").write_text("SEQUENTIAL\n13800138003;C;1;1500;\n")
    (tmp_path / "b.xml").write_text(takes_the_offer(audio, 8_500))
    (tmp_path / "b.csv").write_text("SEQUENTIAL\n13800138002;B;1;1500;\n")
    (tmp_path / "far.xml").write_text(far_end_scenario(audio, 1.0, 60.0, "called back"))
    heard: list[tuple[str, str, str, str]] = []

    def listen(frame: Frame) -> None:
        if frame.event == "Newexten" and frame.get("Context") in ("engine-announce", "engine-callback"):
            heard.append((frame.get("Uniqueid"), frame.get("Context"), frame.get("Application"),
                          frame.get("AppData")))  # fmt: skip

    async with running(site) as eng:
        eng.on_events({"Newexten"}, listen)
        agent = await sipp(tmp_path, "-sf", "agent.xml", "-inf", "agent.csv", "-p", "5071", "-mp", "15710",
                           "-m", "3", log="agent.log")  # fmt: skip
        far = await sipp(tmp_path, "-sf", "far.xml", "-p", "5070", "-mp", "15700", "-m", "1", log="far.log")
        await asyncio.sleep(0.5)

        async def call(name: str, xml: str, port: str) -> asyncio.subprocess.Process:
            media = "1" + port[1:] + "0"
            return await sipp(tmp_path, "127.0.0.1:5060", "-sf", xml, "-inf", f"{name}.csv", "-p", port, "-mp", media,
                              "-s", "4001234567", "-m", "1", log=f"{name}.log")  # fmt: skip

        a = await call("a", "waits.xml", "5081")
        await asyncio.sleep(2.0)
        b = await call("b", "b.xml", "5082")
        await asyncio.sleep(2.0)
        c = await call("c", "waits.xml", "5083")
        for p in (a, b, c):
            assert await asyncio.wait_for(p.wait(), 120) == 0
        await stop(far, agent)
        rows = await wait_records(eng.store, 3)
        facts = await eng.store.facts()
    by = {r["caller"]: r for r in rows}
    ra, rb, rc = by["13800138001"], by["13800138002"], by["13800138003"]
    assert ra["outcome"] == "answered" and rc["outcome"] == "answered" and ra["agent_id"] == rc["agent_id"] == "1001"
    assert rb["outcome"] == "callback", "B chose the call back: not an abandon"

    (req,) = [f for f in facts if f.kind == "acd.callback"]
    (conn,) = [f for f in facts if f.kind == "acd.callback_connected"]
    (done,) = [f for f in facts if f.kind == "acd.callback_done"]
    assert req.call_id == rb["call_id"] and req.data["number"] == "+8613800138002"
    assert conn.data["agent"] == "1001" and done.data["outcome"] == "connected"
    # its turn: as soon as 1001 was free after A (wrap-up 2 s), and before C, who called 2 s after B
    a_end = ra["connected_at"] + ra["talk_time"]
    (offer,) = [f for f in facts if f.kind == "acd.callback_offer"]
    assert 2.0 - 0.5 <= offer.at - a_end <= 2.0 + 1.5, offer.at - a_end
    assert rc["connected_at"] > done.at, "C waited for B's call back"

    # Asterisk ran the offer (Read) and the AGI, and the call back's Dial from the agent's leg
    b_uid = req.uniqueid
    apps = [(ctx, app) for uid, ctx, app, _ in heard if uid == b_uid]
    assert ("engine-announce", "Read") in apps and ("engine-announce", "AGI") in apps, apps
    dials = [data for uid, ctx, app, data in heard if ctx == "engine-callback" and app == "Dial"]
    assert dials == ["PJSIP/+8613800138002@trunk,30"], "the caller's number in E.164"
    # the carrier saw exactly one INVITE, to B's number, from the hotline's number
    invites = [m for m in read_trace(tmp_path / "far.log") if m.first_line.startswith("INVITE")]
    assert len(invites) == 1 and "+8613800138002" in invites[0].first_line
    assert "4001234567" in invites[0].header("From"), invites[0].text

    # C heard the offer and at least one position announcement, then music again, then 1001
    c_uid = next(f.uniqueid for f in facts if f.kind == "channel.new" and f.call_id == rc["call_id"])
    c_apps = [(app, data) for uid, ctx, app, data in heard if uid == c_uid]
    assert ("Read", "HOTLINE_KEY,queue-callswaiting,1,,1,5") in c_apps
    assert any(app == "Playback" and data in ("queue-youarenext", "queue-thereare") for app, data in c_apps)
    ann = [f for f in facts if f.kind == "acd.announce" and f.call_id == rc["call_id"] and f.data["what"] == "announce"]
    assert ann and max(f.at for f in ann) < rc["connected_at"]

    qlog = [line.split("|") for line in (tmp_path / "queue_log").read_text().splitlines()]
    b_rows = [r for r in qlog if r[1] == rb["call_id"]]
    assert [r[4] for r in b_rows] == ["ENTERQUEUE", "EXITWITHKEY", "CONNECT", "COMPLETEAGENT"], b_rows
    key_row = b_rows[1]
    assert key_row[5] == "1" and len(key_row) == 9, "EXITWITHKEY: key, position, original position, wait"


# the agent's side of an always-on session: answer the engine's call once, later press # twice (end the
# caller's call from the keypad), then stay in the session until the engine hangs up or ``talk_ms`` passes
HASH = """  <send retrans="500"><![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$their_to];tag=[pid]SIPpTag01[call_number]
To: [$their_from]
[last_Call-ID:]
CSeq: {cseq} INFO
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=#
Duration=160
]]></send>
  <recv response="200"/>
"""


def session_agent(press_after_ms: int, stay_ms: int) -> str:
    text = LOAD_AGENT.format(klass="always-on", talk_ms=stay_ms)
    marker = '  <recv request="ACK" crlf="true"/>\n'
    assert marker in text
    keys = f'  <pause milliseconds="{press_after_ms}"/>\n' + HASH.format(cseq=2)
    keys += '  <pause milliseconds="300"/>\n' + HASH.format(cseq=3)
    return text.replace(marker, marker + keys)


async def test_an_always_on_agent_takes_callers_in_one_call_and_ends_one_from_the_keypad(lab, tmp_path):
    from engine.config import load_site

    site = acd_site(tmp_path, minimum=70, rules=False)
    site.path.write_text(site.path.read_text().replace('name = "Hotline Agent"\n',
                                                       'name = "Hotline Agent"\nalways_on = true\n'))  # fmt: skip
    site = load_site(site.path)
    assert site.agent("1001").always_on
    audio = make_audio(tmp_path / "tone.wav")
    (tmp_path / "agent.xml").write_text(session_agent(press_after_ms=9_000, stay_ms=25_000))
    (tmp_path / "agent.csv").write_text("SEQUENTIAL\n1000;\n")
    (tmp_path / "waits.xml").write_text(LOAD_CALLER.format(klass="waits", patience_ms=10_000, audio=audio))
    (tmp_path / "a.csv").write_text("SEQUENTIAL\n13800138001;A;1;1500;\n")
    (tmp_path / "b.csv").write_text("SEQUENTIAL\n13800138002;B;1;1500;\n")
    async with running(site) as eng:
        agent = await sipp(tmp_path, "-sf", "agent.xml", "-inf", "agent.csv", "-p", "5071", "-mp", "15710",
                           "-m", "1", log="agent.log")  # fmt: skip

        async def call(name: str, port: str) -> asyncio.subprocess.Process:
            media = "1" + port[1:] + "0"
            # -aa: the agent's # tones reach the caller as SIP INFO, which a phone simply answers
            return await sipp(tmp_path, "127.0.0.1:5060", "-sf", "waits.xml", "-inf", f"{name}.csv", "-p", port,
                              "-mp", media, "-s", "4001234567", "-m", "1", "-aa", log=f"{name}.log")  # fmt: skip

        await asyncio.sleep(2.0)  # the session is up by now: 1 s to answer
        a = await call("a", "5081")
        await asyncio.sleep(12.0)
        b = await call("b", "5082")
        for p in (a, b):
            assert await asyncio.wait_for(p.wait(), 60) == 0
        rows = await wait_records(eng.store, 2)
        facts = await eng.store.facts()
        session_up = [f for f in facts if f.kind == "acd.session" and f.data["state"] == "up"]
        session_uid = session_up[0].uniqueid if session_up else ""
        still_up = session_uid in eng.model.channels
    await stop(agent)
    by = {r["caller"]: r for r in rows}
    ra, rb = by["13800138001"], by["13800138002"]
    assert ra["outcome"] == rb["outcome"] == "answered" and ra["agent_id"] == rb["agent_id"] == "1001"
    # no ringing: the phone's only INVITE is the session's (below); how long the join took is a timing on a
    # shared machine, not asserted
    assert ra["ring_time"] is not None and rb["ring_time"] is not None, "each joined the open call"
    assert len(session_up) == 1 and still_up, "one session, still up after both calls"
    # A was ended by the agent's ## (the caller got BYE from Asterisk), B hung up itself
    assert ra["hangup_side"] == "agent" and rb["hangup_side"] == "caller"
    (ended,) = [f for f in facts if f.kind == "acd.agent_ended"]
    assert ended.call_id == ra["call_id"] and ended.data["agent"] == "1001"
    a_trace = read_trace(tmp_path / "a.log")
    assert any(not m.sent and m.first_line.startswith("BYE") for m in a_trace), "Asterisk hung up on A"
    invites = [m for m in read_trace(tmp_path / "agent.log") if not m.sent and m.first_line.startswith("INVITE")]
    assert len(invites) == 1, "the agent's phone rang once: for the session"
    qlog = [line.split("|") for line in (tmp_path / "queue_log").read_text().splitlines()]
    assert [r[4] for r in qlog if r[1] == ra["call_id"]][-1] == "COMPLETEAGENT"
    assert [r[4] for r in qlog if r[1] == rb["call_id"]][-1] == "COMPLETECALLER"
