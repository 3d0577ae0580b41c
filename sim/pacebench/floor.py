"""PaceBench's discrete-event floor: one shift of one cell under one pacing policy.

Events run at their exact times; the policy is asked once a second and sees only what the engine would see
(``dialer.pacing.Floor`` and the events), never the world's truth. Rules (docs/pacebench.md): a live call must be
bridged (0.5 s) to an agent before its deadline (US: greeting end + 2 s; UK: answer + 0.3 s + 2 s) or it
hears the abandon message. Without AMD the engine cannot see a greeting's end, so it counts the US window from
the answer, for people and machines alike (``dialer.answer`` does the same). AMD false positives are people
hung up on (abandoned in truth, invisible as measured; they hear the message left for machines, so no call is
silent); false negatives are machines an agent handles for 10-20 s.
"""

from __future__ import annotations

import heapq
import itertools
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from dialer.compliance import UK, US, WINDOW
from dialer.pacing import Abandoned, AgentSaid, Connected, DialResolved, Floor, Pacer, QaLabel, TalkEnded, WrapEnded
from sim.pacebench.world import DAY, INBOUND_SL, Cell, World

BRIDGE = 0.5
START = 600.0  # s: a campaign's first minutes, when the pacer knows least (reported apart)
NO_ANSWER_TIMEOUT = 25.0
QA_SHARE = 0.2  # share of AMD machine verdicts a reviewer labels, 10 minutes later
QA_DELAY = 600.0

IDLE, BRIDGING, TALK, WRAP, OFF = range(5)


@dataclass
class Result:
    cell: str
    policy: str
    seed: int
    agents: int
    logged_in: float = 0.0
    talk: float = 0.0  # human conversation seconds inside the shift
    dials: int = 0
    humans: int = 0  # people who answered (truth)
    connected_humans: int = 0
    abandoned_humans: int = 0  # truth, incl. people AMD hung up on
    fp_humans: int = 0
    measured_lives: int = 0
    measured_abandons: int = 0
    silent: int = 0  # calls that get neither an agent nor a message: none in this model (see the docstring)
    idle_gaps: list[float] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    amd_off_at: float | None = None
    leads_total: int = 0
    leads_dialed: int = 0
    empty_hopper_minutes: int = 0
    inbound_offered: int = 0  # S6
    inbound_in_sl: int = 0  # ... answered within the service-level time
    inbound_left: list[float] = field(default_factory=list)  # arrival times of callers still waiting at the close
    start_humans: int = 0  # people among the dials of the campaign's first START seconds (truth)
    start_abandoned: int = 0  # ... of whom were abandoned (incl. AMD's false positives)

    @property
    def occupancy(self) -> float:
        return self.talk / self.logged_in if self.logged_in else 0.0

    def summary(self) -> dict[str, Any]:
        gaps = sorted(self.idle_gaps)
        hours = self.logged_in / 3600
        return {
            "occupancy": round(self.occupancy, 4),
            "dials": self.dials,
            "humans": self.humans,
            "connects": self.connected_humans,
            "connects_per_agent_hour": round(self.connected_humans / hours, 3) if hours else 0.0,
            "abandon_us_truth": round(self.abandoned_humans / self.humans, 4) if self.humans else 0.0,
            "acr_uk_truth": round(self.abandoned_humans / (self.connected_humans + self.abandoned_humans), 4)
            if self.connected_humans + self.abandoned_humans else 0.0,
            "abandon_measured": round(self.measured_abandons / self.measured_lives, 4) if self.measured_lives else 0.0,
            "silent_calls": self.silent,
            "idle_gap_mean": round(statistics.fmean(gaps), 2) if gaps else 0.0,
            "idle_gap_median": round(gaps[len(gaps) // 2], 2) if gaps else 0.0,
            "idle_gap_p95": round(gaps[int(0.95 * (len(gaps) - 1))], 2) if gaps else 0.0,
            "alarms": self.alarms,
            "amd_off_at": self.amd_off_at,
            **({"leads": self.leads_total, "penetration": round(self.leads_dialed / self.leads_total, 4),
                "connects_per_1000_leads": round(1000 * self.connected_humans / self.leads_total, 2),
                "empty_hopper_minutes": self.empty_hopper_minutes} if self.leads_total else {}),
            **({"inbound_offered": self.inbound_offered,
                "inbound_sl": round(self.inbound_in_sl / self.inbound_offered, 4)} if self.inbound_offered else {}),
        }  # fmt: skip


@dataclass
class _Call:
    id: int
    lead: int
    attempt: int
    placed: float
    kind: str = ""  # human, machine, fn (a machine treated as live), fp
    deadline: float = 0.0
    live_at: float = 0.0
    answered: float = float("inf")  # when the far end picked up
    amd: bool = False  # AMD listened after the answer (the pacer hears the answer then, before the verdict)


@dataclass
class Told:
    """What no engine knows, for ``sim.pacebench.told``'s bounds: aligned with the floor's lists, each talking and
    wrapping agent's seconds until its wrap-up ends (free then, or off for a break or the day's end), and each
    ringing dial's seconds since its answer (None: not answered) and whether it will reach the floor live."""

    talking: list[float]
    wrapping: list[float]
    ringing: list[tuple[float | None, bool]]


class _Hopper:
    """The finite-list variant: 5,000 leads a day per 48 agents, at most 6 attempts, no-answer retries after
    2 h, calling only 08:00-21:00 in the lead's time zone (four zones: the site's and 1-3 h behind)."""

    def __init__(self, agents: int) -> None:
        self.n = max(100, round(5000 * agents / 48))
        self.offset = [-(i % 4) * 3600.0 for i in range(self.n)]
        self.attempts = [0] * self.n
        self.next_ok = [0.0] * self.n
        self.done = [False] * self.n
        self.dialed: set[int] = set()
        self.cursor = 0

    def eligible(self, i: int, t: float) -> bool:
        local_hour = 9 + (t + self.offset[i]) / 3600
        return not self.done[i] and self.attempts[i] < 6 and self.next_ok[i] <= t and 8 <= local_hour < 21

    def take(self, t: float) -> tuple[int, int] | None:
        # fresh leads first (in order), then retries that are due
        for _ in range(self.n):
            i = self.cursor
            self.cursor = (self.cursor + 1) % self.n
            if self.eligible(i, t):
                a = self.attempts[i]
                self.attempts[i] += 1
                self.next_ok[i] = float("inf")  # until this attempt ends
                self.dialed.add(i)
                return i, a
        return None

    def ended(self, i: int, t: float, outcome: str) -> None:
        if outcome in ("human", "abandoned"):
            self.done[i] = True
        else:
            self.next_ok[i] = t + 2 * 3600


def run_floor(cell: Cell, world: World, policy: Pacer, seed: int) -> Result:
    n = cell.agents
    res = Result(cell.name, policy.name, seed, n)
    heap: list[tuple[float, int, str, Any]] = []
    seq = itertools.count()

    def at(t: float, kind: str, payload: Any) -> None:
        heapq.heappush(heap, (t, next(seq), kind, payload))

    state = [OFF] * n
    since = [0.0] * n
    free_at = [0.0] * n  # the truth: when each busy agent's talk and wrap-up will be over
    tell = getattr(policy, "tell", None)  # only the bounds' told policies hear the truth
    idle_since = [0.0] * n
    calls_done = [0] * n
    on_break = [False] * n
    # logins: all at 09:00, or staggered over 15 min (S3); S3 also sends a quarter on break 12:00-12:30
    for a in range(n):
        at(a * 900.0 / n if cell.stress == "S3" else 0.0, "login", a)
        if cell.stress == "S3" and a % 4 == 0:
            at(3 * 3600.0, "break", a)
            at(3.5 * 3600.0, "back", a)
    login_time = [None] * n
    ringing: dict[int, _Call] = {}
    waiting: deque[_Call] = deque()
    hopper = _Hopper(n) if cell.finite else None
    next_lead = 0
    call_ids = itertools.count()
    line_limit = 6 * n
    amd_was = policy.controls.amd
    rule = UK if cell.profile == "UK" else US  # the engine's own windows (dialer.compliance)
    # S6: inbound callers go to the next free agent before any outbound call (blended floor)
    inbound_queue: deque[tuple[float, float]] = deque()
    inbound_rate = world.inbound_rate()
    for arrival in world.inbound():
        at(arrival[0], "inbound", arrival)

    def logged_in_seconds(a: int, t: float) -> None:
        if login_time[a] is not None:
            res.logged_in += max(0.0, min(t, DAY) - login_time[a])
            login_time[a] = None

    def free_agent(a: int, t: float) -> None:
        if on_break[a]:
            state[a] = OFF
            logged_in_seconds(a, t)
            return
        state[a] = IDLE
        since[a] = idle_since[a] = t
        if inbound_queue:
            take_inbound(a, inbound_queue.popleft(), t)
            return
        while waiting:
            c = waiting.popleft()
            if c.deadline >= t:
                connect(a, c, t)
                return

    def connect(a: int, c: _Call, t: float) -> None:
        state[a] = BRIDGING
        since[a] = t
        res.idle_gaps.append(t - idle_since[a])
        policy.on(Connected(t - c.live_at), t)
        d = world.lead(c.lead, c.attempt)
        if c.kind == "human":
            res.connected_humans += 1
            talk = d.talk * cell.talk_factor(t)
            start = t + BRIDGE
            res.talk += max(0.0, min(start + talk, DAY) - min(start, DAY))
            if hopper:
                hopper.ended(c.lead, t, "human")
        else:
            talk = d.fn_handle
            if hopper:
                hopper.ended(c.lead, t, "machine")
        free_at[a] = t + BRIDGE + talk + world.wrap(a, calls_done[a])
        at(t + BRIDGE, "talk", a)
        at(t + BRIDGE + talk, "talk_end", (a, talk, c))

    def take_inbound(a: int, call: tuple[float, float], t: float) -> None:
        arrived, talk = call
        state[a] = BRIDGING
        since[a] = t
        res.idle_gaps.append(t - idle_since[a])
        res.inbound_offered += 1
        res.inbound_in_sl += t - arrived <= INBOUND_SL[1]
        start = t + BRIDGE
        res.talk += max(0.0, min(start + talk, DAY) - min(start, DAY))
        free_at[a] = start + talk + world.wrap(a, calls_done[a])
        at(start, "talk", a)
        at(start + talk, "talk_end", (a, talk, None))

    def resolve(c: _Call, t: float, outcome: str) -> None:
        ringing.pop(c.id, None)
        policy.on(DialResolved(outcome, t - c.placed, c.answered - c.placed if c.amd and c.answered <= t else None),
                  t)  # fmt: skip

    def needs_agent(c: _Call, t: float) -> None:
        resolve(c, t, "live")
        c.live_at = t
        res.measured_lives += 1
        for a in range(n):
            if state[a] == IDLE:
                connect(a, c, t)
                return
        waiting.append(c)
        at(c.deadline, "deadline", c)

    def dial(t: float) -> bool:
        nonlocal next_lead
        if hopper is not None:
            got = hopper.take(t)
            if got is None:
                return False
            lead, attempt = got
        else:
            lead, attempt = next_lead, 0
            next_lead += 1
        c = _Call(next(call_ids), lead, attempt, t)
        ringing[c.id] = c
        res.dials += 1
        d = world.lead(lead, attempt)
        p = cell.p_human(t)
        amd = c.amd = policy.controls.amd and cell.amd
        if d.u_outcome < p:
            if d.ring > NO_ANSWER_TIMEOUT:
                at(t + NO_ANSWER_TIMEOUT, "resolve", (c, "noanswer"))
                return True
            answered = c.answered = t + d.ring
            res.humans += 1
            res.start_humans += t < START
            greeting_end = answered + d.greeting
            # without AMD the engine cannot see the greeting end: its window counts from the answer
            c.deadline = rule.start(answered, greeting_end if amd else answered) + WINDOW - BRIDGE
            if amd and d.u_fp < cell.fp_rate:
                c.kind = "fp"
                at(greeting_end + 0.8, "fp", c)
            else:
                c.kind = "human"
                at(greeting_end + 0.8 if amd else answered, "live", c)
        elif d.u_outcome < p + 0.20:
            pickup = c.answered = t + d.machine_pickup
            if amd:
                verdict = pickup + d.machine_verdict
                if d.u_fn < cell.fn_rate:
                    c.kind = "fn"
                    c.deadline = verdict + 1.2 - BRIDGE
                    at(verdict, "live", c)
                else:
                    c.kind = "machine"
                    at(verdict, "machine", c)
            else:
                c.kind = "fn"  # without AMD every answer is treated as live, by the same window as a person's
                c.deadline = rule.start(pickup, pickup) + WINDOW - BRIDGE
                at(pickup, "live", c)
        elif d.u_outcome < p + 0.30:
            at(t + d.busy_after, "resolve", (c, "busy"))
        else:
            at(t + NO_ANSWER_TIMEOUT, "resolve", (c, "noanswer"))
        return True

    qa_count = itertools.count()
    empty_minutes: set[int] = set()
    end = DAY + 600  # let calls in progress finish
    t = 0
    while t <= end:
        while heap and heap[0][0] <= t:
            et, _, kind, payload = heapq.heappop(heap)
            if kind == "login":
                a = payload
                login_time[a] = et
                free_agent(a, et)
            elif kind == "break":
                on_break[payload] = True
                if state[payload] == IDLE:
                    state[payload] = OFF
                    logged_in_seconds(payload, et)
            elif kind == "back":
                a = payload
                on_break[a] = False
                if state[a] == OFF:
                    login_time[a] = et
                    free_agent(a, et)
            elif kind == "resolve":
                c, outcome = payload
                resolve(c, et, outcome)
                if hopper:
                    hopper.ended(c.lead, et, outcome)
            elif kind == "live":
                needs_agent(payload, et)
            elif kind == "machine":
                resolve(payload, et, "machine")
                if hopper:
                    hopper.ended(payload.lead, et, "machine")
                if (next(qa_count) % int(1 / QA_SHARE)) == 0:
                    at(et + QA_DELAY, "qa", False)
            elif kind == "fp":
                c = payload
                resolve(c, et, "machine")
                res.fp_humans += 1
                res.abandoned_humans += 1  # a person hung up on: abandoned in truth (heard the message)
                res.start_abandoned += c.placed < START
                if hopper:
                    hopper.ended(c.lead, et, "abandoned")
                if (next(qa_count) % int(1 / QA_SHARE)) == 0:
                    at(et + QA_DELAY, "qa", True)
            elif kind == "inbound":
                free = next((a for a in range(n) if state[a] == IDLE), None)
                if free is None:
                    inbound_queue.append(payload)
                else:
                    take_inbound(free, payload, et)
            elif kind == "qa":
                policy.on(QaLabel(bool(payload)), et)
            elif kind == "deadline":
                c = payload
                if c in waiting:
                    waiting.remove(c)
                    res.measured_abandons += 1
                    if c.kind == "human":
                        res.abandoned_humans += 1
                        res.start_abandoned += c.placed < START
                    if hopper:
                        hopper.ended(c.lead, et, "abandoned")
                    policy.on(Abandoned(c.live_at - c.placed), et)
            elif kind == "talk":
                state[payload] = TALK
                since[payload] = et
            elif kind == "talk_end":
                a, talk, c = payload
                policy.on(TalkEnded(talk), et)
                if c is not None:  # the agent's disposition: a machine AMD let through, or a person
                    policy.on(AgentSaid(c.kind != "human", c.live_at - c.placed), et)
                state[a] = WRAP
                since[a] = et
                w = world.wrap(a, calls_done[a])
                calls_done[a] += 1
                at(et + w, "wrap_end", (a, w))
            elif kind == "wrap_end":
                a, w = payload
                policy.on(WrapEnded(w), et)
                if et >= DAY:
                    state[a] = OFF
                    logged_in_seconds(a, DAY)
                else:
                    free_agent(a, et)
        if t < DAY:
            floor = Floor(
                now=float(t),
                idle=sum(1 for s in state if s == IDLE),
                talking=[t - since[a] for a in range(n) if state[a] == TALK],
                wrapping=[t - since[a] for a in range(n) if state[a] == WRAP],
                ringing=[t - c.placed for c in ringing.values()],
                waiting=len(waiting),
                logged_in=sum(1 for a in range(n) if login_time[a] is not None),
                line_limit=line_limit,
                seconds_left=DAY - t,
                inbound_waiting=len(inbound_queue),
                inbound_rate=inbound_rate,
                answered=[t - c.answered if c.amd and c.answered <= t else None for c in ringing.values()],
            )
            if tell is not None:
                tell(Told([free_at[a] - t for a in range(n) if state[a] == TALK],
                          [free_at[a] - t for a in range(n) if state[a] == WRAP],
                          [(t - c.answered if c.answered <= t else None, c.kind in ("human", "fn"))
                           for c in ringing.values()]))  # fmt: skip
            k = min(policy.dials(floor), max(0, line_limit - len(ringing) - len(waiting)))
            for _ in range(k):
                if not dial(float(t)):
                    empty_minutes.add(t // 60)
                    break
            if policy.controls.amd != amd_was:
                amd_was = policy.controls.amd
                if not amd_was and res.amd_off_at is None:
                    res.amd_off_at = float(t)
        t += 1
    for a in range(n):
        logged_in_seconds(a, DAY)
    res.alarms = [f"{al.at / 3600 + 9:05.2f}h {al.text}" for al in policy.controls.alarms]
    if hopper:
        res.leads_total = hopper.n
        res.leads_dialed = len(hopper.dialed)
        res.empty_hopper_minutes = len(empty_minutes)
    res.inbound_left = [arrived for arrived, _ in inbound_queue]
    return res


def oracle(cell: Cell, world: World, seed: int) -> Result:
    """O0: every agent back to back on the world's people (talk) and wrap-up draws, no waiting for dials."""
    n = cell.agents
    res = Result(cell.name, "oracle", seed, n, logged_in=float(n * DAY))
    heap = [(0.0, a, 0) for a in range(n)]
    lead = 0
    while heap:
        free, a, k = heapq.heappop(heap)
        if free >= DAY:
            continue
        while world.lead(lead).u_outcome >= cell.p_human(free):
            lead += 1
        d = world.lead(lead)
        lead += 1
        start = free + BRIDGE
        talk = d.talk * cell.talk_factor(free)
        res.talk += max(0.0, min(start + talk, DAY) - min(start, DAY))
        res.connected_humans += 1
        res.humans += 1
        heapq.heappush(heap, (start + talk + world.wrap(a, k), a, k + 1))
    return res
