"""The campaign's far ends on the real Asterisk: one SIPp UAS on the trunk answers every dialed number as the
virtual day's carrier (``sim.world.carrier``) would, and logs what happened to each call from its own side.

The dialer dials the simulator's synthetic leads (``139`` + the lead's index), so the carrier's behaviour for a
number is known before the run: it is written to an injection file indexed by number, and the scenario looks
each INVITE's number up and branches on the row (busy, no answer, a person, a machine, congestion).

What AMD will make of a far end is carried by its greeting: a person says a short hello, then is silent; a
machine plays a long message. Each is played in a loop, so media flows for the whole call as from a phone. The
carrier's AMD errors (a person taken for a machine, a machine for a person) are kept by giving that far end the
other kind's greeting, so Asterisk's own AMD makes the same mistake; the truth (person or machine) stays in the
row and in the log.

Each answered call logs its answer, and how it ended: hung up by the far end itself after its talk time
(``bye_out``), or by the engine (``bye_in``). A person the engine hung up on soon after the answer is an
abandon from the person's side (docs/pacebench.md: abandoned people, AMD false positives included).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import world
from sim.sipp import CANCEL_ACCEPTED, OK_TO_REQUEST, invite_answer, invite_reply
from sim.synthetic_leads import synthetic_number

CSV = "far-ends.csv"
LOG = "far-ends.calls.log"
# row kinds: what the far end does with the INVITE
BUSY, NEVER, PERSON_GREETING, MACHINE_GREETING, CONGESTION = 0, 1, 2, 3, 4
MACHINE_HOLD = 180.0  # s a machine's message (then silence) stays on the line if nobody hangs up
# a person hung up on within this many seconds of the answer never reached an agent: the abandon message comes
# at most 2 s after the greeting; a conversation that long is an agent's and ends by the far end's own BYE
ABANDON_WITHIN = 20.0

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="far ends of the campaign's dials">
  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="invite_cseq"/>
      <ereg regexp="^INVITE sip:[+]?([0-9]+)@" search_in="msg" check_it="true" assign_to="ruri,num"/>
      <lookup assign_to="line" file="{csv}" key="[$num]"/>
      <test assign_to="unknown" variable="line" compare="less_than" value="0"/>
      <!-- SIPp refuses a variable set and never read: the whole match is read once here -->
      <assignstr assign_to="ruri" value="[$ruri]"/>
    </action>
  </recv>
  <nop next="congestion" test="unknown"/>
  <nop>
    <action>
      <assignstr assign_to="k" value="[field1 file=&quot;{csv}&quot; line=&quot;[$line]&quot;]"/>
      <assignstr assign_to="a" value="[field2 file=&quot;{csv}&quot; line=&quot;[$line]&quot;]"/>
      <assignstr assign_to="t" value="[field3 file=&quot;{csv}&quot; line=&quot;[$line]&quot;]"/>
      <todouble assign_to="kind" variable="k"/>
      <todouble assign_to="after" variable="a"/>
      <todouble assign_to="talk" variable="t"/>
      <test assign_to="busy" variable="kind" compare="equal" value="{busy}"/>
      <test assign_to="never" variable="kind" compare="equal" value="{never}"/>
      <test assign_to="machine" variable="kind" compare="equal" value="{machine}"/>
      <test assign_to="congested" variable="kind" compare="equal" value="{congestion}"/>
    </action>
  </nop>
  <nop next="busy" test="busy"/>
  <nop next="congestion" test="congested"/>
"""
_RINGING = """  <nop next="never" test="never"/>
  <!-- ringing until the answer, a tenth of a second at a time: the dialer may give up (CANCEL) in any of them -->
  <label id="ringing"/>
  <recv request="CANCEL" timeout="100" ontimeout="ring_tick" next="cancelled"/>
  <label id="ring_tick"/>
  <nop>
    <action>
      <add assign_to="after" value="-100"/>
      <test assign_to="still_ringing" variable="after" compare="greater_than" value="0"/>
    </action>
  </nop>
  <nop next="ringing" test="still_ringing"/>
"""
_TALKING = """  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="their_from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="their_to"/>
    </action>
  </recv>
  <nop><action><log message="[$num];answered;[clock_tick];[$k]"/></action></nop>
  <nop next="machine_talks" test="machine"/>
  <nop><action><exec rtp_stream="{person},-1,0"/></action></nop>
  <nop next="talk"/>
  <label id="machine_talks"/>
  <nop><action><exec rtp_stream="{machine},-1,0"/></action></nop>
  <label id="talk"/>
  <!-- the far end's own talk time, a second at a time: a BYE from the engine may come in any of them (SIPp takes
       a request that arrives during a pause for an unexpected one) -->
  <recv request="BYE" timeout="1000" ontimeout="tick" next="bye_in"/>
  <label id="tick"/>
  <nop>
    <action>
      <add assign_to="talk" value="-1000"/>
      <test assign_to="more" variable="talk" compare="greater_than" value="0"/>
    </action>
  </nop>
  <nop next="talk" test="more"/>
  <nop><action><log message="[$num];bye_out;[clock_tick]"/></action></nop>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$their_to]
To: [$their_from]
[last_Call-ID:]
CSeq: 2 BYE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <!-- the engine may hang up at the same moment (BYEs crossing): its BYE is answered, then ours is settled by
       a 200, a 481, or nothing within 2 s -->
  <recv request="BYE" optional="true" next="glare"/>
  <recv response="200" crlf="true" next="end"/>
  <label id="glare"/>
""" + OK_TO_REQUEST + """  <recv response="200" optional="true" next="end"/>
  <recv response="481" timeout="2000" ontimeout="end" next="end"/>
  <label id="bye_in"/>
  <nop><action><log message="[$num];bye_in;[clock_tick]"/></action></nop>
"""
# the engine's BYE answered; a CANCEL while ringing (or while "never" answering) answered with its 487
_BYE_TAKEN = OK_TO_REQUEST + '  <nop next="end"/>\n  <label id="never"/>\n  <recv request="CANCEL"/>\n'
# SIPp takes a request that arrives while the call is between two receives (a countdown <nop>, the nops after
# the ACK) for an unexpected one and aborts the call; its "_unexp.main" label is where such a request goes
# instead: the engine's CANCEL or BYE is then taken as if it had come a moment later, at the next receive
# (anything else is still unexpected: naming "_unexp.retaddr" makes SIPp see it as a second unexpected message
# and abort the call, where it would otherwise jump back to the handler for ever)
_UNEXPECTED = """  <label id="_unexp.main"/>
  <recv request="CANCEL" optional="true" next="cancelled"/>
  <recv request="BYE" next="bye_in"/>
  <nop><action><jump variable="_unexp.retaddr"/></action></nop>
"""
_CANCEL_TAKEN = '  <label id="cancelled"/>\n' + CANCEL_ACCEPTED + '  <recv request="ACK" crlf="true" next="end"/>\n'


def _refuse(label: str, code: str) -> str:
    return f'  <label id="{label}"/>\n' + invite_reply(code) + '  <recv request="ACK" crlf="true" next="end"/>\n'


def scenario(person: Path, machine: Path) -> str:
    """The far ends' SIPp scenario: ``person`` and ``machine`` are the greetings (u-law WAV) AMD hears."""
    return (
        _HEAD.format(csv=CSV, busy=BUSY, never=NEVER, machine=MACHINE_GREETING, congestion=CONGESTION)
        + invite_reply("180 Ringing")
        + _RINGING
        + invite_answer("lead")
        + _TALKING.format(person=person, machine=machine)
        + _BYE_TAKEN
        + _CANCEL_TAKEN
        + _UNEXPECTED
        + _refuse("busy", "486 Busy Here")
        + _refuse("congestion", "503 Service Unavailable")
        + '  <label id="end"/>\n</scenario>\n'
    )


def make_greetings(workdir: Path) -> tuple[Path, Path]:
    """A person's 1-s hello then 8 s of silence (AMD: HUMAN), a machine's 5-s message then 3 s (MACHINE)."""
    out = []
    for name, voice, silence in (("person", 1.0, 8.0), ("machine", 5.0, 3.0)):
        path = workdir / f"greeting-{name}.wav"
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", str(path), "synth", str(voice), "sine",
                        "440", "vol", "0.3", "pad", "0", str(silence)], check=True)  # fmt: skip
        out.append(path)
    return out[0], out[1]


def row(number: str, seed: int) -> tuple[int, float, float, str]:
    """(kind, answer delay s, talk s, truth) for ``number`` as the virtual day's carrier has it."""
    b, truth = world.far_end(number, seed)
    if b.kind == "busy":
        return BUSY, 0.0, 0.0, truth
    if b.kind == "never":
        return NEVER, 0.0, 0.0, truth
    if b.kind != "answer":
        return CONGESTION, 0.0, 0.0, truth
    greeting = PERSON_GREETING if b.amd == "HUMAN" else MACHINE_GREETING  # what AMD is to make of it
    talk = b.talk if b.talk is not None else MACHINE_HOLD
    return greeting, b.answer_after, talk, truth


def write_rows(workdir: Path, seed: int, leads: int) -> dict[str, str]:
    """The injection file for the first ``leads`` synthetic leads; returns number -> truth."""
    lines = ["SEQUENTIAL"]
    truth: dict[str, str] = {}
    for i in range(leads):
        number = synthetic_number(i)
        kind, after, talk, what = row(number, seed)
        lines.append(f"{number};{kind};{int(after * 1000)};{int(talk * 1000)};{what}")
        truth[number] = what
    (workdir / CSV).write_text("\n".join(lines) + "\n")
    return truth


def sipp_args(port: int, media: int, control: int, seconds: float) -> list[str]:
    return ["-sf", "far-ends.xml", "-inf", CSV, "-infindex", CSV, "0", "-i", "127.0.0.1", "-p", str(port),
            "-mp", str(media), "-cp", str(control), "-nostdin", "-timeout", f"{int(seconds)}s",
            "-trace_logs", "-log_file", LOG, "-max_recv_loops", "100000"]  # fmt: skip


@dataclass
class Truth:
    """The far ends' own view of the dials."""

    answered: Counter[str] = field(default_factory=Counter)  # by truth: person, machine
    greetings: Counter[str] = field(default_factory=Counter)  # by what AMD heard: person, machine
    people_hung_up_on: int = 0  # within ABANDON_WITHIN of the answer: abandoned (false positives included)
    people_talked: int = 0  # ended by the person, or by the engine later than that
    unresolved: int = 0  # answered, no end logged (still up when the run stopped)

    @property
    def abandon_rate_us(self) -> float | None:
        people = self.answered["person"]
        return round(self.people_hung_up_on / people, 4) if people else None

    def as_dict(self) -> dict[str, Any]:
        return {"answered": dict(self.answered), "greetings": dict(self.greetings),
                "people_hung_up_on": self.people_hung_up_on,
                "people_talked": self.people_talked, "unresolved": self.unresolved,
                "abandon_rate_us": self.abandon_rate_us}  # fmt: skip


def read_truth(log: Path, truth: dict[str, str]) -> Truth:
    """The calls the far ends logged: ``number;answered;clock_tick_ms;row kind`` and ``number;bye_in|bye_out;
    clock_tick_ms`` lines, one answer and one end per call."""
    out = Truth()
    answered: dict[str, float] = {}
    ended: set[str] = set()
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        parts = line.strip().split(";")
        if len(parts) < 3 or not parts[2].isdigit():
            continue
        number, event, tick = parts[0], parts[1], int(parts[2]) / 1000.0
        if event == "answered":
            answered[number] = tick
            out.answered[truth.get(number, "unknown")] += 1
            out.greetings["machine" if parts[3:] == [str(MACHINE_GREETING)] else "person"] += 1
        elif event in ("bye_in", "bye_out") and number in answered and number not in ended:
            ended.add(number)
            if truth.get(number) != "person":
                continue
            if event == "bye_in" and tick - answered[number] <= ABANDON_WITHIN:
                out.people_hung_up_on += 1
            else:
                out.people_talked += 1
    out.unresolved = len(set(answered) - ended)
    return out
