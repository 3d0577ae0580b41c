"""What a pacer sees and says: the interface every pacing policy implements (ours, the baselines, PaceBench's).

A pacer is sans-I/O and has no clock of its own: it gets events as they happen (``on``) and, once a second,
a snapshot of the floor as the engine sees it through AMI (``dials``), and answers how many numbers to dial
now. Nothing here knows the truth the engine cannot see (whether an AMD "machine" was really a person).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Floor:
    """The floor at one instant, as the engine knows it."""

    now: float  # seconds since the shift started
    idle: int  # agents ready for a call
    talking: list[float]  # elapsed seconds of each agent's current conversation
    wrapping: list[float]  # elapsed seconds of each agent's current wrap-up
    ringing: list[float]  # elapsed seconds of each dial not yet resolved
    waiting: int  # answered calls waiting for an agent (inside their 2-s window)
    logged_in: int
    line_limit: int
    seconds_left: float  # until the campaign's calling window closes
    # blended floors: inbound callers waiting for these agents now, and the ACD's forecast of arrivals per
    # second; inbound goes first, so a pacer must leave agents for them
    inbound_waiting: int = 0
    inbound_rate: float = 0.0
    # per ringing dial, in the same order: seconds since the far end answered (AMD still listening), None while
    # it rings; empty when the floor does not say
    answered: list[float | None] = field(default_factory=list)


# ---- events (what the engine learns through AMI and its own ledger) ------------------------------------
@dataclass(frozen=True)
class DialResolved:
    """A dial ended its ringing: 'live' (a person, or AMD said so), 'machine' (AMD verdict), 'busy',
    'noanswer' or 'fail'. ``after`` = seconds from the dial to that moment (to the verdict for 'live');
    ``answered`` = from the dial to the far end's answer, when it answered."""

    outcome: str
    after: float
    answered: float | None = None


@dataclass(frozen=True)
class Connected:
    wait: float  # seconds the live call waited for an agent


@dataclass(frozen=True)
class Abandoned:
    """A live call got the abandon message: no agent inside the window (as measured by the engine). ``rang``:
    seconds from its dial to its live verdict (DialResolved's ``after``), negative when not known."""

    rang: float = -1.0


@dataclass(frozen=True)
class TalkEnded:
    seconds: float


@dataclass(frozen=True)
class WrapEnded:
    seconds: float


@dataclass(frozen=True)
class AgentSaid:
    """An agent's disposition of a connected call: an answering machine, or a person. ``rang`` as in
    Abandoned: it tells which abandoned calls were likely machines (``dialer.person_share``)."""

    machine: bool
    rang: float


@dataclass(frozen=True)
class QaLabel:
    """A reviewer listened to a call AMD called a machine: was it a person after all?"""

    was_person: bool


Event = DialResolved | Connected | Abandoned | AgentSaid | TalkEnded | WrapEnded | QaLabel


@dataclass
class Alarm:
    at: float
    text: str


@dataclass
class Controls:
    """What a pacer may change besides the dial count (the engine applies it to new dials)."""

    amd: bool = True
    alarms: list[Alarm] = field(default_factory=list)


class Pacer(Protocol):
    name: str
    controls: Controls

    def on(self, ev: Event, now: float) -> None: ...

    def dials(self, floor: Floor) -> int: ...
