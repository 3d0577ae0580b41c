"""The ACD on the real Asterisk with SIPp callers and agents: skills, rule steps, busy phones, ring-no-answer,
auto-pause, explained decisions and queue_log rows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.why import explain_call
from composition import running
from engine.config import load_site
from sim.scripted_call import wait_records
from sim.sipp import caller_scenario, make_audio, sipp_binary, uas_scenario
from tests.asterisk.conftest import SITE

pytestmark = pytest.mark.asterisk

SERVICES = """
[[services]]
name = "hotline"
skills = {{ hotline = {minimum} }}
wrap_up = 2
max_wait = {max_wait}
{rules}
"""
RULES = "rules = [ { after = 6, lower = { hotline = 50 } } ]"


def acd_site(tmp: Path, minimum: int, max_misses: int = 3, ring: int = 15, max_wait: int = 0, rules: bool = True):
    text = SITE.read_text()
    text = text.replace(
        'contact = "sip:agent1001@127.0.0.1:5071"',
        'contact = "sip:agent1001@127.0.0.1:5071"\nskills = { hotline = 90 }',
    )
    text = text.replace(
        'contact = "sip:agent1002@127.0.0.1:5072"',
        'contact = "sip:agent1002@127.0.0.1:5072"\nskills = { hotline = 60 }',
    )
    text = text.replace("ring_timeout = 15", f"ring_timeout = {ring}\nmax_misses = {max_misses}")
    text = text.replace(
        'url = "sqlite+aiosqlite:///hotline-lab.db"',
        f'url = "sqlite+aiosqlite:///{tmp / "acd.db"}"\nqueue_log_file = "{tmp / "queue_log"}"',
    )
    f = tmp / "site.toml"
    f.write_text(text + SERVICES.format(minimum=minimum, max_wait=max_wait, rules=RULES if rules else ""))
    return load_site(f)  # fmt: skip


async def sipp(cwd: Path, *args: str, log: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sipp_binary(), *args, "-i", "127.0.0.1", "-nostdin", "-timeout", "60s", "-trace_msg", "-message_file", log,
        cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)  # fmt: skip


async def agent(cwd: Path, agent_id: str, kind: str, answer_after: float = 1.0, calls: int = 1):
    (cwd / f"a{agent_id}.xml").write_text(uas_scenario(kind, answer_after))
    port = "5071" if agent_id == "1001" else "5072"
    return await sipp(cwd, "-sf", f"a{agent_id}.xml", "-p", port, "-mp", "1" + port[1:] + "0", "-rtp_echo",
                      "-m", str(calls), log=f"a{agent_id}.log")  # fmt: skip


async def caller(cwd: Path, hangup_after: float):
    audio = make_audio(cwd / "tone.wav")
    (cwd / "c.xml").write_text(caller_scenario(caller="13800138000", tag="acd", audio=audio, digit="1",
                                               digit_after=1.5, hangup_after=hangup_after))  # fmt: skip
    return await sipp(cwd, "127.0.0.1:5060", "-sf", "c.xml", "-p", "5080", "-mp", "16100", "-s", "4001234567",
                      "-m", "1", log="c.log")  # fmt: skip


async def stop(*procs: asyncio.subprocess.Process) -> None:
    for p in procs:
        try:
            await asyncio.wait_for(p.wait(), 20)
        except TimeoutError:
            p.terminate()
            await p.wait()


async def test_ring_no_answer_moves_on_within_a_second_and_pauses_the_agent(lab, tmp_path):
    site = acd_site(tmp_path, minimum=50, max_misses=1, ring=3)
    async with running(site) as eng:
        a1 = await agent(tmp_path, "1001", "never")
        a2 = await agent(tmp_path, "1002", "answer", 1.0)
        await asyncio.sleep(0.5)
        c = await caller(tmp_path, hangup_after=10.0)
        assert await asyncio.wait_for(c.wait(), 60) == 0
        await stop(a2, a1)
        (rec,) = await wait_records(eng.store, 1)
        facts = await eng.store.facts(rec["call_id"])
        why = explain_call(facts)
        paused = [f for f in await eng.store.facts("") if f.kind == "agent.paused"]
    assert rec["outcome"] == "answered" and rec["agent_id"] == "1002"
    offers = [f for f in facts if f.kind == "agent.offer"]
    assert [o.data["agent"] for o in offers] == ["1001", "1002"]
    first_leg_gone = next(f.at for f in facts if f.kind == "channel.hangup" and f.uniqueid == offers[0].data["leg"])
    second_ring = next(f.at for f in facts if f.kind == "dial.begin" and f.uniqueid == offers[1].data["leg"])
    assert 0 <= second_ring - first_leg_gone <= 1.0, second_ring - first_leg_gone
    assert [p.data["agent"] for p in paused] == ["1001"] and paused[0].data["reason"] == "no answer"
    headlines = [line for line in why if line.startswith("decision")]
    assert "agent 1001" in headlines[0] and headlines[0].endswith("-> not answered"), why
    assert "agent 1002" in headlines[1] and headlines[1].endswith("-> answered"), why
    assert any(line.strip().startswith("1001") and "no answer" in line for line in why)
    rows = [line.split("|") for line in (tmp_path / "queue_log").read_text().splitlines()]
    events = [r[4] for r in rows if r[1] == rec["call_id"]]
    assert events == ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER"], events
    by = {r[4]: r for r in rows if r[1] in (rec["call_id"], "NONE")}
    assert by["ENTERQUEUE"][2:] == ["hotline", "NONE", "ENTERQUEUE", "", "13800138000", "1"]
    assert 2500 <= int(by["RINGNOANSWER"][5]) <= 4500 and by["RINGNOANSWER"][3] == "Hotline Agent"
    assert by["CONNECT"][3] == "Outbound Agent" and by["CONNECT"][6] == offers[1].data["leg"]
    assert len(by["COMPLETECALLER"]) == 8 and by["COMPLETECALLER"][7] == "1"
    assert by["PAUSE"][2:] == ["hotline", "Hotline Agent", "PAUSE", "no answer"]
    assert all(r[0].isdigit() and len(r) >= 5 for r in rows)


async def test_busy_phone_is_skipped_and_a_rule_step_widens_the_pool(lab, tmp_path):
    site = acd_site(tmp_path, minimum=70)  # only 1001 (90) qualifies until the step at 6 s lowers it to 50
    async with running(site) as eng:
        a1 = await agent(tmp_path, "1001", "answer", 0.2)
        a2 = await agent(tmp_path, "1002", "answer", 1.0)
        await asyncio.sleep(0.5)
        # a direct call keeps agent 1001's phone busy (not a call the ACD gave it)
        await eng.link.action({"Action": "Originate", "Channel": "PJSIP/agent1001", "Application": "Wait",
                               "Data": "25", "Timeout": "5000", "Async": "true"})  # fmt: skip
        await asyncio.sleep(1.0)
        assert eng.model.agent_busy("agent1001")
        assert eng.model.devices.get("PJSIP/agent1001") == "INUSE", "Asterisk's device state is tracked too"
        c = await caller(tmp_path, hangup_after=14.0)
        assert await asyncio.wait_for(c.wait(), 60) == 0
        await stop(a2)
        (rec,) = await wait_records(eng.store, 1)
        facts = await eng.store.facts(rec["call_id"])
        why = explain_call(facts)
        await eng.link.action({"Action": "Hangup", "Channel": "/^PJSIP/agent1001-.*$/"}, as_list=True)
        await stop(a1)
    assert rec["outcome"] == "answered" and rec["agent_id"] == "1002"
    assert [f.data["agent"] for f in facts if f.kind == "agent.offer"] == ["1002"], "1001 was never offered"
    decision = next(f for f in facts if f.kind == "route.decision")
    assert decision.data["step"] == 1
    assert rec["queue_wait"] >= 6.0 - 1.6  # the wait counts from system entry (IVR included) for the rule
    reasons = {c["agent"]: c["reason"] for c in decision.data["candidates"]}
    assert "phone busy" in reasons["1001"]
    assert reasons["1002"].startswith("chosen")
    assert any("rule step 1" in line for line in why)


async def test_least_skilled_gives_the_caller_to_the_specialist_and_keeps_the_generalist_free(lab, tmp_path):
    site = acd_site(tmp_path, minimum=50, rules=False)
    # both can take the caller; 1001 comes first in the site file (the longest-idle tie-break) and has more skills
    text = site.path.read_text().replace("skills = { hotline = 90 }", "skills = { hotline = 90, sales = 90 }")
    site.path.write_text(text.replace("max_wait = 0", 'max_wait = 0\nstrategy = "least_skilled"'))
    site = load_site(site.path)
    async with running(site) as eng:
        a1 = await agent(tmp_path, "1001", "answer", 1.0)
        a2 = await agent(tmp_path, "1002", "answer", 1.0)
        await asyncio.sleep(0.5)
        c = await caller(tmp_path, hangup_after=6.0)
        assert await asyncio.wait_for(c.wait(), 60) == 0
        await stop(a2)
        if a1.returncode is None:  # never rung: its SIPp would wait for a call until its own timeout
            a1.terminate()
            await a1.wait()
        (rec,) = await wait_records(eng.store, 1)
        facts = await eng.store.facts(rec["call_id"])
        why = explain_call(facts)
    assert rec["outcome"] == "answered" and rec["agent_id"] == "1002"
    assert [f.data["agent"] for f in facts if f.kind == "agent.offer"] == ["1002"], "the generalist was never rung"
    (decision,) = [f for f in facts if f.kind == "route.decision"]
    assert decision.data["strategy"] == "least_skilled"
    reasons = {c["agent"]: c["reason"] for c in decision.data["candidates"]}
    assert reasons["1002"].startswith("chosen, by least_skilled: 1 skill, level 60 on the needed skills"), reasons
    assert "first of 2 free agents able to take it" in reasons["1002"]
    assert reasons["1001"].startswith("eligible, ranked lower by least_skilled: 2 skills, level 90"), reasons
    assert "strategy least_skilled" in why[0] and why[0].endswith("-> answered"), why


async def dial_code(cwd: Path, code: str, agent_id: str = "1002") -> int:
    from engine.lab import Lab, default_lab_dir
    from sim.sipp import AGENT_DIAL

    endpoint = f"agent{agent_id}"
    pw = dict(line.split(" ", 1) for line in Lab(default_lab_dir()).agent_secrets_file.read_text().splitlines())
    (cwd / "dial.xml").write_text(AGENT_DIAL.format(user=endpoint))
    p = await sipp(cwd, "127.0.0.1:5060", "-sf", "dial.xml", "-s", code, "-p", "5093", "-au", endpoint,
                   "-ap", pw[endpoint].strip(), "-m", "1", log=f"dial{code.strip('*')}.log")  # fmt: skip
    return await asyncio.wait_for(p.wait(), 30)


async def test_feature_codes_drive_the_agent_state(lab, tmp_path):
    site = acd_site(tmp_path, minimum=50)
    text = site.path.read_text().replace("max_misses = 3", 'max_misses = 3\npause_reasons = { 2 = "lunch" }')
    site.path.write_text(text)
    site = load_site(site.path)
    async with running(site) as eng:
        for code in ("*232", "*24", "*24", "*22", "*21"):
            assert await dial_code(tmp_path, code) == 0
        statuses = [f.data for f in await eng.store.facts("") if f.kind == "agent.status" and f.data["agent"] == "1002"]
        requests = [f.data for f in await eng.store.facts("") if f.kind == "action"]
    actions = [(s["action"], s["status"], s["reason"]) for s in statuses]
    # auto login at start, then: pause (code 2 = lunch), resume, (a refused second resume), logout, login
    assert actions == [("login", "available", ""), ("pause", "paused", "lunch"), ("resume", "available", ""),
                       ("logout", "logged_out", ""), ("login", "available", "")], actions  # fmt: skip
    # each press went through the service API as the agent, the refused one with the state's reason
    assert [(r["actor"], r["via"], r["action"], r["ok"], r["refused_by"]) for r in requests] == [
        ("1002", "phone", "pause", True, ""), ("1002", "phone", "resume", True, ""),
        ("1002", "phone", "resume", False, "state"), ("1002", "phone", "logout", True, ""),
        ("1002", "phone", "login", True, ""),
    ], requests  # fmt: skip
    assert requests[2]["result"] == "1002: not paused"
    rows = [line.split("|") for line in (tmp_path / "queue_log").read_text().splitlines()]
    mine = [r[4:] for r in rows if r[3] in ("Outbound Agent", "PJSIP/agent1002")]
    assert mine == [["ADDMEMBER", ""], ["PAUSE", "lunch"], ["UNPAUSE", ""], ["REMOVEMEMBER", ""], ["ADDMEMBER", ""]]


async def test_maximum_wait_sends_the_caller_to_the_apology(lab, tmp_path):
    from sim.sipp import LOAD_CALLER

    site = acd_site(tmp_path, minimum=95, max_wait=6, rules=False)  # nobody qualifies: the wait runs out
    audio = make_audio(tmp_path / "tone.wav")
    (tmp_path / "lc.xml").write_text(LOAD_CALLER.format(klass="timeout", patience_ms=60_000, audio=audio))
    (tmp_path / "lc.csv").write_text("SEQUENTIAL\n13800138000;T-1;1;1500;\n")
    async with running(site) as eng:
        c = await sipp(tmp_path, "127.0.0.1:5060", "-sf", "lc.xml", "-inf", "lc.csv", "-p", "5080", "-mp", "16100",
                       "-s", "4001234567", "-m", "1", log="lc.log")  # fmt: skip
        assert await asyncio.wait_for(c.wait(), 60) == 0
        (rec,) = await wait_records(eng.store, 1)
        facts = await eng.store.facts(rec["call_id"])
    assert rec["outcome"] == "timeout" and rec["hangup_side"] == "system"
    assert not [f for f in facts if f.kind == "agent.offer"]
    timeout = next(f for f in facts if f.kind == "acd.timeout")
    assert 6.0 <= timeout.data["waited"] <= 8.0
    rows = [line.split("|") for line in (tmp_path / "queue_log").read_text().splitlines()]
    exit_row = next(r for r in rows if r[4] == "EXITWITHTIMEOUT")
    assert exit_row[1] == rec["call_id"] and exit_row[5:7] == ["1", "1"] and 6 <= int(exit_row[7]) <= 8
    # the caller heard the apology from the engine-timeout context before Asterisk hung up
    hangup = next(f for f in facts if f.kind == "channel.hangup" and f.uniqueid == timeout.uniqueid)
    assert hangup.at - timeout.at >= 1.0  # please-try-again lasts 1.4 s
