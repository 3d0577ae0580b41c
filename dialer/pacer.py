"""The pacing brain: forecast when agents will be free, learn how dials turn out, spend abandonment as a budget.

Sans-I/O and a pure function of the events and the floor snapshots it is given (no clock, no randomness).
Every second:

1. Agents free by the time a new dial would reach a live person (the horizon H, learned: dial to
   live verdict) are forecast from each talking agent's elapsed talk time (P(talk + wrap-up left <= H),
   from a log-normal fitted online to finished calls and,
   right-censored, those still running) plus each wrapping agent's elapsed wrap-up.
2. Dials still ringing are weighed by the chance that they still turn into a live call given how long
   they have rung (Bayes over the outcome mix and each outcome's learned ringing time); once the far end has
   answered, by when it did and how long AMD has listened since (``dialer.answered``).
3. The number of new dials is the largest whose expected abandons - E[(lives - free agents)+], from
   exact distributions (lives and agents sums of Bernoullis) - stay within a rate c times the lives. The
   budget is the campaign's target minus a margin and minus the truth the engine cannot see (AMD false
   positives, estimated from QA labels shrunk toward AMD's nominal 1 %), plus the day's saved budget spread
   over the next three hours. The rate is of people: without AMD machines are live calls too, abandoned more
   often than people, so each abandon counts as a person by the share of people agents met among calls that
   rang as long (``dialer.person_share``; all of them until agents say). The rule's c is not the abandon rate
   it yields (that depends on the floor's size and mix), so c = budget / the learned ratio of abandons to c
   spent per live call (both counted as people), taken at its upper 80 % bound while few abandons are known. A steady
   c spends the budget where it buys the most talk; swinging it on each abandon (small floors: one abandon is
   a percent of an hour's calls) left hours at progressive dialing.
   The mix is learned by cohort: an outcome counts once every dial placed before it has resolved too. Counted
   as they resolve, busy lines (at once) come before people (seconds) and no answers (the ring timeout): a
   campaign's first seconds read as "nobody answers", and the pacer dialed five lines a seat at its start.
   The live share is itself an estimate: lives are forecast over three shares around it, by a Beta's spread.
4. If the invisible part alone uses up the target (AMD calling too many people machines), compliance is
   impossible with AMD: the pacer turns AMD off for new dials and raises an alarm.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from statistics import NormalDist

from dialer.answered import AnswerModel
from dialer.pacing import (
    Abandoned,
    AgentSaid,
    Alarm,
    Connected,
    Controls,
    DialResolved,
    Event,
    Floor,
    QaLabel,
    TalkEnded,
    WrapEnded,
)
from dialer.person_share import PersonShare

OUTCOMES = ("live", "machine", "busy", "noanswer", "fail")
SQRT2 = math.sqrt(2.0)
AMD_FP_PRIOR = 0.01  # share of people AMD calls machines, nominal (docs/compliance.md#amd)
QA_PRIOR = 200.0  # QA labels' worth of belief in it
RATIO_PRIOR = 5.0  # abandons' worth of belief in the prior ratio of the measured rate to the rule's
# ... and that ratio: the rule decides each second as if no later second dialed, so it yields more abandons than
# it aims at (1.3-1.6 learned by a day's end on seeds 1-10); a prior of 1 overspent a campaign's first minutes
RATIO_START = 1.4
RATIO_Z = 0.84  # the ratio's upper 80 % bound is used (see allowed_rate)
SPREAD_HOURS = 3.0  # the day's over- or underspent budget is paid back over this many hours of calls
# a normal's 3-point quadrature (weight, offset in standard deviations; the offsets' sqrt(3) is in the spread)
SHARE_POINTS = ((1 / 6, -1.0), (2 / 3, 0.0), (1 / 6, 1.0))
NO_AMD_WINDOW = 1.5  # s from the answer, without AMD: the 2-s window less the bridge (dialer.answer counts so)
# seconds from dial to each outcome before any is learned (mean, cv) and the points that stand for them
PRIOR_DELAY = {"live": (10.2, 0.4), "machine": (21.0, 0.2), "busy": (4.0, 0.3), "noanswer": (25.0, 0.02),
               "fail": (4.0, 0.3)}  # fmt: skip
PRIOR_POINTS = 10
# an answered dial, before any is learned (mean, cv): a person answers after ~8 s of ringing and AMD names them ~2 s
# later; a machine picks up after ~18 s and is named 2.5-5 s later
PRIOR_PICK = {"live": (8.0, 0.5), "machine": (18.0, 0.25)}
PRIOR_LAG = {"live": (2.2, 0.25), "machine": (3.75, 0.2)}
MIX_PRIOR = {"live": 0.3, "machine": 0.2, "busy": 0.1, "noanswer": 0.4, "fail": 0.0}
MIX_PRIOR_DIALS = 10.0
RIPE_AFTER = 60.0  # s after its placing an outcome counts even if an older dial is still unresolved (a lost one)


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _Phi(x: float) -> float:  # noqa: N802 - the standard normal CDF's usual name
    return 0.5 * (1.0 + math.erf(x / SQRT2))


def expected_excess(mean: float, var: float) -> float:
    """E[max(D, 0)] for D ~ Normal(mean, var)."""
    if var <= 1e-12:
        return max(mean, 0.0)
    s = math.sqrt(var)
    z = mean / s
    return s * _phi(z) + mean * _Phi(z)


def _add_bernoulli(dist: list[float], p: float) -> list[float]:
    """The distribution of X + B for X ~ dist (on 0, 1, ...) and B ~ Bernoulli(p)."""
    out = [x * (1 - p) for x in dist]
    out.append(0.0)
    for i, x in enumerate(dist):
        out[i + 1] += x * p
    while len(out) > 1 and out[-1] < 1e-12:
        out.pop()
    return out


def _poisson(mu: float) -> list[float]:
    """Poisson(mu) probabilities, truncated where the tail is negligible."""
    out, p, n = [], math.exp(-mu), 0
    while n < 10 or p > 1e-10:
        out.append(p)
        n += 1
        p *= mu / n
    return out


def _lognormal_points(mean: float, cv: float, n: int) -> list[float]:
    """n equally likely points of a log-normal with this mean and coefficient of variation (its quantiles)."""
    s2 = math.log(1 + cv * cv)
    mu, sigma = math.log(mean) - s2 / 2, math.sqrt(s2)
    normal = NormalDist()
    return [math.exp(mu + sigma * normal.inv_cdf((i + 0.5) / n)) for i in range(n)]


class LogNormalFit:
    """A log-normal fitted to recent samples, with a prior until enough arrive."""

    def __init__(self, mean: float, cv: float, window: int = 400, min_samples: int = 30) -> None:
        self.samples: deque[float] = deque(maxlen=window)
        self.min_samples = min_samples
        s2 = math.log(1 + cv * cv)
        self.mu, self.sigma = math.log(mean) - s2 / 2, math.sqrt(s2)
        self._prior = (self.mu, self.sigma)
        self._dirty = False

    def add(self, x: float) -> None:
        if x > 0:
            self.samples.append(math.log(x))
            self._dirty = True

    def refit(self, running: list[float] | None = None) -> None:
        """Fit to the finished samples and, when given, the elapsed times of those still running (right-censored).

        Without the running ones a campaign's first fit is of its shortest calls only (the first 30 to end of
        a floor that started together), and agents looked free minutes early."""
        if not self._dirty and not running:
            return
        self._dirty = False
        n = len(self.samples)
        if n < self.min_samples:
            return
        m = sum(self.samples) / n
        v = sum((x - m) ** 2 for x in self.samples) / (n - 1)
        s = max(0.05, math.sqrt(v))  # identical samples (a fixed wrap-up) have no spread
        cens = [math.log(x) for x in running or () if x > 0]
        # EM for a normal (of the logs) with right-censored points: each running one stands for its expected
        # value and square beyond its elapsed time under the current fit
        for _ in range(20 if cens else 0):
            tot1, tot2 = sum(self.samples), sum(x * x for x in self.samples)
            for c in cens:
                z = (c - m) / s
                lam = _phi(z) / max(1e-12, 1.0 - _Phi(z))
                mean = m + s * lam
                tot1 += mean
                tot2 += s * s * (1 + z * lam - lam * lam) + mean * mean
            k = n + len(cens)
            m_new = tot1 / k
            s_new = max(0.05, math.sqrt(max(0.0, tot2 / k - m_new * m_new)))
            done = abs(m_new - m) < 1e-4 and abs(s_new - s) < 1e-4
            m, s = m_new, s_new
            if done:
                break
        self.mu, self.sigma = m, s

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        return _Phi((math.log(x) - self.mu) / self.sigma)

    def p_done_within(self, elapsed: float, more: float) -> float:
        """P(X <= elapsed + more | X > elapsed)."""
        surv = 1.0 - self.cdf(elapsed)
        if surv <= 1e-9:
            return 1.0
        return max(0.0, min(1.0, (self.cdf(elapsed + more) - self.cdf(elapsed)) / surv))


class _Table(dict[int, float]):
    """A lookup table computed lazily from ``fn``."""

    def __init__(self, fn: Callable[[int], float]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, k: int) -> float:
        v = self[k] = self.fn(k)
        return v


class ForecastPacer:
    def __init__(
        self,
        target: float = 0.03,
        margin: float = 0.004,
        free_weight: float = 1.0,
        amd: bool = True,
        window: float | None = None,
        name: str = "hotline forecast",
    ) -> None:
        self.name = name
        self.controls = Controls(amd=amd)
        self.target = target
        self.margin = margin
        self.free_weight = free_weight  # how much of the forecast frees to count on (tuned on seeds 1-10)
        # how long a live call may wait for an agent (the compliance rule's window less the bridge): with AMD
        # the verdict comes 0.8 s after the greeting, leaving 0.7 s; without, the window counts from the answer
        self.window = window if window is not None else (0.7 if amd else NO_AMD_WINDOW)
        # outcome mix with forgetting: a prior of 10 dials at a typical list's mix. Lists differ (a live share of
        # 0.15 to 0.5 and more), and a prior worth 30 dials held the share near 0.3 through a campaign's first wave:
        # on a list at 0.5 that wave brought a fifth more people than agents
        self.mix = {o: MIX_PRIOR_DIALS * x for o, x in MIX_PRIOR.items()}
        self.decay = 1 - 1 / 600
        # seconds from dial to the outcome, per outcome (recent samples)
        self.delays: dict[str, deque[float]] = {o: deque(maxlen=300) for o in OUTCOMES}
        # a prior as wide as real rings are (cv 0.4): a narrow one called every line still ringing after 12 s
        # dead, and the campaign's first wave was followed by a second that met no free agent
        for o, (d, cv) in PRIOR_DELAY.items():
            self.delays[o].extend(_lognormal_points(d, cv, PRIOR_POINTS))
        self._surv: dict[str, list[float]] = {}
        self.answers = AnswerModel({k: _lognormal_points(*v, PRIOR_POINTS) for k, v in PRIOR_PICK.items()},
                                   {k: _lognormal_points(*v, PRIOR_POINTS) for k, v in PRIOR_LAG.items()})  # fmt: skip
        self.talk = LogNormalFit(240.0, 0.8)
        self.wrap = LogNormalFit(20.0, 0.5)
        self.lives = 0  # live calls the engine saw (connected + abandoned)
        self.abandons = 0
        # the same counted as people: the rule's rate is of people, and without AMD machines are live calls that
        # are abandoned more often than people (they pick up later); agents' dispositions tell them apart
        self.people = PersonShare()
        self.qa_machine = 0  # QA-labelled AMD machine verdicts
        self.qa_person = 0  # ... of which were people
        self.machine_verdicts = 0
        self._next_refit = 0.0
        # the rule's rate -> measured abandon rate is not 1:1 (it depends on the floor's size and mix): learn
        # the ratio (abandons per unit of rate spent on a live call) instead of swinging the rate on each abandon
        self.rate_now = target - margin
        self.connected = 0
        self.fell_back = False
        # (placed at, outcome, after, answered after or -1): resolved, not yet learned
        self._unripe: list[tuple[float, str, float, float]] = []

    # ---- learning ------------------------------------------------------------------------------------
    def on(self, ev: Event, now: float) -> None:
        if isinstance(ev, DialResolved):
            answered = ev.answered if ev.answered is not None else -1.0
            heapq.heappush(self._unripe, (now - ev.after, ev.outcome, ev.after, answered))
            if ev.outcome == "machine":
                self.machine_verdicts += 1
            elif ev.outcome == "live":
                self.people.spend(self.rate_now, ev.after)
        elif isinstance(ev, Connected):
            self.lives += 1
            self.connected += 1
        elif isinstance(ev, Abandoned):
            self.lives += 1
            self.abandons += 1
            self.people.abandoned(ev.rang)
        elif isinstance(ev, AgentSaid):
            self.people.agent_said(ev.machine, ev.rang)
        elif isinstance(ev, TalkEnded):
            self.talk.add(ev.seconds)
        elif isinstance(ev, WrapEnded):
            self.wrap.add(ev.seconds)
        elif isinstance(ev, QaLabel):
            self.qa_machine += 1
            self.qa_person += int(ev.was_person)

    def _ripen(self, now: float, ringing: list[float]) -> None:
        """Learn the outcomes of dials placed before the oldest one still ringing, in the order they were placed:
        a whole cohort, not the quick outcomes first."""
        cutoff = max(now - max(ringing, default=0.0), now - RIPE_AFTER)
        while self._unripe and self._unripe[0][0] < cutoff:
            _, outcome, after, answered = heapq.heappop(self._unripe)
            for k in self.mix:
                self.mix[k] *= self.decay
            self.mix[outcome] = self.mix.get(outcome, 0.0) + 1.0
            self.delays.setdefault(outcome, deque(maxlen=300)).append(after)
            if answered >= 0:
                self.answers.add(outcome, answered, after - answered)

    def _refit(self, f: Floor) -> None:
        self.talk.refit(f.talking)
        self.wrap.refit(f.wrapping)
        self.answers.refit()
        live = self.delays["live"]
        self.horizon = sum(live) / len(live)
        # per elapsed second: P(free by the horizon), talking (talk left + wrap-up) and wrapping
        reach = self.horizon + (self.window if self.controls.amd or not self.fell_back else NO_AMD_WINDOW)
        more = max(0.0, reach - self.wrap.mean)
        # filled on demand: only the elapsed seconds the floor shows are ever needed (a full table each refit
        # costs more than the rest of the pacer)
        self._talk_free = _Table(lambda e: self.talk.p_done_within(e, more) * self.free_weight)
        # a new dial lands after a spread-out delay: average over its quantiles rather than at the mean delay
        lv = sorted(live)
        qs = [lv[min(len(lv) - 1, int((i + 0.5) * len(lv) / 5))] - self.horizon + reach for i in range(5)]
        self._wrap_free = _Table(lambda e: sum(self.wrap.p_done_within(e, x) for x in qs) / 5 * self.free_weight)
        self._surv = {}
        for o, xs in self.delays.items():
            ordered = sorted(xs)
            n = len(ordered)
            row, i = [], 0
            for r in range(0, 61):
                while i < n and ordered[i] <= r:
                    i += 1
                row.append((n - i) / n if n else 0.0)
            self._surv[o] = row

    @property
    def people_abandons(self) -> float:
        """Abandons counted as people (all of them until agents say which calls were machines)."""
        return self.people.people_abandons

    @property
    def people_lives(self) -> float:
        """Live calls counted as people: those connected, less the machines agents met, and the abandons."""
        return self.connected - self.people.machines_said + self.people_abandons

    def p_live_per_dial(self) -> float:
        total = sum(self.mix.values())
        return self.mix["live"] / total if total else 0.3

    def hidden_rate(self) -> float:
        """Abandon rate the engine cannot measure: people AMD called machines, per live call (from QA)."""
        if not self.controls.amd:
            return 0.0
        # of machine verdicts, the people: a Beta prior at the AMD's nominal 1 % of people called machines,
        # strong enough that a day's few labelled people (a 20 % sample) do not swing the budget by a third
        prior = min(0.5, AMD_FP_PRIOR * max(1.0, self.people_lives) / max(1, self.machine_verdicts))
        fp_share = (self.qa_person + QA_PRIOR * prior) / (self.qa_machine + QA_PRIOR)
        people_hung_up = fp_share * self.machine_verdicts
        return people_hung_up / max(self.people_lives + people_hung_up, 50.0)

    def abandon_ratio(self, z: float = RATIO_Z) -> float:
        """Abandons per unit of the rule's rate spent on live calls: a Gamma posterior (abandons as Poisson counts)
        taken at its upper ``z`` quantile (Wilson-Hilferty). While few abandons are known the pacer stays on the
        safe side; what that leaves unspent comes back through the saved budget once it knows more."""
        k = self.people_abandons + RATIO_PRIOR
        upper = k * (1 - 1 / (9 * k) + z / (3 * math.sqrt(k))) ** 3
        return upper / (self.people.rate_spent + RATIO_PRIOR / RATIO_START)

    def allowed_rate(self, floor: Floor) -> float:
        """The rate the rule may spend this second, so that the measured abandon rate meets the budget."""
        base = max(0.0, self.target - self.margin - self.hidden_rate())
        # (the rate spent: over live calls, the rule's rate when they resolved, each weighed as a person)
        ratio = self.abandon_ratio()
        # and pay back (or spend) what the day so far over- (or under-) spent, gently: over a few hours' calls
        saved = base * (self.people_lives + 20) - self.people_abandons
        per_hour = max(10.0, floor.logged_in * 3600 / (self.talk.mean + self.wrap.mean + 5))
        self.rate_now = max(0.0, min(0.25, (base + saved / (SPREAD_HOURS * per_hour)) / ratio))
        return self.rate_now

    # ---- deciding ------------------------------------------------------------------------------------
    def agent_chances(self, f: Floor) -> list[float]:
        """Each talking, then each wrapping agent's chance to be free for a new dial's live call."""
        tf, wf = self._talk_free, self._wrap_free
        return [tf[min(7200, int(e))] for e in f.talking] + [wf[min(600, int(e))] for e in f.wrapping]

    def ringing_chances(self, f: Floor, share: dict[str, float]) -> list[float]:
        """Each ringing dial's chance to still turn live, given how long it has rung and the outcome ``share``; once
        answered, by when it was and how long AMD has listened since (``dialer.answered``)."""
        out = []
        answered = f.answered if len(f.answered) == len(f.ringing) else [None] * len(f.ringing)
        for r, since in zip(f.ringing, answered, strict=True):
            q = None
            if since is not None:
                q = self.answers.p_live(share["live"], share["machine"], r - since, since)
            if q is None:
                idx = min(60, int(r))
                den = sum(share[o] * self._surv[o][idx] for o in share)
                q = share["live"] * self._surv["live"][idx] / den if den > 1e-9 else 0.0
            out.append(q)
        return out

    def dials(self, f: Floor) -> int:
        self._ripen(f.now, f.ringing)
        if f.now >= self._next_refit:
            self._refit(f)
            self._next_refit = f.now + 30
            self._check_compliance_possible(f.now)
        if f.waiting > 0 or f.seconds_left <= 0:
            return 0
        # agents free at the horizon: the idle ones, plus each talking / wrapping agent's chance, less what the
        # inbound callers (waiting, and expected by the horizon) take first. Exact distributions, not a normal
        # approximation: on a small floor free agents are a handful of Bernoullis and lives a handful of dials
        agents = [1.0]  # P(free agents beyond the idle ones = j)
        for p in self.agent_chances(f):
            if p > 1e-6:
                agents = _add_bernoulli(agents, p)
        base_free = f.idle - f.inbound_waiting
        mu_in = f.inbound_rate * self.horizon
        if mu_in > 1e-9:  # inbound arrivals by the horizon, Poisson, take agents first
            arr = _poisson(mu_in)
            net = [0.0] * (len(agents) + len(arr) - 1)
            for i, pa in enumerate(agents):
                for j, pb in enumerate(arr):
                    net[i - j + len(arr) - 1] += pa * pb
            agents, base_free = net, base_free - (len(arr) - 1)
        # the live share is an estimate from the dials learned so far (few at a campaign's start): weigh three
        # shares around it by its uncertainty (a Beta's spread, as a 3-point normal quadrature), each moving
        # the forecast of the lines ringing as well as the new ones
        mix = self.mix
        total = sum(mix.values()) or 1.0
        p_live = self.p_live_per_dial()
        spread = math.sqrt(3 * p_live * (1 - p_live) / (total + 1))
        points = [(w, min(0.99, max(0.01, p_live + d * spread))) for w, d in SHARE_POINTS]
        rate = self.allowed_rate(f)
        room = max(0, f.line_limit - len(f.ringing))
        # never fewer lines than progressive dialing would place: a ready agent with no call coming is waste
        k = min(room, max(0, f.idle - f.waiting - f.inbound_waiting - len(f.ringing)))
        dists, lams = [], []
        for _, p_i in points:
            others = (1 - p_i) / max(1e-9, 1 - p_live)
            share = {o: (p_i if o == "live" else mix.get(o, 0.0) / total * others) for o in self._surv}
            lives_dist, lam = [1.0], 0.0
            for q in self.ringing_chances(f, share):
                if q > 1e-6:
                    lam += q
                    lives_dist = _add_bernoulli(lives_dist, q)
            for _ in range(k):
                lives_dist = _add_bernoulli(lives_dist, p_i)
            dists.append(lives_dist)
            lams.append(lam)
        # A = base_free + J, J ~ agents; E[(l - A)+] grows by P(A <= l - 1) from one l to the next
        prefix = [0.0]
        for x in agents:
            prefix.append(prefix[-1] + x)

        def excess_of(dist: list[float]) -> float:
            g = out = 0.0
            for n_lives, p_n in enumerate(dist):
                if n_lives > 0:
                    j = n_lives - 1 - base_free
                    g += prefix[min(j + 1, len(agents))] if j >= 0 else 0.0
                out += p_n * g
            return out

        while k < room:
            trials = [_add_bernoulli(d, p_i) for d, (_, p_i) in zip(dists, points, strict=True)]
            excess = sum(w * excess_of(t) for t, (w, _) in zip(trials, points, strict=True))
            lives = sum(w * (lam + (k + 1) * p_i) for lam, (w, p_i) in zip(lams, points, strict=True))
            if excess > rate * lives:
                break
            dists = trials
            k += 1
        return k

    def fp_share_low(self, z: float = 1.645) -> float:
        """A one-sided 95 % lower bound (Wilson) on the share of AMD machine verdicts that were people."""
        n = self.qa_machine
        if n == 0:
            return 0.0
        p = self.qa_person / n
        centre = p + z * z / (2 * n)
        spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, (centre - spread) / (1 + z * z / n))

    def _check_compliance_possible(self, now: float) -> None:
        # decide on the lower bound, not the estimate: a few early labels must not switch AMD off
        lives_per_verdict = self.people_lives / max(1, self.machine_verdicts)
        surely_hidden = self.fp_share_low() / max(1e-9, lives_per_verdict + self.fp_share_low())
        if self.controls.amd and self.qa_machine >= 100 and surely_hidden >= self.target - self.margin:
            self.controls.amd = False
            self.fell_back = True
            self.controls.alarms.append(Alarm(now, f"AMD calls too many people machines ({self.qa_person} of "
                                                   f"{self.qa_machine} reviewed): the abandon limit cannot be kept "
                                                   "with AMD on; AMD turned off for new dials"))  # fmt: skip
