"""The campaign's far ends for `hotline bench site`: one real SIPp UAS answers each dialed number as its row says
(busy, no answer, a person or a machine after a delay, congestion for a number it does not know) and logs each
answered call's end from its own side; a SIPp UAC plays the dialer (real SIPp both ends, no Asterisk)."""

import asyncio
from pathlib import Path

from sim import far_ends, ports, sipp_run
from sim.sipp import sipp_binary
from sim.synthetic_leads import synthetic_number
from sim.world import far_end

INVITE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="the dialer, as the far ends see it">
  <send retrans="500"><![CDATA[
INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:4001234567@[local_ip]:[local_port]>;tag=[pid]T[call_number]
To: <sip:[field0]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:4001234567@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=dialer 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
"""
ACK = """  <send><![CDATA[
ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
"""
REFUSED = (
    INVITE
    + """  <recv response="180" optional="true"/>
  <recv response="486" optional="true" next="ack"/>
  <recv response="503"/>
  <label id="ack"/>
"""
    + ACK
    + "</scenario>\n"
)
# answered: the dialer hangs up after 1.5 s (the abandon message's end), or waits for the far end's own BYE
ANSWERED = (
    INVITE
    + """  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
"""
    + ACK
    + """  {middle}
</scenario>
"""
)
HANG_UP = """<pause milliseconds="1500"/>
  <send retrans="500"><![CDATA[
BYE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>"""
LISTEN = """<recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>"""
# the far end hangs up after its talk, and the dialer hangs up at that moment too: its BYE crosses the far end's
CROSS = (
    INVITE
    + """  <recv response="180" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="ours"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="theirs"/>
    </action>
  </recv>
"""
    + ACK
    + """  <recv request="BYE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" check_it="true" assign_to="bye_via"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="bye_from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="bye_to"/>
      <ereg regexp=".*" search_in="hdr" header="CSeq:" check_it="true" assign_to="bye_cseq"/>
    </action>
  </recv>
  <send retrans="500"><![CDATA[
BYE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$ours]
To: [$theirs]
[last_Call-ID:]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
  <send><![CDATA[
SIP/2.0 200 OK
Via: [$bye_via]
From: [$bye_from]
To: [$bye_to]
[last_Call-ID:]
CSeq: [$bye_cseq]
Content-Length: 0
]]></send>
</scenario>
"""
)
# the ACK is lost: the dialer's BYE reaches the far end while it waits for the ACK, an unexpected request to SIPp;
# the far end must take it as the engine's hang-up, not abort the call (the same path takes a BYE or CANCEL that
# arrives between two of its receives, in the talk's and the ring's countdowns)
EARLY_BYE = (
    INVITE
    + """  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
"""
    + HANG_UP.replace('<pause milliseconds="1500"/>', "")
    + "\n</scenario>\n"
)
GIVE_UP = (
    INVITE
    + """  <recv response="180"/>
  <pause milliseconds="500"/>
  <send><![CDATA[
CANCEL sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
  <recv response="487"/>
"""
    + ACK
    + "</scenario>\n"
)

ROWS = {  # number: (kind, answer ms, talk ms, truth)
    "13900000001": (far_ends.BUSY, 0, 0, "busy"),
    "13900000002": (far_ends.PERSON_GREETING, 300, 60_000, "person"),  # the dialer hangs up on it
    "13900000003": (far_ends.PERSON_GREETING, 300, 1_000, "person"),  # talks 1 s, then hangs up itself
    "13900000004": (far_ends.MACHINE_GREETING, 300, 60_000, "machine"),  # hung up on: not a person's abandon
    "13900000005": (far_ends.NEVER, 0, 0, "no_answer"),
    "13900000006": (far_ends.PERSON_GREETING, 5_000, 60_000, "person"),  # the dialer gives up before the answer
    "13900000007": (far_ends.PERSON_GREETING, 300, 1_000, "person"),  # talks 1 s; the two BYEs cross
    "13900000008": (far_ends.PERSON_GREETING, 300, 60_000, "person"),  # its ACK lost, the dialer's BYE comes
}


DIALER_PORT = 5068  # the dialing side's own SIP port, never SIPp's default (5060, Asterisk's)


async def _dial(workdir: Path, plan: ports.PortPlan, name: str, xml: str, numbers: list[str]) -> sipp_run.SippEnd:
    (workdir / f"{name}.xml").write_text(xml)
    (workdir / f"{name}.csv").write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    args = ["127.0.0.1:5069", "-sf", f"{name}.xml", "-inf", f"{name}.csv", "-i", "127.0.0.1", "-p", str(DIALER_PORT),
            "-mp", str(plan.media(name)), "-cp", str(plan.control(name)), "-m", str(len(numbers)), "-l", "1",
            "-nostdin", "-timeout", "30s"]  # fmt: skip
    return await sipp_run.run(name, args, workdir, asyncio.get_running_loop().time() + 40)


def test_each_number_gets_its_rows_answer_and_the_far_end_logs_who_hung_up(tmp_path):
    sipp_binary()
    ports.check_sip_ports([("far ends", 5069), ("dialer", DIALER_PORT)])
    person, machine = far_ends.make_greetings(tmp_path)
    (tmp_path / "far-ends.xml").write_text(far_ends.scenario(person, machine))
    (tmp_path / far_ends.CSV).write_text(
        "SEQUENTIAL\n" + "".join(f"{n};{k};{a};{t};{w}\n" for n, (k, a, t, w) in ROWS.items())
    )
    plan = ports.PortPlan(reserved=[5069, DIALER_PORT])

    async def run() -> tuple[sipp_run.SippEnd, list[sipp_run.SippEnd]]:
        stop = asyncio.Event()
        args = far_ends.sipp_args(5069, plan.media("far-ends"), plan.control("far-ends"), 60)
        loop = asyncio.get_running_loop()
        uas = asyncio.create_task(sipp_run.run("far-ends", args, tmp_path, loop.time() + 60, stop))
        await asyncio.sleep(0.5)
        assert not uas.done(), (tmp_path / "far-ends.stderr").read_text()
        dials = [
            await _dial(tmp_path, plan, "refused", REFUSED, ["13900000001", "13800000000"]),
            await _dial(tmp_path, plan, "hang-up", ANSWERED.format(middle=HANG_UP), ["13900000002", "13900000004"]),
            await _dial(tmp_path, plan, "listen", ANSWERED.format(middle=LISTEN), ["13900000003"]),
            await _dial(tmp_path, plan, "give-up", GIVE_UP, ["13900000005", "13900000006"]),
            await _dial(tmp_path, plan, "cross", CROSS, ["13900000007"]),
            await _dial(tmp_path, plan, "early-bye", EARLY_BYE, ["13900000008"]),
        ]
        await asyncio.sleep(0.5)
        stop.set()
        return await uas, dials

    uas, dials = asyncio.run(run())
    for d in dials:
        # every dialer scenario ran to its end: each got the answer its number's row asked for
        assert d.rc == 0 and not d.failures(), (d.name, d.reason, d.failures())
    assert uas.asked_to_stop and not uas.failures(), (uas.reason, uas.failures())
    truth = far_ends.read_truth(tmp_path / far_ends.LOG, {n: w for n, (_k, _a, _t, w) in ROWS.items()})
    assert dict(truth.answered) == {"person": 3, "machine": 1}
    assert dict(truth.greetings) == {"person": 3, "machine": 1}  # what AMD hears, from each row's kind
    assert truth.people_hung_up_on == 1  # 13900000002: the dialer hung up 1.5 s after the answer
    assert truth.people_talked == 2  # 13900000003 and ...07: their own BYE after 1 s of talk (crossed or not)
    assert truth.unresolved == 0
    assert truth.abandon_rate_us == round(1 / 3, 4)
    # the BYE that came before the ACK was taken as the dialer's hang-up (no answer logged: that waits for the ACK)
    assert "13900000008;bye_in;" in (tmp_path / far_ends.LOG).read_text()


def test_the_rows_follow_the_virtual_days_carrier():
    kinds = {}
    for i in range(400):
        number = synthetic_number(i)
        kind, after, talk, truth = far_ends.row(number, 7)
        b, t = far_end(number, 7)
        assert truth == t
        if b.kind == "answer":
            assert after == b.answer_after
            # AMD hears a person's hello where the carrier says AMD calls it human, a machine's message otherwise
            assert kind == (far_ends.PERSON_GREETING if b.amd == "HUMAN" else far_ends.MACHINE_GREETING)
            assert talk == (b.talk if b.talk is not None else far_ends.MACHINE_HOLD)
        kinds[truth] = kinds.get(truth, 0) + 1
    # the lead model's mix (docs/pacebench.md: 30 % people, 20 % machines, 10 % busy, the rest no answer)
    assert 0.25 < kinds["person"] / 400 < 0.35 and 0.15 < kinds["machine"] / 400 < 0.25, kinds
