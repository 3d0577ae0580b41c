"""Agent state machine: the human's status and the system's state, kept apart (as mod_callcenter does).

Status is what the person set: logged out, available, paused with a reason. State is what the system
sees: idle, reserved (chosen, not yet rung), ringing, on call, on hold, wrap-up. An agent is offered a call
only when available AND idle AND its phone is not busy with anything else (a direct or outbound call,
checked against Asterisk's device state). Transitions are a table; events that make no sense in the
current state raise ``InvalidTransition`` (the shell logs them and keeps the state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Status(Enum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


class State(Enum):
    IDLE = "idle"
    RESERVED = "reserved"
    RINGING = "ringing"
    ON_CALL = "on_call"
    ON_HOLD = "on_hold"
    WRAP_UP = "wrap_up"


class Outbound(Enum):
    """The dialer's conversation in a campaign agent's always-on session, kept apart from ``State`` (the ACD's):
    the ACD sees an agent talking to the dialer's customer as idle and logged out, as before."""

    NONE = "none"
    TALKING = "talking"
    WRAP = "wrap"


class InvalidTransition(Exception):
    pass


# (state, event) -> next state. Events from the ACD and from Asterisk (through the call model).
TRANSITIONS: dict[tuple[State, str], State] = {
    (State.IDLE, "reserve"): State.RESERVED,
    (State.RESERVED, "ring"): State.RINGING,
    (State.RESERVED, "release"): State.IDLE,  # the caller left before the phone rang
    (State.RINGING, "answer"): State.ON_CALL,
    (State.IDLE, "adopt"): State.ON_CALL,  # a call already talking when the engine (re)started takes this agent
    (State.RINGING, "no_answer"): State.IDLE,
    (State.RINGING, "release"): State.IDLE,  # the caller hung up while the agent's phone rang
    (State.ON_CALL, "hold"): State.ON_HOLD,
    (State.ON_HOLD, "unhold"): State.ON_CALL,
    (State.ON_CALL, "hangup"): State.WRAP_UP,
    (State.ON_HOLD, "hangup"): State.WRAP_UP,
    (State.WRAP_UP, "wrap_up_end"): State.IDLE,  # early end by the agent, or the timer
}

# (outbound, event) -> next. The dialer's conversation: bridged, ended (wrap-up), wrap-up over; ``drop``: the
# session ended under it, or the agent moved on (a preview dial ends the wrap-up), with no wrap-up of its own.
OUTBOUND_TRANSITIONS: dict[tuple[Outbound, str], Outbound] = {
    (Outbound.NONE, "connect"): Outbound.TALKING,
    (Outbound.TALKING, "hangup"): Outbound.WRAP,
    (Outbound.WRAP, "wrap_up_end"): Outbound.NONE,
    (Outbound.TALKING, "drop"): Outbound.NONE,
    (Outbound.WRAP, "drop"): Outbound.NONE,
}


@dataclass(frozen=True)
class Effect:
    """What the shell must do: start a timer, write a queue_log row, tell the router."""

    kind: str  # wrap_up_timer, auto_paused, available, unavailable
    value: object = None


@dataclass
class AgentMachine:
    agent_id: str
    wrap_up: float = 10.0  # seconds, per service in the ACD; the default here
    max_misses: int = 3  # consecutive unanswered offers before the agent is paused "no answer"
    status: Status = Status.LOGGED_OUT
    reason: str = ""
    state: State = State.IDLE
    device_busy: bool = False  # Asterisk says the phone is in use (any call, ours or not)
    misses: int = 0
    since: float = 0.0
    outbound: Outbound = Outbound.NONE  # the dialer's conversation and wrap-up (the board drives it)
    outbound_since: float = 0.0
    history: list[tuple[float, str, str]] = field(default_factory=list)  # (at, status, state) intervals start
    device_log: list[tuple[float, bool]] = field(default_factory=list)  # (at, busy) when the phone's use changed
    # told of every change (the live feed); a plain call, so the machine stays free of I/O
    observer: Callable[[AgentMachine], None] | None = field(default=None, repr=False, compare=False)

    @property
    def routable(self) -> bool:
        return self.status is Status.AVAILABLE and self.state is State.IDLE and not self.device_busy

    def describe(self) -> str:
        """The agent's situation in words, for explanations."""
        if self.status is Status.PAUSED:
            text = f"paused ({self.reason})"
        elif self.status is Status.LOGGED_OUT:
            text = "logged out"
        else:
            text = self.state.value.replace("_", "-")
        return text + (" (phone busy)" if self.device_busy else "")

    def _mark(self, at: float) -> None:
        self.since = at
        self.history.append((at, self.status.value if not self.reason else f"{self.status.value}:{self.reason}",
                             self.state.value))  # fmt: skip
        if self.observer is not None:
            self.observer(self)

    def _availability(self, before: bool) -> list[Effect]:
        after = self.routable
        if after == before:
            return []
        return [Effect("available" if after else "unavailable")]

    # ---- the person ---------------------------------------------------------------------------------
    def login(self, at: float) -> list[Effect]:
        before = self.routable
        if self.status is not Status.LOGGED_OUT:
            raise InvalidTransition(f"{self.agent_id}: already logged in")
        self.status, self.reason, self.misses = Status.AVAILABLE, "", 0
        self._mark(at)
        return self._availability(before)

    def logout(self, at: float) -> list[Effect]:
        before = self.routable
        if self.state not in (State.IDLE, State.WRAP_UP):
            raise InvalidTransition(f"{self.agent_id}: cannot log out while {self.state.value}")
        self.status, self.reason, self.state = Status.LOGGED_OUT, "", State.IDLE
        self._mark(at)
        return self._availability(before)

    def pause(self, reason: str, at: float) -> list[Effect]:
        before = self.routable
        if self.status is Status.LOGGED_OUT:
            raise InvalidTransition(f"{self.agent_id}: not logged in")
        self.status, self.reason = Status.PAUSED, reason or "pause"
        self._mark(at)
        return self._availability(before)

    def resume(self, at: float) -> list[Effect]:
        before = self.routable
        if self.status is not Status.PAUSED:
            raise InvalidTransition(f"{self.agent_id}: not paused")
        self.status, self.reason, self.misses = Status.AVAILABLE, "", 0
        self._mark(at)
        return self._availability(before)

    # ---- the system ---------------------------------------------------------------------------------
    def handle(self, event: str, at: float) -> list[Effect]:
        before = self.routable
        nxt = TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise InvalidTransition(f"{self.agent_id}: {event} while {self.state.value}")
        if event == "reserve" and not before:
            raise InvalidTransition(f"{self.agent_id}: not routable ({self.status.value}, device busy "
                                    f"{self.device_busy})")  # fmt: skip
        self.state = nxt
        effects: list[Effect] = []
        if event == "answer":
            self.misses = 0
        elif event == "no_answer":
            self.misses += 1
            if self.misses >= self.max_misses and self.status is Status.AVAILABLE:
                self.status, self.reason = Status.PAUSED, "no answer"
                effects.append(Effect("auto_paused", self.misses))
        elif event == "hangup":
            effects.append(Effect("wrap_up_timer", self.wrap_up))
            if self.wrap_up <= 0:
                self.state = State.IDLE
        self._mark(at)
        return effects + self._availability(before)

    def hang_up(self, at: float, wrap: float) -> list[Effect]:
        """The call ended: wrap-up for ``wrap`` seconds (the service's; 0 or less: none, idle at once). The
        machine owns the wrap-up; its ``wrap_up_timer`` effect asks the shell for the timer."""
        self.wrap_up = wrap
        return self.handle("hangup", at)

    def device(self, busy: bool, at: float) -> list[Effect]:
        """Asterisk's device state for the agent's phone changed (INUSE/RINGING vs NOT_INUSE)."""
        before = self.routable
        changed = busy != self.device_busy
        if changed:
            self.device_log.append((at, busy))  # busy while idle is a call of the agent's own: outbound time
        self.device_busy = busy
        if changed and self.observer is not None:
            self.observer(self)
        return self._availability(before)

    # ---- the dialer's conversation (driven by the board, which tells the observer) -----------------------
    def _outbound(self, event: str, at: float) -> None:
        nxt = OUTBOUND_TRANSITIONS.get((self.outbound, event))
        if nxt is None:
            raise InvalidTransition(f"{self.agent_id}: outbound {event} while {self.outbound.value}")
        self.outbound, self.outbound_since = nxt, at

    def outbound_connect(self, at: float) -> None:
        """A customer of the dialer's is bridged to the agent."""
        self._outbound("connect", at)

    def outbound_hang_up(self, at: float, wrap: float) -> list[Effect]:
        """The dialer's conversation ended: wrap-up for the campaign's ``wrap`` seconds; the timer is the
        shell's (``wrap_up_timer``), which ends it with ``outbound_wrap_end``."""
        self._outbound("hangup", at)
        return [Effect("wrap_up_timer", wrap)]

    def outbound_wrap_end(self, at: float) -> None:
        """The dialer's wrap-up is over: the timer, or the agent's disposition or call back."""
        self._outbound("wrap_up_end", at)

    def outbound_drop(self, at: float) -> None:
        """The conversation or its wrap-up is over without a wrap-up's end: the session ended, or a preview
        dial went out. Nothing to do when there is none."""
        if self.outbound is not Outbound.NONE:
            self._outbound("drop", at)
