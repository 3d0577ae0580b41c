"""The IVR on the real Asterisk with SIPp callers: walks through the example menu (ascending, descending and
repeated digits), invalid digits and silence, a hang-up mid-prompt, the survey, the 8-session limit, and
the degraded menu with the engine stopped."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from composition import running
from engine.config import load_site
from sim.sipp import LOAD_AGENT, ivr_caller_scenario, make_audio, read_trace, sipp_binary
from tests.asterisk.conftest import ROOT

pytestmark = pytest.mark.asterisk

MENU = ROOT / "menus" / "hotline.toml"
ALWAYS_OPEN = "\n".join(f'{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

SITE = """
[site]
name = "lab"
timezone = "Asia/Shanghai"
[asterisk]
lab = true
[store]
url = "sqlite+aiosqlite:///{db}"
queue_log_file = "{qlog}"
[hotline]
number = "4001234567"
agent = "1001"
service = "hotline"
ring_timeout = 15
[ivr]
menu = "menu.toml"
max_sessions = 8
[[agents]]
id = "1001"
name = "Hotline Agent"
contact = "sip:agent1001@127.0.0.1:5071"
skills = {{ hotline = 90, support = 80, accounts = 70 }}
[[agents]]
id = "1002"
name = "Sales Agent"
contact = "sip:agent1002@127.0.0.1:5072"
skills = {{ sales = 90 }}
[[services]]
name = "hotline"
skills = {{ hotline = 10 }}
wrap_up = 1
[[services]]
name = "sales"
skills = {{ sales = 10 }}
wrap_up = 1
[[services]]
name = "support"
skills = {{ support = 10 }}
wrap_up = 1
"""


def ivr_site(tmp: Path, hours: str = ALWAYS_OPEN):
    text = MENU.read_text()
    text = re.sub(r"(?ms)^\[hours\].*?(?=^\[survey\])", f"[hours]\n{hours}\n\n", text)
    text = text.replace('studio_dir = "../prompts/studio"', "")
    (tmp / "menu.toml").write_text(text)
    f = tmp / "site.toml"
    f.write_text(SITE.format(db=tmp / "ivr.db", qlog=tmp / "queue_log"))
    return load_site(f)


@pytest.fixture(scope="module")
def prompts(lab, tmp_path_factory):
    """The example menu's prompts, built into the lab (what `hotline lab up` does for a site with a menu)."""
    site = ivr_site(tmp_path_factory.mktemp("prompts"))
    r = subprocess.run([sys.executable, "-m", "engine.cli", "prompts", "build", "--site", str(site.path)],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout


async def asterisk_idle(timeout: float = 60) -> None:
    """Wait until the lab has no channels: a ring to an absent SIPp agent from an earlier test is retransmitted
    for up to 32 s and would be answered by the next test's agent."""
    from engine.lab import Lab, asterisk_cli, default_lab_dir

    lab = Lab(default_lab_dir())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = await asyncio.to_thread(asterisk_cli, lab, "core show channels count")
        m = re.search(r"(\d+) active channel", out)
        if m and m.group(1) == "0":
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the lab Asterisk still has channels from an earlier test")


async def sipp(cwd: Path, *args: str, log: str, timeout: str = "90s") -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sipp_binary(), *args, "-i", "127.0.0.1", "-nostdin", "-timeout", timeout, "-trace_msg", "-message_file", log,
        cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)  # fmt: skip


async def caller(cwd: Path, port: int, number: str, tag: str, steps: list, calls: int = 1, rate: int = 1):
    audio = make_audio(cwd / "tone.wav")
    (cwd / f"c{port}.xml").write_text(ivr_caller_scenario(caller=number, tag=tag, audio=audio, steps=steps))
    media = str(16000 + 20 * (port % 100))
    return await sipp(cwd, "127.0.0.1:5060", "-sf", f"c{port}.xml", "-p", str(port), "-mp", media,
                      "-s", "4001234567", "-m", str(calls), "-l", str(calls), "-r", str(rate),
                      log=f"c{port}.log")  # fmt: skip


async def agent(cwd: Path, agent_id: str, answer_after: float, talk: float, calls: int = 1):
    (cwd / f"a{agent_id}.xml").write_text(LOAD_AGENT.format(klass="ivr", talk_ms=int(talk * 1000)))
    (cwd / f"a{agent_id}.csv").write_text("SEQUENTIAL\n" + f"{int(answer_after * 1000)};\n" * calls)
    port = "5071" if agent_id == "1001" else "5072"
    return await sipp(cwd, "-sf", f"a{agent_id}.xml", "-inf", f"a{agent_id}.csv", "-p", port,
                      "-mp", "1" + port[1:] + "0", "-rtp_echo", "-m", str(calls), log=f"a{agent_id}.log")  # fmt: skip


async def finish(*procs: asyncio.subprocess.Process, timeout: float = 90) -> list[int]:
    codes = []
    for p in procs:
        try:
            codes.append(await asyncio.wait_for(p.wait(), timeout))
        except TimeoutError:
            p.terminate()
            codes.append(await p.wait())
    return codes


async def stop(p: asyncio.subprocess.Process) -> None:
    if p.returncode is None:
        try:
            p.terminate()
        except ProcessLookupError:
            pass  # it ended on its own meanwhile
    await p.wait()


async def by_tag(engine, tags: list[str], timeout: float = 30) -> dict[str, list]:
    """The ledger's facts of each tagged call (tags come from SIPp's X-Hotline-Corr header)."""
    deadline = time.monotonic() + timeout
    while True:
        facts = await engine.store.facts()
        ids = {f.data["tag"]: f.call_id for f in facts if f.kind == "call.tag" and f.data.get("tag") in tags}
        ended = {f.call_id for f in facts if f.kind == "call.end"}
        if (len(ids) == len(tags) and all(ids[t] in ended for t in tags)) or time.monotonic() > deadline:
            return {t: [f for f in facts if f.call_id == ids.get(t)] for t in tags}
        await asyncio.sleep(0.5)


def steps_of(facts) -> list[tuple[str, str, str]]:
    rows = sorted((f.data["seq"], f.data["node"], f.data["step"], f.data["detail"]) for f in facts
                  if f.kind == "ivr.step")  # fmt: skip
    return [r[1:] for r in rows]


def queued(facts) -> dict:
    (q,) = [f.data for f in facts if f.kind == "call.queued"]
    return q


async def test_walks_digit_orders_invalid_and_silence(prompts, tmp_path):
    site = ivr_site(tmp_path)
    run = uuid.uuid4().hex[:6]
    tags = {k: f"{k}-{run}" for k in ("asc", "desc", "rep", "silence")}
    wait = ("wait_bye", 6)  # after the hand-over the caller waits a little, then hangs up
    async with running(site) as engine:
        procs = await asyncio.gather(
            # English (2), then sales (1)
            caller(tmp_path, 5080, "13800000001", tags["asc"], [("pause", 1.5), ("dtmf", "2", 0), ("pause", 1.5),
                                                                ("dtmf", "1", 0), wait]),
            # Mandarin (1), account (3), 9 8 7 7 7 6 #: descending and repeated digits
            caller(tmp_path, 5081, "13800000002", tags["desc"], [("pause", 1.5), ("dtmf", "1", 0), ("pause", 1.5),
                                                                 ("dtmf", "3", 0), ("pause", 1.5),
                                                                 ("dtmf", "987776#", 0.4), wait]),
            # the same digit twice: 1 then 1 (Mandarin, sales)
            caller(tmp_path, 5082, "13800000003", tags["rep"], [("pause", 1.5), ("dtmf", "1", 0), ("pause", 1.5),
                                                                ("dtmf", "1", 0), wait]),
            # Mandarin, then an invalid 7, then silence until the retries run out
            caller(tmp_path, 5083, "13800000004", tags["silence"], [("pause", 1.5), ("dtmf", "1", 0),
                                                                    ("pause", 1.5), ("dtmf", "7", 0),
                                                                    ("wait_bye", 45)]),
        )  # fmt: skip
        await finish(*procs)
        got = await by_tag(engine, list(tags.values()))
    asc, desc, rep, silence = (got[tags[k]] for k in ("asc", "desc", "rep", "silence"))
    assert queued(asc)["service"] == "sales" and ("language", "digit", "2") in steps_of(asc)
    assert ("english", "enter", "") in steps_of(asc)
    d = queued(desc)
    assert (d["service"], d["priority"], d["skills"]) == ("support", 2, {"accounts": 50})
    assert ("account", "collected", "6") in steps_of(desc) and ("identified", "enter", "") in steps_of(desc)
    keyed = [f.data["variables"] for f in desc if f.kind == "ivr.variables"]
    assert keyed == [{"ACCOUNT": "987776"}, {"SEGMENT": "account"}], "the account reaches the ledger (agent page)"
    assert queued(rep)["service"] == "sales" and [s for s in steps_of(rep) if s[1] == "digit"] == [
        ("language", "digit", "1"), ("main", "digit", "1")]  # fmt: skip
    s = steps_of(silence)
    assert ("main", "invalid", "7") in s
    assert [x for x in s if x[0] == "main" and x[1] in ("timeout", "invalid", "default")] == [
        ("main", "invalid", "7"),
        ("main", "timeout", "2"),
        ("main", "timeout", "3"),
        ("main", "default", "hotline"),
    ]
    assert queued(silence)["service"] == "hotline"


async def test_hangup_mid_prompt_leaves_a_correct_record(prompts, tmp_path):
    site = ivr_site(tmp_path)
    tag = f"mid-{uuid.uuid4().hex[:6]}"
    async with running(site) as engine:
        (p,) = [await caller(tmp_path, 5080, "13800000005", tag, [("pause", 2.0), ("bye",)])]
        await finish(p)
        facts = (await by_tag(engine, [tag]))[tag]
        call_id = facts[0].call_id
        for _ in range(100):
            recs = [r for r in await engine.store.records() if r["call_id"] == call_id]
            if recs:
                break
            await asyncio.sleep(0.2)
    assert steps_of(facts)[-1] == ("language", "hangup", "")
    assert not any(f.kind == "call.queued" for f in facts)
    (rec,) = recs
    assert rec["outcome"] == "ivr_hangup" and rec["hangup_side"] == "caller"


async def test_survey_score_is_stored_against_the_agent(prompts, tmp_path):
    site = ivr_site(tmp_path)
    tag = f"survey-{uuid.uuid4().hex[:6]}"
    await asterisk_idle()
    async with running(site) as engine:
        # up to 3 INVITEs: see the degraded test (a stale ring from an earlier test is cancelled at once)
        a = await agent(tmp_path, "1002", answer_after=1.0, talk=3.0, calls=3)
        await asyncio.sleep(0.5)
        # 1 (Mandarin), 1 (sales); the agent answers after 1 s and hangs up after 3 s; then the survey asks
        c = await caller(tmp_path, 5080, "13800000006", tag, [
            ("pause", 1.5), ("dtmf", "1", 0), ("pause", 1.5), ("dtmf", "1", 0), ("pause", 9.0),
            ("dtmf", "44", 1.2), ("wait_bye", 20)])  # fmt: skip
        (code,) = await finish(c)
        await stop(a)
        facts = (await by_tag(engine, [tag], timeout=40))[tag]
    assert code == 0, "the caller's SIPp failed"
    (s,) = [f.data for f in facts if f.kind == "ivr.survey"]
    assert s == {"score": 4, "agent": "1002"}


async def test_ten_callers_eight_get_the_menu(prompts, tmp_path):
    site = ivr_site(tmp_path)
    run = uuid.uuid4().hex[:6]
    async with running(site) as engine:
        # one SIPp, ten calls started within half a second, each in the menu for 8 s
        c = await caller(tmp_path, 5080, "13800000007", f"ten-{run}", [("pause", 8.0), ("bye",)], calls=10, rate=20)
        await finish(c)
        await asyncio.sleep(2)
        facts = await engine.store.facts()
    tagged = {f.call_id for f in facts if f.kind == "call.tag" and f.data.get("tag") == f"ten-{run}"}
    assert len(tagged) == 10
    entered = {f.call_id for f in facts if f.kind == "ivr.step" and f.data["step"] == "enter"
               and f.data["node"] == "hours" and f.call_id in tagged}  # fmt: skip
    over = [f for f in facts if f.kind == "ivr.overflow" and f.call_id in tagged]
    assert len(entered) == 8 and len(over) == 2
    assert {f.call_id for f in over}.isdisjoint(entered)
    over_queued = [f.data for f in facts if f.kind == "call.queued" and f.call_id in {o.call_id for o in over}]
    assert [q["service"] for q in over_queued] == ["hotline", "hotline"]
    assert all(q["node"] == "(overflow)" for q in over_queued)


async def test_degraded_menu_reaches_the_hotline_agent_and_is_counted(prompts, tmp_path):
    site = ivr_site(tmp_path)
    number = "139" + str(int(time.time()))[-8:]
    await asterisk_idle()
    # the engine runs once (it writes the menu snapshot), then stops: FastAGI is unreachable
    async with running(site):
        pass
    # the agent SIPp takes up to 3 INVITEs: a ring from an earlier test to this absent phone may still be
    # retransmitted by Asterisk's SIP transaction (up to 32 s) and is cancelled at once when SIPp answers 180
    a = await agent(tmp_path, "1001", answer_after=1.0, talk=2.0, calls=3)
    await asyncio.sleep(0.5)
    # English (2), then sales (1): in degraded mode every route ends at the hotline agent's phone. The first digit
    # 4 s in, inside the 8 s greeting: Asterisk drops digits sent before the classic AGI script asks for one, and
    # that script (a Python process Asterisk starts for the call) took over 2 s to start on a loaded machine
    c = await caller(tmp_path, 5080, number, "degraded", [("pause", 4.0), ("dtmf", "2", 0), ("pause", 1.5),
                                                          ("dtmf", "1", 0), ("wait_bye", 20)])  # fmt: skip
    (code,) = await finish(c)
    await stop(a)
    assert code == 0, "the degraded caller's SIPp failed"
    msgs = read_trace(tmp_path / "a1001.log")
    invites = [i for i, m in enumerate(msgs) if not m.sent and m.first_line.startswith("INVITE")
               and number in m.header("From")]  # fmt: skip
    assert invites, "the degraded call never rang the hotline agent's phone"
    after = msgs[invites[0] :]
    assert any(m.sent and m.first_line.startswith("SIP/2.0 200") and "INVITE" in m.header("CSeq") for m in after)
    assert any(m.first_line.startswith("BYE") for m in after), "no talk ended by a BYE on the agent's side"
    await asyncio.sleep(1)  # cdr_csv writes the row when the call ends
    async with running(site) as engine:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            facts = [f for f in await engine.store.facts() if f.kind == "ivr.degraded"]
            mine = [f for f in facts if f.data.get("caller") == number]
            if mine:
                break
            await asyncio.sleep(0.5)
    assert len(mine) == 1
    assert "agent1001" in mine[0].data["agent_channel"] and mine[0].data["disposition"] == "ANSWERED"


async def test_complaint_message_and_callback_request(prompts, tmp_path):
    from engine.lab import Lab, default_lab_dir

    site = ivr_site(tmp_path)
    # no agent here: nobody logged in, so the ACD keeps the call back in line instead of ringing an absent
    # phone (whose INVITE retransmissions would reach the next test's SIPp agent)
    text = site.path.read_text().replace('name = "Hotline Agent"', 'name = "Hotline Agent"\nauto_login = false')
    site.path.write_text(text)
    site = load_site(site.path)
    run = uuid.uuid4().hex[:6]
    tags = {k: f"{k}-{run}" for k in ("complaint", "callback")}
    async with running(site) as engine:
        procs = await asyncio.gather(
            # Mandarin, 5 (complaint): the prompt takes about 7 s, then about 5 s of talk and # ends the message
            caller(tmp_path, 5080, "13800000008", tags["complaint"], [("pause", 1.5), ("dtmf", "1", 0),
                   ("pause", 1.5), ("dtmf", "5", 0), ("pause", 12.5), ("dtmf", "#", 0), ("wait_bye", 15)]),
            # English, 4 (call back), a number and #, then 1 confirms while it is read back
            caller(tmp_path, 5081, "13800000009", tags["callback"], [("pause", 1.5), ("dtmf", "2", 0),
                   ("pause", 1.5), ("dtmf", "4", 0), ("pause", 1.0), ("dtmf", "13912345678#", 0.3),
                   ("pause", 1.0), ("dtmf", "1", 0), ("wait_bye", 15)]),
        )  # fmt: skip
        await finish(*procs)
        got = await by_tag(engine, list(tags.values()))
    complaint, callback = got[tags["complaint"]], got[tags["callback"]]
    (msg,) = [f.data for f in complaint if f.kind == "ivr.message"]
    assert msg["kind"] == "complaint" and msg["ok"] and msg["case"] == f"case-{complaint[0].call_id}"
    wav = Lab(default_lab_dir()).root / msg["file"].lstrip("/")
    assert wav.exists() and wav.stat().st_size > 8000 * 2 * 3, "the complaint should hold about 5 s of audio"
    assert ("complaint", "recorded", "complaint") in steps_of(complaint)
    (cb,) = [f.data for f in callback if f.kind == "ivr.callback"]
    assert cb == {"number": "13912345678", "service": "hotline"}
    (queued_cb,) = [f.data for f in callback if f.kind == "acd.callback"]
    assert queued_cb["source"] == "menu" and queued_cb["number"] == "+8613912345678", "in line for its call back"
    assert any(f.kind == "ivr.end" for f in callback)


async def test_fair_order_across_services_counts_the_time_in_the_menu(prompts, tmp_path):
    """1001 serves the hotline and support. S calls first but spends longer in the menu, so H (hotline) joins
    its queue first; when 1001 is free it takes S: the caller who entered the system first, across services
    (app_queue would look at each queue's own join times)."""
    site = ivr_site(tmp_path)
    run = uuid.uuid4().hex[:6]
    tags = {k: f"{k}-{run}" for k in ("x", "s", "h")}
    await asterisk_idle()
    async with running(site) as engine:
        a1 = await agent(tmp_path, "1001", answer_after=1.0, talk=12.0, calls=3)
        # X takes 1001 first: English, then 0 (the operator: hotline)
        x = await caller(tmp_path, 5080, "13800000011", tags["x"], [("pause", 1.0), ("dtmf", "2", 0), ("pause", 1.5),
                                                                     ("dtmf", "0", 0), ("wait_bye", 90)])  # fmt: skip
        await asyncio.sleep(1.0)
        # S calls next but takes its time in the menu before choosing support (2)
        s = await caller(tmp_path, 5081, "13800000012", tags["s"], [("pause", 7.0), ("dtmf", "2", 0), ("pause", 1.5),
                                                                     ("dtmf", "2", 0), ("wait_bye", 90)])  # fmt: skip
        await asyncio.sleep(2.0)
        h = await caller(tmp_path, 5082, "13800000013", tags["h"], [("pause", 1.0), ("dtmf", "2", 0), ("pause", 1.5),
                                                                     ("dtmf", "0", 0), ("wait_bye", 90)])  # fmt: skip
        await finish(x, s, h, timeout=120)
        await stop(a1)
        got = await by_tag(engine, list(tags.values()))
    fx, fs, fh = (got[tags[k]] for k in ("x", "s", "h"))
    assert queued(fs)["service"] == "support" and queued(fh)["service"] == "hotline"

    def first(facts, kind):  # type: ignore[no-untyped-def]
        return min(f.at for f in facts if f.kind == kind)

    assert first(fh, "call.queued") < first(fs, "call.queued"), "H joined its queue before S joined its own"
    assert first(fs, "channel.new") < first(fh, "channel.new"), "S entered the system first"
    decisions = {k: [f for f in got[tags[k]] if f.kind == "route.decision"] for k in tags}
    assert [d.data["agent"] for d in decisions["s"] + decisions["h"]] == ["1001", "1001"]
    assert decisions["s"][0].at < decisions["h"][0].at, "1001 took S first: entry time, menu included"
    assert decisions["s"][0].at > first(fx, "channel.new"), "after X's call"
