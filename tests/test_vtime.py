"""The virtual PBX's virtual-time face: the discrete-event driver, and a site day run through the unchanged
engine (IVR, ACD, dialer) with every outbound call checked against the compliance rules in the ledger."""

import asyncio
from collections import defaultdict

import pytest

import dialer.runner as dialer_runner
from acd.board import Holder
from dialer.baselines import FixedRatio
from dialer.outcomes import classify
from dialer.pacer import PRIOR_POINTS, ForecastPacer
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import LinkDown, LinkUp, Resync, ResyncBegun
from engine.clock import VirtualClock
from sim.day import run_day
from sim.pbx.model import VirtualPbx
from sim.vtime import drive, settle, virtual_link
from tests.board_watch import BoardWatch


def test_sleepers_wake_in_order_each_at_its_own_time():
    async def main() -> list[tuple[str, float]]:
        clock = VirtualClock(start=1_800_000_000.0)
        seen: list[tuple[str, float]] = []

        async def sleeper(name: str, secs: list[float]) -> None:
            for s in secs:
                await clock.sleep(s)
                seen.append((name, clock.monotonic()))

        tasks = [asyncio.create_task(sleeper("a", [5, 5, 5])), asyncio.create_task(sleeper("b", [7, 0.25]))]
        reached = await drive(clock, 100.0)
        await asyncio.gather(*tasks)
        assert reached == 100.0 and clock.now() == 1_800_000_100.0
        return seen

    assert asyncio.run(main()) == [("a", 5.0), ("b", 7.0), ("b", 7.25), ("a", 10.0), ("a", 15.0)]


def test_tiny_remainders_do_not_stall_the_clock():
    # near 1.8e9 a float's step is 2.4e-7 s: the clock keeps offsets so "now + remainder" still moves
    async def main() -> float:
        clock = VirtualClock(start=1_800_000_000.0)
        deadline = 10.0 / 3

        async def waiter() -> None:
            while (left := deadline - clock.monotonic()) > 0:
                await clock.sleep(left)

        t = asyncio.create_task(waiter())
        await drive(clock, 10.0, stop=t.done)
        return clock.monotonic()

    assert asyncio.run(main()) == pytest.approx(10.0 / 3)


def test_a_busy_loop_is_named_not_hung():
    async def main() -> None:
        async def spin() -> None:
            while True:
                await asyncio.sleep(0)

        t = asyncio.create_task(spin())
        try:
            await settle(max_rounds=500)
        finally:
            t.cancel()

    with pytest.raises(RuntimeError, match="busy loop"):
        asyncio.run(main())


def test_the_engines_own_link_logs_in_to_the_virtual_pbx_and_comes_back_after_a_drop():
    """The virtual PBX is only the link's transport: login, FullyBooted, resync and the reconnect after a cut are
    the link's own, in virtual time."""

    async def main() -> None:
        clock = VirtualClock(start=1_800_000_000.0)
        pbx = VirtualPbx(clock)
        link = virtual_link(pbx, clock)
        runner = asyncio.create_task(link.run())
        await settle()
        assert link.ready.is_set() and link.stats.connects == 1 and len(pbx.listeners) == 1
        link.drop()
        await settle()
        assert not link.ready.is_set() and pbx.listeners == [], "the cut session no longer hears the PBX"
        await drive(clock, clock.monotonic() + 5)
        assert link.ready.is_set() and link.stats.connects == 2 and len(pbx.listeners) == 1
        items = [link.queue.get_nowait() for _ in range(link.queue.qsize())]
        kinds = [i.event if isinstance(i, Frame) else type(i).__name__ for i in items]  # type: ignore[union-attr]
        assert kinds == ["FullyBooted", "LinkUp", "ResyncBegun", "Resync", "LinkDown", "FullyBooted", "LinkUp",
                         "ResyncBegun", "Resync"]  # fmt: skip
        assert [i.connection for i in items if isinstance(i, LinkUp | ResyncBegun | Resync | LinkDown)] == \
            [1, 1, 1, 1, 2, 2, 2]  # fmt: skip
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await pbx.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("dial_status", "cause", "reason", "want"),
    [("ANSWER", 16, 4, "answered"), ("BUSY", 17, 0, "busy"), ("", 17, 0, "busy"), ("CONGESTION", 34, 0, "congestion"),
     ("", 38, 0, "congestion"), ("NOANSWER", 19, 0, "no_answer"), ("", 0, 3, "no_answer"), ("", 21, 0, "rejected"),
     ("", 1, 0, "invalid"), ("", 127, 0, "failed")],
)  # fmt: skip
def test_outcomes_come_from_dialstatus_and_cause_not_reason(dial_status, cause, reason, want):
    # Reason is 0 for busy and congestion alike (docs/asterisk.md#flow-originate): it cannot be what tells them apart
    assert classify(dial_status, cause, reason) == want


def _by_call(facts):
    out = defaultdict(dict)
    for f in facts:
        if f.kind.startswith("outbound."):
            out[f.call_id][f.kind] = f
    return out


def _campaign_spans(dials) -> defaultdict:  # type: ignore[no-untyped-def,type-arg]
    """Per agent, the (start, end) of each campaign conversation, from the compliance facts."""
    spans = defaultdict(list)
    for k in dials.values():
        if "outbound.connect" in k:
            start = k["outbound.connect"].at
            spans[k["outbound.connect"].data["agent"]].append((start, start + k["outbound.talk_end"].data["talk"]))
    return spans


def _assert_no_overlap(spans, tolerance: float = 1e-6) -> None:  # type: ignore[no-untyped-def]
    for agent, xs in spans.items():
        xs.sort()
        assert all(b[0] >= a[1] - tolerance for a, b in zip(xs, xs[1:], strict=False)), agent


def test_a_virtual_day_runs_the_whole_site_and_keeps_the_rules():
    facts: list = []
    r = run_day(hours=0.5, seed=3, outbound_agents=8, facts_out=facts)
    r = asyncio.run(r)
    s = r["inbound"]
    assert r["call_records"] == r["callers_simulated"] > 0
    assert s["answered"] + s["abandoned"] + s["short_abandoned"] + s["other"] == s["offered"]
    o = r["outbound"]
    assert o["connected"] > 20 and o["machines"] > 0

    dials = _by_call(facts)
    assert len(dials) == o["dials"]
    for call_id, k in dials.items():
        # every dial is resolved exactly once: a failure before the answer, or an AMD verdict and what followed
        assert ("outbound.result" in k) != ("outbound.verdict" in k), (call_id, sorted(k))
        if "outbound.verdict" in k:
            v = k["outbound.verdict"].data["amd"]
            ends = [x for x in ("outbound.machine", "outbound.connect", "outbound.abandon") if x in k]
            assert len(ends) == 1 and (ends[0] == "outbound.machine") == (v == "MACHINE"), (call_id, sorted(k))
        if "outbound.connect" in k:
            assert k["outbound.connect"].data["after_greeting"] <= 2.0  # an agent within 2 s of the greeting's end
            assert "outbound.talk_end" in k
    assert o["connected"] + o["abandoned"] == o["live"]
    # every conversation is recorded on the customer's channel, keyed by the outbound call's id
    recorded = {f.call_id for f in facts if f.kind == "recording.started"}
    assert {c for c, k in dials.items() if "outbound.connect" in k} <= recorded

    # an always-on agent is never given two customers at once
    _assert_no_overlap(_campaign_spans(dials))

    # virtual time is deterministic: the same seed gives the same day
    again = asyncio.run(run_day(hours=0.5, seed=3, outbound_agents=8))
    for key in ("dials", "connected", "abandoned", "machines"):
        assert again["outbound"][key] == o[key]
    assert again["inbound"] == s


def test_no_agent_free_means_the_abandon_message_and_a_count(monkeypatch):
    # a reckless fixed ratio floods the floor, so some people answer with no agent left for them
    monkeypatch.setattr(dialer_runner, "ForecastPacer", lambda target, amd: FixedRatio(4.0))
    facts: list = []
    r = asyncio.run(run_day(hours=0.25, seed=5, outbound_agents=4, facts_out=facts,
                            inbound=shell_free_inbound()))  # fmt: skip
    o = r["outbound"]
    abandons = [f for f in facts if f.kind == "outbound.abandon"]
    assert o["abandoned"] == len(abandons) > 0
    for f in abandons:
        assert f.data["message_at"] - f.data["greeting_end"] <= 2.0  # the message starts inside the window
    assert o["abandon_rate_us"] == round(o["abandoned"] / o["live"], 4)


def shell_free_inbound():
    from sim.traffic import InboundModel

    return InboundModel(calls_per_day=0.001)


def test_the_call_window_holds_on_the_virtual_clock():
    facts: list = []
    asyncio.run(run_day(hours=0.5, seed=2, outbound_agents=4, window="08:00-09:20", facts_out=facts,
                        inbound=shell_free_inbound()))  # fmt: skip
    placed = [f for f in facts if f.kind == "outbound.placed"]
    assert placed, "dials before 09:20"
    start = min(f.at for f in facts)
    minutes = [(f.at - start) / 60 for f in placed]
    assert max(minutes) < 20.0, "no dial at or after the window's end (09:20)"


class MemoryLeads:
    """The lead store's behaviour the dialer relies on, in memory: due times, call backs owned by an agent."""

    def __init__(self, n: int) -> None:
        from dialer.lead_source import LeadRef
        from sim.synthetic_leads import synthetic_number

        self.leads = {i: LeadRef(i, synthetic_number(i)) for i in range(n)}
        self.due = {i: 0.0 for i in range(n)}
        self.owner: dict[int, str | None] = {i: None for i in range(n)}
        self.dnc: list[str] = []

    async def claim(self, n, now, agent=None):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        ready = [i for i, t in sorted(self.due.items(), key=lambda x: x[1]) if t <= now and self.owner[i] == agent]
        out = []
        for i in ready[:n]:
            del self.due[i]
            out.append(replace(self.leads[i], agent=self.owner[i] or ""))
        return out

    async def finish(self, lead, outcome, now, next_at, attempted=True):  # type: ignore[no-untyped-def]
        if next_at is not None:
            self.due[lead.id] = next_at

    async def schedule(self, lead, at, agent):  # type: ignore[no-untyped-def]
        self.due[lead.id] = at
        self.owner[lead.id] = agent

    async def add_dnc(self, phone, now):  # type: ignore[no-untyped-def]
        self.dnc.append(phone)


def test_a_call_back_promised_by_an_agent_comes_back_to_that_agent():
    facts: list = []
    promised: dict = {}

    def hook(eng):  # type: ignore[no-untyped-def]
        dialer = eng.features["dialer"]
        runner = dialer.runners[0]
        runner.leads = MemoryLeads(400)

        async def agent_says() -> None:
            seat = runner.seats["2002"]
            while seat.last is None or seat.state != "wrap":
                await eng.clock.sleep(1)
            promised["lead"] = seat.last.lead.id
            promised["reply"] = await dialer.control("2002", "callback", "5")
            with pytest.raises(ValueError, match="unknown disposition"):
                await dialer.control("2002", "disposition", "7")
            promised["dispo"] = await dialer.control("2002", "disposition", "3")

        eng.spawn(agent_says(), "agent-2002")

    asyncio.run(run_day(hours=0.4, seed=4, outbound_agents=3, facts_out=facts, on_engine=hook,
                        inbound=shell_free_inbound()))  # fmt: skip
    lead = promised["lead"]
    assert "call back in 5 min (own)" in promised["reply"] and "call back" in promised["dispo"]
    (cb,) = [f for f in facts if f.kind == "outbound.callback"]
    (dispo,) = [f for f in facts if f.kind == "outbound.disposition"]
    assert dispo.data["code"] == "3" and dispo.data["agent"] == "2002"
    placed = [f for f in facts if f.kind == "outbound.placed" and f.data["lead"] == lead]
    assert len(placed) == 2 and placed[1].at >= cb.data["at"], "dialed again, not before the promised time"
    connects = [f for f in facts if f.kind == "outbound.connect" and f.call_id == placed[1].call_id]
    assert [c.data["agent"] for c in connects] == ["2002"], "the call back reached the agent who promised it"


def test_outbound_agents_take_hotline_overflow_in_their_sessions_and_leave_the_pool():
    from engine.model.records import derive
    from sim.traffic import InboundModel

    facts: list = []
    watch = BoardWatch()
    asyncio.run(run_day(hours=1.0, seed=7, outbound_agents=3, outbound_take_hotline=True, facts_out=facts,
                        inbound=InboundModel(calls_per_day=400), on_engine=watch.attach))  # fmt: skip
    rows = [r.as_row() for r in derive(facts)]
    lent = [f for f in facts if f.kind == "dialer.lent"]
    returned = [f for f in facts if f.kind == "dialer.returned"]
    by_outbound = [r for r in rows if r["agent_id"] in ("2001", "2002", "2003") and r["outcome"] == "answered"]
    assert by_outbound and len(lent) == len(returned) >= len(by_outbound)
    for r in by_outbound:
        # rule steps count from the caller's entry into the system (IVR included), as the score does
        assert r["connected_at"] - r["arrived_at"] >= 10.0 - 0.01, "only after the overflow step (10 s)"
        assert r["ring_time"] < 0.5, "into the session: no ringing"
    # while lent, an agent gets no outbound customer: its hotline call and its campaign calls never overlap
    spans = _campaign_spans(_by_call(facts))
    for r in by_outbound:
        spans[r["agent_id"]].append((r["connected_at"], r["connected_at"] + r["talk_time"] + r["hold_time"]))
    _assert_no_overlap(spans, tolerance=1e-3)  # records are rounded to the millisecond
    # the board saw it the same way: lent, then the dialer's again, never held by two sides at once
    watch.assert_clean()
    assert {r["agent_id"] for r in by_outbound} <= {a for a, held in watch.holders.items() if Holder.LENT in held}


def test_the_engine_tells_its_pacer_which_dials_are_answered(monkeypatch):
    # the channel goes up (Newstate) seconds before AMD's verdict: the floor says so per ringing dial, and the
    # verdict's DialResolved carries when it was, for the pacer to learn who answers when
    made: list[ForecastPacer] = []
    lengths: list[tuple[int, int]] = []
    answered: list[tuple[float, float]] = []  # (rung, since the answer) of each answered dial, every second

    class Watching(ForecastPacer):
        def ringing_chances(self, f, share):
            lengths.append((len(f.ringing), len(f.answered)))
            answered.extend((r, a) for r, a in zip(f.ringing, f.answered, strict=False) if a is not None)
            return super().ringing_chances(f, share)

    def make(**kw):
        made.append(Watching(**kw))
        return made[-1]

    monkeypatch.setattr(dialer_runner, "ForecastPacer", make)
    asyncio.run(run_day(hours=0.25, seed=5, outbound_agents=4, inbound=shell_free_inbound()))
    assert len(made) == 1 and lengths and all(n == m for n, m in lengths)
    # answered after some ringing, and named by AMD within its 5 s of listening
    assert answered and all(0 <= a < r and a <= 6.0 for r, a in answered)
    learned = made[0].answers.pick
    assert len(learned["live"]) > PRIOR_POINTS and len(learned["machine"]) > PRIOR_POINTS
