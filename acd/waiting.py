"""What a waiting caller hears, and when: sans-I/O, no clock of its own.

Three things can happen to a caller waiting for an agent, none of which may delay a connect (the shell asks
only after it has made every connect it could, and an agent answering pulls the caller out of whatever
it hears):

- **periodic announcements**: position and expected wait, every ``announce_every`` seconds in the queue;
- **rule steps** after N seconds since the caller entered the system (IVR included, like the routing
  steps): play a prompt once, offer a call back once (press 1; the caller keeps its place), or send the
  caller to voicemail;
- nothing, most of the time: music.

The expected wait (EWT) is app_queue's holdtime (docs/metrics.md#ewt): new = (3·old + sample) ÷ 4 over answered
waits, per service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepAction:
    """What a rule step does to the caller (besides changing routing, which the router handles)."""

    after: float
    announce: str = ""  # a prompt played once
    offer_callback: bool = False
    voicemail: bool = False


@dataclass(frozen=True)
class WaitRules:
    announce_every: float = 0.0  # seconds between position / wait announcements; 0 = none
    announce_position: bool = True
    announce_wait: bool = True
    steps: tuple[StepAction, ...] = ()


@dataclass(frozen=True)
class Announce:
    """Play ``prompt`` (may be empty), then the position (1 = next) and the expected wait in minutes."""

    prompt: str = ""
    position: int | None = None
    wait_minutes: int | None = None


@dataclass(frozen=True)
class OfferCallback:
    prompt: str = ""


@dataclass(frozen=True)
class ToVoicemail:
    pass


Action = Announce | OfferCallback | ToVoicemail


@dataclass
class CallerPlan:
    """What this caller has heard so far."""

    entered_at: float  # system entry: rule steps count from here
    queued_at: float  # queue entry: periodic announcements count from here
    steps_done: int = 0
    last_announce: float | None = None
    offered: bool = False


@dataclass
class HoldTime:
    """app_queue's running estimate of the wait (docs/metrics.md#ewt)."""

    value: float | None = None
    samples: int = 0

    def answered(self, waited: float) -> None:
        self.value = waited if self.value is None else (3 * self.value + waited) / 4
        self.samples += 1

    def minutes(self) -> int | None:
        """Whole minutes, rounded up; None until a call was answered (an estimate from nothing misleads)."""
        return None if self.value is None else max(1, math.ceil(self.value / 60))


def next_action(rules: WaitRules, plan: CallerPlan, now: float, position: int, hold: HoldTime,
                callback_possible: bool = True) -> Action | None:  # fmt: skip
    """The one thing to play to this caller now, if any; updates ``plan`` as if it was played.

    Rule steps come first, in order (a step reached while another plays waits for the next call);
    voicemail ends the wait; the periodic announcement waits ``announce_every`` after the last thing heard.
    """
    waited = now - plan.entered_at
    while plan.steps_done < len(rules.steps) and waited >= rules.steps[plan.steps_done].after:
        step = rules.steps[plan.steps_done]
        plan.steps_done += 1
        if step.voicemail:
            return ToVoicemail()
        if step.offer_callback and callback_possible and not plan.offered:
            plan.offered = True
            plan.last_announce = now
            return OfferCallback(step.announce)
        if step.announce:
            plan.last_announce = now
            return Announce(step.announce)
    if rules.announce_every <= 0 or not (rules.announce_position or rules.announce_wait):
        return None
    since = plan.last_announce if plan.last_announce is not None else plan.queued_at
    if now - since < rules.announce_every:
        return None
    plan.last_announce = now
    return Announce(
        "",
        position if rules.announce_position else None,
        hold.minutes() if rules.announce_wait else None,
    )


@dataclass
class CallbackPlan:
    """A call back waiting for its turn: the caller's place (entry time) is kept; failed attempts are retried
    ``retry_after`` seconds later, at most ``attempts`` times."""

    number: str
    attempts: int = 0
    not_before: float = 0.0
    outcomes: list[str] = field(default_factory=list)

    def failed(self, outcome: str, now: float, retry_after: float, max_attempts: int) -> bool:
        """Record a failed attempt; True if another attempt will be made."""
        self.attempts += 1
        self.outcomes.append(outcome)
        self.not_before = now + retry_after
        return self.attempts < max_attempts
