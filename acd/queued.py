"""The dispatcher's record of one caller in line (waiting on the phone, or a call back keeping its place)."""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.waiting import CallbackPlan, CallerPlan
from ivr.session import Waiting


@dataclass
class Queued:
    waiting: Waiting
    service: str
    entered_at: float  # entered the system (IVR included): the caller's place in line
    queued_at: float
    position: int
    plan: CallerPlan | None = None
    callback: CallbackPlan | None = None  # the caller chose a call back: it keeps its place without a channel
    missed: set[str] = field(default_factory=set)  # agents who did not answer its offers


