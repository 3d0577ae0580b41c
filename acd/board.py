"""The agent board: one record per agent saying whether it may be given work and by whom (sans-I/O).

The ACD and the dialer both give agents work. Each record keeps the agent's machine (``AgentMachine``: the
person's status, the ACD's system state and the dialer's conversation, and with them both sides' wrap-up), the
phase of the agent's always-on session (the dialer's seat states: off, joining, idle, talking, wrap, lent,
preview; talking and wrap are the machine's), its session channel, the call it is on, and whether the hotline
guard holds it. ``holder`` is derived from those, so it can never go stale:

* ``LENT``: a campaign agent taking a hotline caller in its session (dialer -> ACD -> dialer)
* ``ACD``: the ACD is offering it a call or it talks to one (rung directly, or a non-campaign session)
* ``RESERVED``: a campaign agent the guard holds for the hotline (no new customers; its call goes on)
* ``DIALER``: a campaign agent in its session, in the pacing pool
* ``NONE``: nobody (no session, nothing from the ACD)

Every operation checks who holds the agent and raises ``Conflict`` rather than override the other side;
after every change the record is checked (``problems``) and the observer (the live feed) is told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from acd.agent_state import AgentMachine, Effect, Outbound, State, Status
from acd.guard import GuardSeat

BREACHES_KEPT = 1000


class Holder(Enum):
    NONE = "none"
    ACD = "acd"
    DIALER = "dialer"
    LENT = "lent"
    RESERVED = "reserved"


class Phase(Enum):
    """The agent's always-on session, as its keeper (the dialer or ``acd.sessions``) sees it."""

    OFF = "off"
    JOINING = "joining"
    IDLE = "idle"
    TALKING = "talking"  # a customer of the dialer's is bridged in
    WRAP = "wrap"  # the dialer's wrap-up after a customer
    LENT = "lent"  # taking an ACD caller in the session
    PREVIEW = "preview"  # waiting for the answer to the number it chose to dial


class Conflict(Exception):
    """An operation that would take an agent another side holds, or that does not fit its phase."""


IN_SESSION = (Phase.IDLE, Phase.TALKING, Phase.WRAP, Phase.PREVIEW)  # a campaign agent in the pacing pool
DIALER_BUSY = (Phase.TALKING, Phase.WRAP, Phase.PREVIEW)  # the dialer gave it work
ACD_BUSY = (State.RESERVED, State.RINGING, State.ON_CALL, State.ON_HOLD)


@dataclass
class AgentRecord:
    machine: AgentMachine
    campaign: str = ""  # the campaign it works ("" none): its session is the dialer's
    session_phase: Phase = Phase.OFF  # off, joining, idle, lent, preview: the session's own; see ``phase``
    session: str = ""  # the always-on session's channel name, while it is up
    phase_since: float = 0.0  # monotonic seconds: when the phase last changed (the pacer's elapsed times)
    call: str = ""  # the call it is on or being offered (an ACD call id or a dial's id)
    guarded: bool = False  # the hotline guard holds it

    @property
    def agent_id(self) -> str:
        return self.machine.agent_id

    @property
    def phase(self) -> Phase:
        """The session's phase, talking or wrap while the machine says the dialer's conversation is on."""
        out = self.machine.outbound
        return Phase.TALKING if out is Outbound.TALKING else Phase.WRAP if out is Outbound.WRAP else self.session_phase

    @property
    def holder(self) -> Holder:
        if self.phase is Phase.LENT:
            return Holder.LENT if self.campaign else Holder.ACD
        if self.machine.state is not State.IDLE:
            return Holder.ACD
        if self.guarded:
            return Holder.RESERVED
        if self.campaign and self.phase in IN_SESSION:
            return Holder.DIALER
        return Holder.NONE

    # the live feed's view (engine.live.feed.AgentView): the person and the ACD's state, plus the board's
    @property
    def status(self) -> Status:
        return self.machine.status

    @property
    def reason(self) -> str:
        return self.machine.reason

    @property
    def state(self) -> State:
        return self.machine.state

    @property
    def since(self) -> float:
        return self.machine.since

    @property
    def device_busy(self) -> bool:
        return self.machine.device_busy

    def problems(self) -> list[str]:
        """Invariant breaches of this record (none in a correct engine)."""
        out = []
        if self.phase in DIALER_BUSY and self.machine.state in ACD_BUSY:
            out.append(f"{self.agent_id}: held by two sides (dialer {self.phase.value}, "
                       f"ACD {self.machine.state.value})")  # fmt: skip
        if self.phase in DIALER_BUSY and not self.campaign:
            out.append(f"{self.agent_id}: dialer phase {self.phase.value} without a campaign")
        if self.guarded and not self.campaign:
            out.append(f"{self.agent_id}: reserved by the guard but works no campaign")
        if self.phase in (Phase.IDLE, Phase.TALKING, Phase.WRAP, Phase.LENT, Phase.PREVIEW) and not self.session:
            out.append(f"{self.agent_id}: phase {self.phase.value} with no session")
        if self.machine.state in (State.RESERVED, State.RINGING) and self.machine.status is Status.LOGGED_OUT:
            out.append(f"{self.agent_id}: offered while logged out")
        return out


@dataclass
class Board:
    """Every agent's record; ``monotonic`` is the engine's clock (phase times), ``observer`` the live feed."""

    records: dict[str, AgentRecord]
    monotonic: Callable[[], float] = field(default=lambda: 0.0, repr=False)
    observer: Callable[[AgentRecord], None] | None = field(default=None, repr=False)
    breaches: list[str] = field(default_factory=list)  # the latest invariant breaches seen after a change
    breach_count: int = 0  # all of them (the shell logs each new one)
    refused: list[str] = field(default_factory=list)  # every Conflict raised (a side asked for a held agent)

    @classmethod
    def build(cls, agents: Iterable[str], campaigns: Mapping[str, str] | None = None, *, max_misses: int = 3,
              monotonic: Callable[[], float] = lambda: 0.0) -> Board:  # fmt: skip
        """A board for these agent ids; ``campaigns``: agent -> the campaign it works."""
        campaigns = campaigns or {}
        board = cls({a: AgentRecord(AgentMachine(a, max_misses=max_misses), campaigns.get(a, ""))
                     for a in agents}, monotonic)  # fmt: skip
        for r in board.records.values():
            r.machine.observer = board._machine_changed
        return board

    # ---- reading -------------------------------------------------------------------------------------
    def __getitem__(self, agent: str) -> AgentRecord:
        return self.records[agent]

    def machine(self, agent: str) -> AgentMachine:
        return self.records[agent].machine

    def holder(self, agent: str) -> Holder:
        return self.records[agent].holder

    def session_agent(self, channel: str) -> str | None:
        """The agent whose always-on session this channel is."""
        return next((a for a, r in self.records.items() if channel and r.session == channel), None)

    def idle_session(self, agent: str) -> str | None:
        """The agent's session channel when it sits idle in it (may take a caller there), else None."""
        r = self.records.get(agent)
        return r.session if r is not None and r.phase is Phase.IDLE and r.session else None

    def free_for_dialer(self, agent: str) -> bool:
        """May the dialer bridge a customer to this agent now."""
        r = self.records[agent]
        return r.holder is Holder.DIALER and r.phase is Phase.IDLE

    def guard_view(self, agents: Iterable[str]) -> list[GuardSeat]:
        """The hotline guard's designated campaign agents: in a session or not, idle or busy since when."""
        return [GuardSeat(a, r.phase is Phase.IDLE, r.phase_since,
                          bool(r.session) and r.phase not in (Phase.OFF, Phase.JOINING))
                for a in agents if (r := self.records.get(a)) is not None and r.campaign]  # fmt: skip

    def check(self) -> list[str]:
        """Every record's invariant breaches now."""
        return [p for r in self.records.values() for p in r.problems()]

    # ---- the session ---------------------------------------------------------------------------------
    def session_joining(self, agent: str) -> None:
        r = self._rec(agent)
        if r.phase not in (Phase.OFF, Phase.JOINING):
            raise self._refuse(f"{agent}: a new session while {r.phase.value}")
        self._phase(r, Phase.JOINING)

    def session_up(self, agent: str, channel: str) -> None:
        r = self._rec(agent)
        if r.phase is not Phase.JOINING:
            raise self._refuse(f"{agent}: session up while {r.phase.value}")
        r.session = channel
        self._phase(r, Phase.IDLE)

    def session_down(self, agent: str) -> None:
        """The session ended; a call the agent was on in it is over too (its keeper learns it separately)."""
        r = self._rec(agent)
        r.session = ""
        r.machine.outbound_drop(now := self.monotonic())
        self._phase(r, Phase.OFF, now)

    # ---- the ACD -------------------------------------------------------------------------------------
    def acd_reserve(self, agent: str, call: str, at: float) -> list[Effect]:
        """The router chose this agent for ``call``: the machine's ``reserve`` (it must be routable), refused
        while the dialer gave it a customer or it is lent already."""
        r = self._rec(agent)
        if r.phase in DIALER_BUSY or r.phase is Phase.LENT:
            raise self._refuse(f"{agent}: the ACD cannot take it while {r.phase.value}")
        effects = r.machine.handle("reserve", at)
        r.call = call
        self._changed(r)
        return effects

    def acd_release(self, agent: str, at: float) -> list[Effect]:
        """The caller left before the offer was answered."""
        r = self._rec(agent)
        if r.holder not in (Holder.ACD, Holder.LENT):
            raise self._refuse(f"{agent}: not the ACD's to release ({r.holder.value})")
        return r.machine.handle("release", at)

    def lend(self, agent: str, call: str) -> str:
        """The ACD takes the agent idle in its session for ``call``; its session channel."""
        r = self._rec(agent)
        if r.phase is not Phase.IDLE or not r.session:
            raise self._refuse(f"{agent}: cannot be lent while {r.phase.value}")
        r.call = call
        self._phase(r, Phase.LENT)
        return r.session

    def give_back(self, agent: str) -> bool:
        """The lent call and its wrap-up are over: back to the session's keeper. False when the session ended
        meanwhile (nothing is lent any more: the keeper calls the phone again)."""
        r = self._rec(agent)
        if r.phase is not Phase.LENT:
            return False
        r.call = ""
        self._phase(r, Phase.IDLE if r.session else Phase.OFF)
        return True

    # ---- the hotline guard ---------------------------------------------------------------------------
    def guard_reserve(self, agent: str) -> None:
        r = self._rec(agent)
        if not r.campaign or r.guarded:
            raise self._refuse(f"{agent}: " + ("already reserved" if r.guarded else "works no campaign"))
        r.guarded = True
        self._changed(r)

    def guard_release(self, agent: str) -> None:
        r = self._rec(agent)
        if not r.guarded:
            raise self._refuse(f"{agent}: not reserved by the guard")
        r.guarded = False
        self._changed(r)

    # ---- the dialer ----------------------------------------------------------------------------------
    def dialer_take(self, agent: str, call: str) -> None:
        """A customer of the dialer's is bridged to the agent idle in its session."""
        r = self._rec(agent)
        if not self.free_for_dialer(agent):
            raise self._refuse(f"{agent}: not the dialer's to give a customer ({r.holder.value}, {r.phase.value})")
        r.call = call
        r.machine.outbound_connect(now := self.monotonic())
        self._phase(r, Phase.IDLE, now)

    def preview_dial(self, agent: str, call: str) -> None:
        """A preview dial goes out for this agent, who sits free in its session (idle or wrapping up)."""
        r = self._rec(agent)
        if r.phase not in (Phase.IDLE, Phase.WRAP) or r.holder is not Holder.DIALER or not r.session:
            raise self._refuse(f"{agent}: no preview dial while {r.holder.value}, {r.phase.value}")
        r.call = call
        r.machine.outbound_drop(now := self.monotonic())  # a preview dial ends the wrap-up
        self._phase(r, Phase.PREVIEW, now)

    def preview_answered(self, agent: str, call: str) -> bool:
        """The preview dial's answer is bridged to its agent (one whose session ended and came back meanwhile
        is idle and takes it too). False when its session is gone; Conflict when another side holds it."""
        r = self._rec(agent)
        if r.phase in (Phase.OFF, Phase.JOINING) or not r.session:
            return False
        if r.phase not in (Phase.PREVIEW, Phase.IDLE) or r.guarded or r.machine.state is not State.IDLE:
            raise self._refuse(f"{agent}: preview answer while {r.holder.value}, {r.phase.value}")
        r.call = call
        r.machine.outbound_connect(now := self.monotonic())
        self._phase(r, Phase.IDLE, now)
        return True

    def preview_over(self, agent: str) -> bool:
        """A preview dial reached nobody: the agent is free again. False when it was not waiting for one."""
        r = self._rec(agent)
        if r.phase is not Phase.PREVIEW:
            return False
        r.call = ""
        self._phase(r, Phase.IDLE)
        return True

    def wrap(self, agent: str, seconds: float) -> list[Effect]:
        """The dialer's conversation ended: the machine's wrap-up for the campaign's ``seconds``; its timer is
        the shell's (``wrap_up_timer``), which ends it with ``wrap_end``. No effect when the agent was no longer
        talking (its session ended meanwhile)."""
        r = self._rec(agent)
        if r.phase is not Phase.TALKING:
            return []
        effects = r.machine.outbound_hang_up(now := self.monotonic(), seconds)
        self._phase(r, r.session_phase, now)
        return effects

    def wrap_end(self, agent: str) -> bool:
        """The dialer's wrap-up is over (timer, disposition, call back): idle. False when not wrapping up."""
        r = self._rec(agent)
        if r.phase is not Phase.WRAP:
            return False
        r.call = ""
        r.machine.outbound_wrap_end(now := self.monotonic())
        self._phase(r, r.session_phase, now)
        return True

    # ---- inside --------------------------------------------------------------------------------------
    def _refuse(self, why: str) -> Conflict:
        self.refused.append(why)
        return Conflict(why)

    def _rec(self, agent: str) -> AgentRecord:
        r = self.records.get(agent)
        if r is None:
            raise self._refuse(f"{agent}: no such agent on the board")
        return r

    def _phase(self, r: AgentRecord, phase: Phase, at: float | None = None) -> None:
        r.session_phase, r.phase_since = phase, self.monotonic() if at is None else at
        self._changed(r)

    def _machine_changed(self, m: AgentMachine) -> None:
        r = self.records[m.agent_id]
        if m.state is State.IDLE and r.phase is not Phase.LENT and r.phase not in DIALER_BUSY:
            r.call = ""  # the ACD's call is over
        self._changed(r)

    def _changed(self, r: AgentRecord) -> None:
        found = r.problems()
        if found:
            self.breaches.extend(found)
            del self.breaches[:-BREACHES_KEPT]  # a long-running engine keeps the latest only
            self.breach_count += len(found)
        if self.observer is not None:
            self.observer(r)
