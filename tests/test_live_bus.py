"""The live bus: a snapshot first, then changes; a slow subscriber is never waited for and starts over."""

import asyncio

import pytest

from engine.live.bus import Bus, Change, Snapshot, SubscriptionClosed
from engine.live.tally import AgentDay, ServiceDay, day_start


def _agent(key: str, state: str, at: float = 1.0) -> Change:
    return Change("agent", key, at, {"state": state})


def test_a_subscriber_gets_the_retained_states_first_then_each_change():
    bus = Bus()
    bus.publish(_agent("a1", "idle"))
    bus.publish(_agent("a2", "on_call"))
    bus.publish(Change("call", "c1", 1.0, {"kind": "channel.new"}, retained=False))
    sub = bus.subscribe()
    first = sub.get_nowait()
    assert isinstance(first, Snapshot)
    assert [(c.key, c.data["state"]) for c in first.states] == [("a1", "idle"), ("a2", "on_call")]
    assert sub.get_nowait() is None, "events before the subscription are not replayed"
    bus.publish(_agent("a1", "ringing"))
    bus.publish(Change("call", "c2", 2.0, {"kind": "channel.new"}, retained=False))
    got = [sub.get_nowait(), sub.get_nowait()]
    assert [(c.topic, c.key) for c in got] == [("agent", "a1"), ("call", "c2")]


def test_a_state_published_again_unchanged_is_not_a_change():
    bus = Bus()
    assert bus.publish(_agent("a1", "idle"))
    sub = bus.subscribe()
    sub.get_nowait()
    assert not bus.publish(_agent("a1", "idle", at=5.0))
    assert sub.get_nowait() is None
    assert bus.publish(_agent("a1", "wrap_up", at=6.0))
    assert bus.state("agent", "a1").data == {"state": "wrap_up"}


def test_a_slow_subscriber_loses_its_queue_and_gets_a_fresh_snapshot():
    bus = Bus()
    slow, quick = bus.subscribe(limit=3), bus.subscribe(limit=100)
    slow.get_nowait(), quick.get_nowait()
    for i in range(10):
        bus.publish(_agent("a1", f"s{i}", at=float(i)))  # never waits, whoever reads or not
    assert quick.pending() == 10
    assert slow.resnapshots >= 1
    item = slow.get_nowait()
    assert isinstance(item, Snapshot), "it starts over from the states as they are now"
    assert item.states[0].data["state"] == "s9" and slow.get_nowait() is None
    bus.publish(_agent("a1", "after"))
    assert slow.get_nowait().data["state"] == "after", "and has every change after it"


def test_a_reader_waits_for_the_next_change_and_a_closed_one_leaves_the_bus():
    async def go() -> None:
        bus = Bus()
        sub = bus.subscribe()
        assert isinstance(await sub.get(), Snapshot)
        reader = asyncio.create_task(sub.get())
        await asyncio.sleep(0)
        assert not reader.done()
        bus.publish(_agent("a1", "idle"))
        assert (await asyncio.wait_for(reader, 1.0)).key == "a1"
        sub.close()
        assert bus.subscribers == 0

    asyncio.run(go())


def test_todays_service_figures_follow_the_reports_definitions():
    tz = "Asia/Shanghai"
    noon = day_start(1_800_000_000.0, tz) + 12 * 3600
    day = ServiceDay({"sales": 20.0}, tz)

    def row(call_id: str, outcome: str, wait: float, at: float = noon) -> dict:
        return {"call_id": call_id, "service": "sales", "arrived_at": at, "queued_at": at + 5,
                "queue_wait": wait, "ended_at": at + 5 + wait, "outcome": outcome, "talk_time": 60.0}  # fmt: skip

    day.load([row("y", "answered", 1.0, at=noon - 86400)], noon)  # yesterday's: not today's figure
    day.add(row("c1", "answered", 10.0))  # within 20 s
    day.add(row("c2", "answered", 30.0))  # late
    day.add(row("c3", "abandoned", 25.0))  # abandoned after the target
    day.add(row("c4", "abandoned", 3.0))  # a short abandon: out of the rates
    day.add({**row("c5", "ivr_hangup", 0.0), "queued_at": None})  # never offered
    f = day.figures("sales")
    assert (f["offered"], f["answered"], f["abandoned"], f["short_abandoned"]) == (4, 2, 1, 1)
    assert f["service_level"] == round(1 / 3, 4) and f["abandon_rate"] == round(1 / 3, 4)
    assert f["asa"] == 20.0 and f["sl_target"] == 20.0
    day.add(row("c3", "answered", 12.0))  # a record rebuilt later replaces the one it had
    assert day.figures("sales")["answered"] == 3
    assert day.roll(noon + 86400) and day.figures("sales")["offered"] == 0


def test_todays_abandoned_callers_and_each_agents_handled_calls_and_aht():
    tz = "Asia/Shanghai"
    noon = day_start(1_800_000_000.0, tz) + 12 * 3600
    day, agents = ServiceDay({"sales": 20.0}, tz), AgentDay(tz)
    day.roll(noon)
    agents.roll(noon)

    def row(call_id: str, outcome: str, agent: str = "", at: float = noon, **times: float) -> dict:
        return {"call_id": call_id, "service": "sales", "arrived_at": at, "queued_at": at + 5, "queue_wait": 8.0,
                "ended_at": at + 13, "outcome": outcome, "agent_id": agent, "caller": "13812345678",
                **times}  # fmt: skip

    for r in (row("a1", "abandoned", at=noon + 60), row("a2", "abandoned", at=noon + 120, queue_wait=2.0),
              row("y", "abandoned", at=noon - 86400)):
        day.add(r)
    listed = day.abandoned("sales")
    assert [c["caller"] for c in listed] == ["*******5678"] * 2, "masked, and yesterday's is not today's"
    assert [(c["at"], c["wait"], c["short"]) for c in listed] == [(noon + 133, 2.0, True), (noon + 73, 8.0, False)]

    assert agents.add(row("c1", "answered", "1001", talk_time=100.0, hold_time=20.0, wrap_up_time=30.0)) == "1001"
    assert agents.add(row("c2", "answered", "1001", talk_time=50.0, wrap_up_time=10.0, handle_time=60.0)) == "1001"
    assert agents.add(row("c3", "abandoned", "1001")) is None, "only calls the agent handled"
    assert agents.add(row("c4", "answered", "1001", at=noon - 86400, talk_time=999.0)) is None, "yesterday's"
    f = agents.figures("1001")
    assert (f["handled"], f["aht"], f["talk"], f["hold"], f["wrap"]) == (2, 105.0, 150.0, 20.0, 40.0)
    agents.add(row("c2", "answered", "1001", talk_time=70.0, wrap_up_time=10.0, handle_time=80.0))  # rebuilt
    assert agents.figures("1001")["aht"] == 115.0 and agents.figures("1002")["aht"] is None
    assert agents.roll(noon + 86400) and agents.figures("1001")["handled"] == 0


def test_closing_a_subscription_ends_its_reader_without_a_cancellation():
    async def go() -> tuple[list[object], bool]:
        bus = Bus()
        sub = bus.subscribe()
        got: list[object] = []

        async def read() -> None:
            async for item in sub:
                got.append(item)

        reader = asyncio.create_task(read())
        await asyncio.sleep(0)
        bus.publish(_agent("a1", "idle"))
        await asyncio.sleep(0)
        sub.close()
        await asyncio.wait_for(reader, 1.0)  # ends by itself; a CancelledError here would fail the test
        with pytest.raises(SubscriptionClosed):
            await sub.get()
        return got, reader.cancelled()

    got, cancelled = asyncio.run(go())
    assert [type(i).__name__ for i in got] == ["Snapshot", "Change"] and not cancelled


def test_every_agent_of_the_site_is_on_the_bus_from_the_start(tmp_path):
    # an agent nothing has happened to since the start (logged out, never seen) is on the floor all the same: the
    # agents gauge sums to the site's agents, and the MQTT sweep does not take its retained state for a stale one
    import composition
    from engine.asterisk.fastagi import FastAgiServer
    from engine.clock import VirtualClock
    from engine.config import load_site
    from sim import world
    from sim.pbx.model import VirtualPbx
    from sim.vtime import MemoryAgiTransport, MemoryStore, virtual_link

    secret = tmp_path / "secret"
    secret.write_text("virtual\n")
    (tmp_path / "site.toml").write_text(world.site_text(
        ami_port=5038, agi_port=4573, secret_file=secret, store_url="sqlite+aiosqlite:///:memory:",
        recordings=tmp_path / "rec", queue_log=tmp_path / "queue_log", outbound_agents=2))  # fmt: skip
    site = load_site(tmp_path / "site.toml")
    clock = VirtualClock(1_800_000_000.0)
    eng = composition.build(site, clock, link=virtual_link(VirtualPbx(clock), clock),
                            agi=FastAgiServer(transport=MemoryAgiTransport()), store=MemoryStore(),
                            finish_recordings=False, http=False)  # fmt: skip
    agents = {c.key: c.data for c in eng.bus.states("agent")}
    assert set(agents) == {a.id for a in site.agents}
    assert {d["status"] for d in agents.values()} == {"logged_out"}, "as the engine has them before it restores"


def test_a_caller_joining_or_leaving_a_line_is_published_at_once_not_at_the_next_sample():
    from types import SimpleNamespace

    from acd.line import Line
    from engine.clock import VirtualClock
    from engine.live.feed import LiveFeed, QueueNow

    clock = VirtualClock(1_800_000_000.0)
    waiting: dict[str, QueueNow] = {}
    bus = Bus()
    feed = LiveFeed(bus, clock, ServiceDay({"sales": 20.0}, "UTC"), today=None,  # type: ignore[arg-type]
                    queues=lambda: waiting)  # fmt: skip
    routed: list[tuple[str, str]] = []
    router = SimpleNamespace(enqueue=lambda c: routed.append(("in", c.call_id)),
                             remove=lambda call_id: routed.append(("out", call_id)))  # fmt: skip
    line = Line(router, "sales")  # type: ignore[arg-type]
    line.observers.append(feed.on_line)
    q = SimpleNamespace(waiting=SimpleNamespace(call_id="c1", priority=0, skills={}), service="sales",
                        entered_at=clock.now() - 7, missed=set())  # fmt: skip
    waiting["sales"] = QueueNow(1, clock.now() - 7)  # what the ACD's view will say once c1 is in line
    line.join(q)  # type: ignore[arg-type]
    state = bus.states("service")[0]
    assert (state.key, state.data["waiting"], state.data["longest_wait"]) == ("sales", 1, 7)
    waiting["sales"] = QueueNow(0, None)
    line.leave("c1")
    assert bus.states("service")[0].data["waiting"] == 0 and routed == [("in", "c1"), ("out", "c1")]


def test_numbers_leave_the_engine_masked_a_dials_dialstring_too():
    from engine.live.feed import masked

    out = masked({"caller": "13812345678", "dialstring": "PJSIP/+8613812345678@trunk", "digit": "1"})
    assert out == {"caller": "*******5678", "dialstring": "PJSIP/**********5678@trunk", "digit": "1"}
    assert masked({"dialstring": "13900000123"})["dialstring"] == "*******0123"
