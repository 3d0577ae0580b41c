"""SIPp scenarios for hotline callers and agent softphones, and a reader for SIPp's message trace.

DTMF is sent as SIP INFO (application/dtmf-relay): SIPp's bundled RFC 4733 captures only work in
ascending digit order because Asterisk drops a DTMF packet whose timestamp is not newer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotline caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{caller}@[local_ip]:[local_port]>
X-Hotline-Test: {tag}
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>
{info_block}{hold_block}  <pause milliseconds="{hangup_after_ms}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {bye_cseq} BYE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""

REINVITE = """  <pause milliseconds="{pause_ms}"/>
  <send retrans="500"><![CDATA[
INVITE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 1 {version} IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a={direction}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} ACK
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
"""


def caller_scenario(
    *,
    caller: str,
    tag: str,
    audio: Path,
    digit: str | None,
    digit_after: float,
    hangup_after: float,
    hold_at: float | None = None,
    hold_for: float = 0.0,
) -> str:
    """The caller's scenario; with ``hold_at`` it holds (re-INVITE sendonly) and resumes (sendrecv) mid-talk.

    All times in seconds; ``hold_at`` and ``hangup_after`` count from the DTMF INFO. Without a digit the
    caller hangs up ``digit_after + hangup_after`` after the answer (e.g. in the middle of the greeting).
    """
    hold_block = ""
    bye_cseq = 3
    remaining = hangup_after
    if hold_at is not None:
        hold_block = REINVITE.format(
            pause_ms=int(hold_at * 1000), caller=caller, cseq=3, version=2, direction="sendonly"
        )
        hold_block += REINVITE.format(
            pause_ms=int(hold_for * 1000), caller=caller, cseq=4, version=3, direction="sendrecv"
        )
        bye_cseq = 5
        remaining = hangup_after - hold_at - hold_for
        if remaining < 0:
            raise ValueError("the hold must end before the hang-up")
    if digit is None:
        info_block = ""
        remaining += digit_after
    else:
        info_block = INFO.format(caller=caller, digit_after_ms=int(digit_after * 1000), digit=digit)
    return CALLER.format(
        caller=caller,
        tag=tag,
        audio=audio,
        info_block=info_block,
        hangup_after_ms=int(remaining * 1000),
        hold_block=hold_block,
        bye_cseq=bye_cseq,
    )


INFO = """  <pause milliseconds="{digit_after_ms}"/>
  <send retrans="500"><![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 INFO
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal={digit}
Duration=160
]]></send>
  <recv response="200"/>
"""


_UAS_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="{name}">
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="invite_cseq"/></action>
  </recv>
"""


# the messages a called party sends, shared by every UAS scenario (the softphones here, the far ends of
# sim.far_ends): a response to the INVITE carries our To tag and the INVITE's CSeq; one to a BYE or CANCEL
# echoes that request
def invite_reply(code: str) -> str:
    """A response to the INVITE without a body (180, 486, 487, ...)."""
    return f"""  <send><![CDATA[
SIP/2.0 {code}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invite_cseq] INVITE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
]]></send>
"""


def invite_answer(origin: str) -> str:
    """The 200 OK to the INVITE with a G.711 u-law offer, retransmitted until the ACK."""
    return f"""  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invite_cseq] INVITE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o={origin} 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
"""


OK_TO_REQUEST = """  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
"""

# a CANCEL taken: its 200, then the INVITE's 487
CANCEL_ACCEPTED = OK_TO_REQUEST + invite_reply("487 Request Terminated").replace(
    "Contact: <sip:[local_ip]:[local_port];transport=[transport]>\n", ""
)

_REPLY = invite_reply("{code}")

_ANSWER = (
    invite_answer("agent")
    + '  <recv request="ACK" crlf="true"/>\n  <recv request="BYE"/>\n'
    + OK_TO_REQUEST
    + "</scenario>\n"
)

_CANCELLED = '  <recv request="CANCEL"/>\n' + CANCEL_ACCEPTED + '  <recv request="ACK" crlf="true"/>\n</scenario>\n'

_REJECTED = """  <recv request="ACK" crlf="true"/>
</scenario>
"""


def uas_scenario(kind: str = "answer", answer_after: float = 3.0, audio: Path | None = None) -> str:
    """A called party (agent softphone or carrier UAS).

    kind: ``answer`` (180, then 200 after ``answer_after`` s, waits for BYE; with ``audio`` it speaks that file
    in a loop from the ACK on), ``never`` (180 until CANCEL), ``busy`` (486), ``congestion`` (503),
    ``unavailable`` (480), ``rejected`` (603).
    """
    head = _UAS_HEAD.format(name=f"called party: {kind}")
    if kind == "answer":
        answer = _ANSWER
        if audio is not None:
            ack = '  <recv request="ACK" crlf="true"/>\n'
            answer = answer.replace(ack, ack + f'  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>\n')
        return (
            head
            + _REPLY.format(code="180 Ringing")
            + f'  <pause milliseconds="{int(answer_after * 1000)}"/>\n'
            + answer
        )
    if kind == "never":
        return head + _REPLY.format(code="180 Ringing") + _CANCELLED
    codes = {
        "busy": "486 Busy Here",
        "congestion": "503 Service Unavailable",
        "unavailable": "480 Temporarily Unavailable",
        "rejected": "603 Decline",
    }
    if kind not in codes:
        raise ValueError(f"unknown called-party kind {kind!r}")
    return head + _REPLY.format(code=codes[kind]) + _REJECTED


AGENT = uas_scenario("answer", 3.0)  # kept for callers that want the default softphone


def sipp_binary() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("sipp not found: install Debian's sip-tester package (`make setup`)")
    return path


def make_audio(path: Path, seconds: float = 3.0, freq: int = 440) -> Path:
    """A G.711 u-law WAV for SIPp's rtp_stream (a tone: 440 Hz unless a test must tell voices apart)."""
    if not path.exists():
        subprocess.run(
            [
                "sox",
                "-n",
                "-r",
                "8000",
                "-c",
                "1",
                "-e",
                "u-law",
                str(path),
                "synth",
                str(seconds),
                "sine",
                str(freq),
                "vol",
                "0.3",
            ],
            check=True,
        )
    return path


_RTP_STREAM = re.compile(r" *<nop><action><exec rtp_stream=[^\n]*</nop>\n")


def external_media(scenario: str, port: int) -> str:
    """The scenario with its SDP naming ``port`` as its media and SIPp's own RTP left out: the test's RTP endpoint
    (``sim.rtp_phone``) speaks and listens for this party instead."""
    if "m=audio [media_port] " not in scenario:
        raise ValueError("the scenario has no SDP media line to point elsewhere")
    return _RTP_STREAM.sub("", scenario.replace("m=audio [media_port] ", f"m=audio {port} "))


@dataclass(frozen=True)
class TraceMessage:
    at: float
    sent: bool
    first_line: str
    text: str = ""

    def header(self, name: str) -> str:
        prefix = name.lower() + ":"
        for line in self.text.splitlines():
            if line.lower().startswith(prefix):
                return line.split(":", 1)[1].strip()
        return ""


_STAMP = re.compile(r"^-{10,} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+)")


def read_trace(path: Path) -> list[TraceMessage]:
    """Parse SIPp's -trace_msg file: a dashed line with the local time, then the direction, then the message."""
    out: list[TraceMessage] = []
    lines = path.read_text(errors="replace").splitlines()
    i = 0
    while i < len(lines):
        m = _STAMP.match(lines[i])
        if m:
            at = datetime.strptime(m.group(1)[:26], "%Y-%m-%d %H:%M:%S.%f").timestamp()
            direction = lines[i + 1] if i + 1 < len(lines) else ""
            j = i + 2
            while j < len(lines) and not lines[j].strip():
                j += 1
            first = lines[j].strip() if j < len(lines) else ""
            k = j
            while k < len(lines) and not _STAMP.match(lines[k]):
                k += 1
            out.append(TraceMessage(at, "sent" in direction, first, "\n".join(lines[j:k])))
            i = k - 1
        i += 1
    return out


# ---- load scenarios: per-call values come from an injection file (-inf), one line per call ----------

LOAD_CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotline load caller ({klass})">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
X-Hotline-Corr: [field1]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>
  <nop><action><assignstr assign_to="dd" value="[field3]"/><todouble assign_to="ddn" variable="dd"/></action></nop>
  <pause variable="ddn"/>
  <send retrans="500"><![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 INFO
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=[field2]
Duration=160
]]></send>
  <recv response="200"/>
  <!-- connected calls end with the agent's BYE; a caller still waiting after its patience hangs up -->
  <recv request="BYE" timeout="{patience_ms}" ontimeout="1"/>
  <send next="2"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <label id="1"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
  <label id="2"/>
</scenario>
"""

LOAD_AGENT = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotline load agent ({klass})">
  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="invite_cseq"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="their_from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="their_to"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invite_cseq] INVITE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
]]></send>
  <nop><action><assignstr assign_to="ad" value="[field0]"/><todouble assign_to="adn" variable="ad"/></action></nop>
  <pause variable="adn"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invite_cseq] INVITE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv request="ACK" crlf="true"/>
  <!-- the agent ends the talk; a caller who hangs up first ends it instead -->
  <recv request="BYE" timeout="{talk_ms}" ontimeout="1"/>
  <send next="2"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <label id="1"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$their_to];tag=[pid]SIPpTag01[call_number]
To: [$their_from]
[last_Call-ID:]
CSeq: 10 BYE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
  <label id="2"/>
</scenario>
"""

# An agent's own phone dialling a feature code (*21 ... *25): digest-authenticated like a softphone.
AGENT_DIAL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent dials a feature code">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{user}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:{user}@[local_ip]:[local_port]>
[authentication]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 1 2 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
</scenario>
"""


# ---- IVR callers: a script of pauses, DTMF (SIP INFO, so any digit order works) and the end ---------------
# the caller's INFO and BYE blocks, with the CSeq left open (each script numbers its own requests)
_SCRIPT_INFO = INFO.split("\n", 1)[1].replace("CSeq: 2 INFO", "CSeq: {cseq} INFO")
_SCRIPT_BYE = CALLER[CALLER.index('  <send retrans="500"><![CDATA[\nBYE') : CALLER.index("</scenario>")].replace(
    "{bye_cseq}", "{cseq}"
)
_SCRIPT_WAIT_BYE = """  <recv request="BYE" timeout="{timeout_ms}" ontimeout="8"/>
  <send next="9"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <label id="8"/>
"""

Step = tuple  # ("pause", s) | ("dtmf", digits, gap_s) | ("bye",) | ("wait_bye", timeout_s)


def ivr_caller_scenario(*, caller: str, tag: str, audio: Path, steps: list[Step]) -> str:
    """A caller that follows a script: pauses, DTMF digits one SIP INFO each (any order, repeats allowed),
    and either hangs up (``bye``) or waits for Asterisk to hang up (``wait_bye``, then hangs up itself
    after the timeout). The X-Hotline-Corr header lets a test find the engine's record of this call."""
    head = CALLER.split("  <nop><action><exec rtp_stream")[0].replace("X-Hotline-Test: {tag}", "X-Hotline-Corr: {tag}")
    body = [head.format(caller=caller, tag=tag), f'  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>\n']
    cseq = 2
    ended = False
    for step in steps:
        kind = step[0]
        if kind == "pause":
            body.append(f'  <pause milliseconds="{int(step[1] * 1000)}"/>\n')
        elif kind == "dtmf":
            for i, d in enumerate(step[1]):
                if i:
                    body.append(f'  <pause milliseconds="{int(step[2] * 1000)}"/>\n')
                body.append(_SCRIPT_INFO.format(caller=caller, cseq=cseq, digit=d))
                cseq += 1
        elif kind == "bye":
            body.append(_SCRIPT_BYE.format(caller=caller, cseq=cseq))
            ended = True
            break
        elif kind == "wait_bye":
            body.append(_SCRIPT_WAIT_BYE.format(timeout_ms=int(step[1] * 1000)))
            body.append(_SCRIPT_BYE.format(caller=caller, cseq=cseq))
            ended = True
            break
        else:
            raise ValueError(f"unknown caller step {step!r}")
    if not ended:
        body.append(_SCRIPT_BYE.format(caller=caller, cseq=cseq))
    body.append('  <label id="9"/>\n</scenario>\n')
    return "".join(body)


# a dialed number that answers and speaks: the load agent's script with a fixed answer delay and a greeting
_AGENT_DELAY = (
    '  <nop><action><assignstr assign_to="ad" value="[field0]"/>'
    '<todouble assign_to="adn" variable="ad"/></action></nop>\n'
    '  <pause variable="adn"/>\n'
)
_AGENT_TALK = (
    '  <recv request="ACK" crlf="true"/>\n'
    "  <!-- the agent ends the talk; a caller who hangs up first ends it instead -->\n"
)
_GREETING = (
    '  <recv request="ACK" crlf="true"/>\n  <!-- the greeting, then silence, as AMD hears it -->\n'
    '  <nop><action><exec rtp_stream="{audio},1,0"/></action></nop>\n'
)
FAR_END = (
    LOAD_AGENT.replace("hotline load agent ({klass})", "dialed party: answers and speaks ({what})")
    .replace(_AGENT_DELAY, '  <pause milliseconds="{answer_ms}"/>\n')
    .replace(_AGENT_TALK, _GREETING)
)
if "{answer_ms}" not in FAR_END or "rtp_stream" not in FAR_END:  # pragma: no cover - the load agent changed shape
    raise RuntimeError("sim.sipp: FAR_END could not be derived from LOAD_AGENT")


def far_end_scenario(audio: Path, answer_after: float, talk: float, what: str = "person") -> str:
    """A dialed number that answers after ``answer_after`` s, plays ``audio`` (a greeting followed by silence:
    a person's short hello, or a machine's long message) and hangs up after ``talk`` s unless hung up on."""
    return FAR_END.format(what=what, audio=audio, answer_ms=int(answer_after * 1000), talk_ms=int(talk * 1000))


def make_greeting(path: Path, voice: float, silence: float) -> Path:
    """u-law WAV: ``voice`` s of tone (speech to AMD's ears), then ``silence`` s of digital silence."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", str(path), "synth", str(voice), "sine",
                    "440", "vol", "0.3", "pad", "0", str(silence)], check=True)  # fmt: skip
    return path
