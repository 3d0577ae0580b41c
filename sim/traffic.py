"""Traffic models: seeded numpy streams, one per entity, so every run of a seed is the same day.

Every caller, agent and lead draws from its own generator, made from ``SeedSequence([seed, kind, id])``:
changing how many numbers one entity draws never shifts another's (common random numbers, as PaceBench
requires). Defaults describe the site in docs/README.md#site: the 400 hotline gets at most ~100 calls a day in
business hours; outbound leads follow the outcome mix in docs/pacebench.md#parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KIND_CALLER, KIND_AGENT, KIND_LEAD, KIND_ARRIVALS, KIND_REPEAT = 1, 2, 3, 4, 5
REPEAT_BACK = 30  # a caller who calls again is one of the last this many

# share of the day's inbound calls in each hour (local time); business hours 08:00-21:00, lunch dip
HOURLY_PROFILE = {
    8: 0.05, 9: 0.11, 10: 0.13, 11: 0.12, 12: 0.06, 13: 0.07, 14: 0.11,
    15: 0.11, 16: 0.10, 17: 0.06, 18: 0.04, 19: 0.02, 20: 0.02,
}  # fmt: skip


def rng(seed: int, kind: int, entity: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, kind, entity]))


def lognormal(g: np.random.Generator, mean: float, cv: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation."""
    sigma2 = np.log(1 + cv * cv)
    return float(g.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2)))


@dataclass(frozen=True)
class InboundModel:
    calls_per_day: float = 100.0
    profile: dict[int, float] = field(default_factory=lambda: dict(HOURLY_PROFILE))
    patience_mean: float = 60.0  # s a caller waits for an agent before giving up (exponential)
    digit_delay: tuple[float, float] = (1.5, 4.0)  # s after the answer (uniform)
    digit_choices: tuple[tuple[str, float], ...] = (("1", 0.6), ("2", 0.3), ("9", 0.1))
    ivr_hangup_p: float = 0.03  # callers who hang up in the greeting
    talk_mean: float = 240.0
    talk_cv: float = 0.8
    hold_p: float = 0.15
    hold_mean: float = 30.0
    hold_cv: float = 0.6
    repeat_p: float = 0.0  # callers who called before (one of the last REPEAT_BACK): the same number again


@dataclass(frozen=True)
class Caller:
    id: int
    at: float  # seconds since the start of the day (00:00 local)
    number: str
    digit: str | None
    digit_after: float
    ivr_hangup_after: float | None
    patience: float
    talk: float
    hold_at: float | None  # seconds into the talk
    hold_for: float


def arrivals(model: InboundModel, seed: int, start_hour: float, hours: float) -> list[float]:
    """Arrival times (s since midnight) from a non-homogeneous Poisson process (thinning)."""
    g = rng(seed, KIND_ARRIVALS, 0)
    rate = {h: model.calls_per_day * share / 3600.0 for h, share in model.profile.items()}
    peak = max(rate.values(), default=0.0)
    if peak <= 0:
        return []
    t = start_hour * 3600.0
    end = (start_hour + hours) * 3600.0
    out = []
    while True:
        t += float(g.exponential(1.0 / peak))
        if t >= end:
            return out
        if g.random() < rate.get(int(t // 3600) % 24, 0.0) / peak:
            out.append(t)


def _own_number(g: np.random.Generator) -> str:
    return "1" + "".join(str(d) for d in g.integers(0, 10, 10))


def number_of(model: InboundModel, seed: int, caller_id: int) -> str:
    """The caller's number: its own, or with ``repeat_p`` an earlier caller's (a stream of its own, so repeats
    shift no other draw)."""
    while caller_id > 0:
        g = rng(seed, KIND_REPEAT, caller_id)
        if g.random() >= model.repeat_p:
            break
        caller_id -= 1 + int(g.integers(0, min(caller_id, REPEAT_BACK)))
    return _own_number(rng(seed, KIND_CALLER, caller_id))


def caller(model: InboundModel, seed: int, caller_id: int, at: float) -> Caller:
    g = rng(seed, KIND_CALLER, caller_id)
    own = _own_number(g)  # drawn whatever the number turns out to be: the caller's other draws stay the same
    number = own if model.repeat_p <= 0 else number_of(model, seed, caller_id)
    digits, weights = zip(*model.digit_choices, strict=True)
    digit = str(g.choice(digits, p=np.array(weights) / sum(weights)))
    digit_after = float(g.uniform(*model.digit_delay))
    ivr_hangup = float(g.uniform(0.3, 1.0)) if g.random() < model.ivr_hangup_p else None
    patience = float(g.exponential(model.patience_mean))
    talk = lognormal(g, model.talk_mean, model.talk_cv)
    hold_at = hold_for = None
    if g.random() < model.hold_p:
        hold_at = float(g.uniform(0.2, 0.7)) * talk
        hold_for = min(lognormal(g, model.hold_mean, model.hold_cv), 0.25 * talk)
    return Caller(caller_id, at, number, None if ivr_hangup else digit, digit_after, ivr_hangup, patience, talk,
                  hold_at, hold_for or 0.0)  # fmt: skip


def day(model: InboundModel, seed: int, start_hour: float, hours: float) -> list[Caller]:
    return [caller(model, seed, i, at) for i, at in enumerate(arrivals(model, seed, start_hour, hours))]


@dataclass(frozen=True)
class AgentModel:
    answer_mean: float = 4.0  # s from ring to answer (gamma, shape 4)
    no_answer_p: float = 0.03  # an offer the agent lets ring out


def agent_answer_delay(model: AgentModel, seed: int, agent_id: int, offer: int) -> float | None:
    """How long agent ``agent_id`` lets its ``offer``-th call ring (None: it is not answered)."""
    g = rng(seed, KIND_AGENT, agent_id * 1_000_003 + offer)
    if g.random() < model.no_answer_p:
        return None
    return float(g.gamma(4.0, model.answer_mean / 4.0))


@dataclass(frozen=True)
class LeadModel:
    """The outcome mix per dial (docs/pacebench.md#parameters); the dialer and PaceBench draw leads from this."""

    p_human: float = 0.30
    p_machine: float = 0.20
    p_busy: float = 0.10
    ring_to_answer_mean: float = 8.0
    ring_to_answer_sd: float = 4.0
    no_answer_timeout: float = 25.0
    talk_mean: float = 240.0
    talk_cv: float = 0.8


@dataclass(frozen=True)
class LeadOutcome:
    kind: str  # human, machine, busy, no_answer
    after: float  # s from dial to answer / busy / time-out
    greeting: float
    talk: float


def lead(model: LeadModel, seed: int, lead_id: int) -> LeadOutcome:
    g = rng(seed, KIND_LEAD, lead_id)
    u = g.random()
    greeting = float(g.uniform(0.8, 2.0))
    talk = lognormal(g, model.talk_mean, model.talk_cv)
    if u < model.p_human:
        sigma2 = np.log(1 + (model.ring_to_answer_sd / model.ring_to_answer_mean) ** 2)
        after = float(g.lognormal(np.log(model.ring_to_answer_mean) - sigma2 / 2, np.sqrt(sigma2)))
        if after > model.no_answer_timeout:
            return LeadOutcome("no_answer", model.no_answer_timeout, 0.0, 0.0)
        return LeadOutcome("human", after, greeting, talk)
    if u < model.p_human + model.p_machine:
        return LeadOutcome("machine", float(np.clip(g.normal(18.0, 4.0), 3.0, 24.0)), greeting, 0.0)
    if u < model.p_human + model.p_machine + model.p_busy:
        return LeadOutcome("busy", float(g.uniform(2.0, 6.0)), 0.0, 0.0)
    return LeadOutcome("no_answer", model.no_answer_timeout, 0.0, 0.0)
