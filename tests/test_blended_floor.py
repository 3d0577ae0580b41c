"""The live dialer's blended floor: the ACD tells the pacer about hotline callers its campaign agents may take
(waiting now, and the recent arrival rate), and QA labels of AMD "machine" calls reach the pacer."""

import asyncio
import copy
import dataclasses
import tempfile
from pathlib import Path

import pytest

from acd.arrivals import ArrivalRate
from acd.board import Holder
from acd.inbound_view import AcdInbound
from acd.router import AgentProfile, Caller, Router, RuleStep, Service
from dialer.pacing import Floor, QaLabel
from dialer.ports import DialerPorts
from dialer.runner import CampaignRunner
from dialer.services import Dialer
from engine.clock import VirtualClock
from engine.ports import InboundLoad
from sim import world
from sim.day import run_day, scratch_site
from sim.traffic import InboundModel
from tests.board_watch import BoardWatch

HOTLINE = Service("hotline", {"hotline": 80}, steps=(RuleStep(10, lower={"hotline": 40}),))
SALES = Service("sales", {"sales": 50})
AGENTS = [AgentProfile("1001", {"hotline": 100}), AgentProfile("2001", {"hotline": 40}),
          AgentProfile("2002", {"outbound": 100})]  # fmt: skip


def test_arrival_rate_is_a_sliding_window_on_the_given_clock():
    r = ArrivalRate(start=0.0, window=600.0, min_span=60.0)
    assert r.rate(0.0) == 0.0
    r.add(5.0)
    assert r.rate(10.0) == pytest.approx(1 / 60), "one early caller over the minimum span, not over 10 s"
    for t in range(100, 400, 10):
        r.add(float(t))
    assert r.rate(400.0) == pytest.approx(31 / 400)  # less than a window observed: over the time so far
    assert r.rate(900.0) == pytest.approx(9 / 600)  # the last window, (300, 900]: the arrivals at 310..390
    assert r.rate(1000.0) == 0.0  # all older than the window


def test_router_counts_waiting_callers_the_agents_may_take_now():
    r = Router([HOTLINE, SALES], AGENTS)
    r.enqueue(Caller("c1", "hotline", entered_at=100.0))
    r.enqueue(Caller("c2", "sales", entered_at=100.0))
    assert r.waiting_for(["2001", "2002"], 105.0) == 0, "before the overflow step only the hotline agent may"
    assert r.waiting_for(["2001", "2002"], 110.0) == 1, "after it the overflow agent may"
    assert r.waiting_for(["1001"], 105.0) == 1
    r.grant("2002", "sales")  # a guard's grant opens a service whatever the skills
    assert r.waiting_for(["2002"], 105.0) == 1
    r.remove("c1")  # connected elsewhere or gone
    assert r.waiting_for(["2001"], 200.0) == 0
    assert r.open_services(["2001"]) == {"hotline"} and r.open_services(["2002"]) == {"sales"}


def test_acd_view_counts_arrivals_at_the_hand_over_for_services_the_agents_may_take():
    clock = VirtualClock(1_800_000_000.0)
    r = Router([HOTLINE, SALES], AGENTS)
    view = AcdInbound(r, "hotline", clock, window=600.0)
    handed: list[str] = []

    async def enqueue(w) -> None:  # type: ignore[no-untyped-def]
        handed.append(w.call_id)

    @dataclasses.dataclass
    class W:
        call_id: str
        service: str

    async def arrive() -> None:
        for i in range(6):
            await view.entering(enqueue)(W(f"h{i}", "hotline" if i % 2 else "nonsense"))  # unknown: the default
            await view.entering(enqueue)(W(f"s{i}", "sales"))
            clock.advance_to(clock.monotonic() + 20.0)

    asyncio.run(arrive())
    assert handed == [x for i in range(6) for x in (f"h{i}", f"s{i}")], "every caller still reaches the ACD"
    assert clock.monotonic() == 120.0  # over the 120 s seen so far
    assert view.load_for(["2001"]) == InboundLoad(0, pytest.approx(6 / 120))
    assert view.load_for(["2001", "2002"]).rate == pytest.approx(6 / 120), "2002 may take no service"
    r.grant("2002", "sales")
    assert view.load_for(["2001", "2002"]).rate == pytest.approx(12 / 120)


class _FakeEngine:
    def __init__(self, site) -> None:  # type: ignore[no-untyped-def]
        self.site = site
        self.clock = VirtualClock(1_800_000_000.0)
        self.frame_hooks: list = []
        self.facts: list = []

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data) -> None:  # type: ignore[no-untyped-def]
        self.facts.append((kind, call_id, data))


class _SpyPacer:
    name = "spy"

    def __init__(self) -> None:
        from dialer.pacing import Controls

        self.controls = Controls()
        self.events: list = []

    def on(self, ev, now: float) -> None:  # type: ignore[no-untyped-def]
        self.events.append(ev)

    def dials(self, floor: Floor) -> int:
        return 0


class _View:
    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def load_for(self, agents):  # type: ignore[no-untyped-def]
        self.asked.append(sorted(agents))
        return InboundLoad(2, 0.01)


def _runner(tmp: Path, inbound=None, name: str = "renewals", eng=None):  # type: ignore[no-untyped-def]
    site = scratch_site(tmp, lambda secret: world.site_text(
        ami_port=5038, agi_port=4573, secret_file=secret, store_url="sqlite+aiosqlite:///unused.db",
        recordings=tmp / "rec", queue_log=tmp / "ql", outbound_agents=3, outbound_take_hotline=True,
    ))  # fmt: skip
    eng = eng or _FakeEngine(site)
    c = dataclasses.replace(site.campaigns[0], name=name)
    agents = {a.id: a for a in site.agents}
    return eng, CampaignRunner(DialerPorts.of(eng), c, agents, site["site"]["timezone"], leads=None,  # type: ignore[arg-type]
                               pacer=_SpyPacer(), inbound=inbound)  # fmt: skip


def test_the_floor_carries_the_acd_view_for_the_agents_in_the_pacing_pool(tmp_path):
    view = _View()
    eng, runner = _runner(tmp_path, view)
    board = runner.board
    for agent in ("2001", "2002"):  # 2001 idle in its session, 2002 talking to a customer, 2003 out of it
        board.session_joining(agent)
        board.session_up(agent, f"PJSIP/{agent}-1")
    board.dialer_take("2002", "dl-1")
    f = runner.floor()
    assert (f.inbound_waiting, f.inbound_rate) == (2, 0.01)
    assert view.asked == [["2001", "2002"]], "agents out of their session take no hotline caller"
    board.guard_reserve("2002")  # the guard's agent is out of the pool: its callers are not ours to count
    runner.floor()
    assert view.asked[-1] == ["2001"]
    (tmp_path / "alone").mkdir()
    _, alone = _runner(tmp_path / "alone")
    alone.board.session_joining("2001")
    alone.board.session_up("2001", "PJSIP/2001-1")
    assert (alone.floor().inbound_waiting, alone.floor().inbound_rate) == (0, 0.0), "no ACD: nothing inbound"


def test_a_qa_label_reaches_the_pacer_of_the_campaign_that_placed_the_call(tmp_path):
    with tempfile.TemporaryDirectory() as other:
        eng, short = _runner(tmp_path, name="a")
        _, long = _runner(Path(other), name="a-b", eng=eng)
        dialer = Dialer([short, long], eng.clock)
        machine_call, person_call = short._new_id(eng.clock.now()), long._new_id(eng.clock.now())
        assert asyncio.run(dialer.qa_label(machine_call, machine=True))
        assert asyncio.run(dialer.qa_label(person_call, machine=False))
        assert short.pacer.events == [QaLabel(was_person=False)]
        assert long.pacer.events == [QaLabel(was_person=True)], "dl-a-b-... is campaign a-b's, not a's"
        assert not asyncio.run(dialer.qa_label(person_call, machine=True)), "one label per call"
        assert long.pacer.events == [QaLabel(was_person=True)]
        assert [(k, c, d["campaign"], d["machine"]) for k, c, d in eng.facts] == [
            ("outbound.qa", machine_call, "a", True), ("outbound.qa", person_call, "a-b", False)]  # fmt: skip
        with pytest.raises(ValueError, match="not a dial of any campaign"):
            asyncio.run(dialer.qa_label("1700000000.12", machine=True))


def test_qa_labels_move_the_live_pacers_estimate_of_people_hung_up_on(tmp_path):
    from dialer.pacer import ForecastPacer

    eng, runner = _runner(tmp_path)
    runner.pacer = ForecastPacer()
    dialer = Dialer([runner], eng.clock)
    before = runner.pacer.hidden_rate()
    for i in range(40):
        asyncio.run(dialer.qa_label(runner._new_id(eng.clock.now()), machine=i % 2 == 0))
    assert (runner.pacer.qa_machine, runner.pacer.qa_person) == (40, 20)
    runner.pacer.machine_verdicts = runner.pacer.lives = 100
    assert runner.pacer.hidden_rate() > before


class _Twin:
    """The campaign's own pacer, unchanged, plus what a copy of it would say with no hotline caller on the floor."""

    def __init__(self, inner, eng) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.eng = inner, eng
        self.name, self.controls = inner.name, inner.controls
        self.seconds: list[tuple[Floor, int, int, int]] = []

    def on(self, ev, now: float) -> None:  # type: ignore[no-untyped-def]
        self.inner.on(ev, now)

    def dials(self, f: Floor) -> int:
        twin = copy.deepcopy(self.inner)
        said = self.inner.dials(f)
        alone = twin.dials(dataclasses.replace(f, inbound_waiting=0, inbound_rate=0.0))
        acd = self.eng.features["acd"]
        now = self.eng.clock.now()
        # the ACD's own picture: hotline callers in the router's line (not being offered) past the 10-s overflow
        # step, from which the campaign's agents (hotline 40) may take them
        truth = sum(
            1
            for call_id, q in acd.queued.items()
            if call_id in acd.router._where and q.callback is None and now - q.entered_at >= 10.0
        )
        self.seconds.append((f, said, alone, truth))
        return said


def test_in_virtual_time_the_live_pacer_sees_hotline_callers_and_dials_less_for_them():
    twins: list[_Twin] = []
    watch = BoardWatch()

    def hook(eng) -> None:  # type: ignore[no-untyped-def]
        watch.attach(eng)
        runner = eng.features["dialer"].runners[0]
        runner.pacer = _Twin(runner.pacer, eng)
        twins.append(runner.pacer)

    # eight campaign agents who may take hotline callers after its overflow step, and a busy hotline
    asyncio.run(run_day(hours=1.0, seed=7, outbound_agents=8, outbound_take_hotline=True, on_engine=hook,
                        inbound=InboundModel(calls_per_day=1000)))  # fmt: skip
    seconds = twins[0].seconds
    crowded = [(f, said, alone) for f, said, alone, _ in seconds if f.inbound_waiting > 0]
    assert len(crowded) > 100, "hotline callers waited for the campaign's agents"
    assert all(f.inbound_waiting == truth for f, _, _, truth in seconds), "the floor says what the ACD sees"
    assert max(f.inbound_rate for f, *_ in seconds) > 0 and all(f.inbound_rate >= 0 for f, *_ in seconds)
    assert all(said <= alone for _, said, alone in crowded)
    assert sum(said for _, said, _ in crowded) < sum(alone for _, _, alone in crowded), "it dials less for them"
    # the agent board over the day: outbound agents went dialer -> lent to the ACD -> dialer, never held by
    # two sides at once, and neither side ever asked for an agent the other held
    watch.assert_clean()
    lent = {a for a, held in watch.holders.items() if Holder.LENT in held}
    assert len(lent) >= 2 and all(Holder.DIALER in watch.holders[a] for a in lent)
