"""The canonical call flows: recorded from the real Asterisk, replayed through the virtual PBX.

One description per flow, used by both sides, so the two transcripts are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flow:
    name: str
    kind: str = "inbound"  # "inbound" (SIPp caller → FastAGI → engine) or "originate" (AMI Originate to the trunk)
    # inbound: what the caller does (seconds; hang-up counts from the DTMF, or from the answer without one)
    digit: str | None = "1"
    digit_after: float = 2.0
    hangup_after: float = 6.0
    hold_at: float | None = None
    hold_for: float = 0.0
    # the agent softphone (inbound) or the called number (originate)
    callee: str = "answer"  # answer, never, busy, congestion
    answer_after: float = 2.0
    ring_timeout: int = 15  # the hotline's agent ring limit (inbound) or Originate Timeout (originate)
    settle: float = 1.5  # quiet time after the last SIPp exits before the transcript is closed


FLOWS: list[Flow] = [
    Flow("inbound_to_agent"),
    Flow("ivr_hangup", digit=None, digit_after=1.0, hangup_after=0.0),
    Flow("abandon_waiting", callee="never", hangup_after=4.0),
    Flow("agent_no_answer", callee="never", ring_timeout=3, hangup_after=5.5),
    Flow("hold_unhold", hold_at=1.5, hold_for=2.0, hangup_after=6.0),
    Flow("originate_answer", kind="originate", callee="answer", answer_after=1.0),
    Flow("originate_busy", kind="originate", callee="busy"),
    Flow("originate_no_answer", kind="originate", callee="never", ring_timeout=3),
    Flow("originate_congestion", kind="originate", callee="congestion"),
]


def flow(name: str) -> Flow:
    for f in FLOWS:
        if f.name == name:
            return f
    raise KeyError(name)
