"""The live feed in virtual time: a late subscriber sees the whole floor, the figures are the report's, and the
agents' states keep the board's invariants on every change."""

import asyncio

from engine.live.bus import Change, Snapshot
from sim.day import run_day
from sim.traffic import InboundModel

BUSY = {"on_call", "on_hold", "wrap_up"}


def test_the_live_stream_shows_the_floor_and_keeps_the_boards_invariants():
    seen: dict = {"snapshot": None, "offers": 0, "changes": 0, "violations": [], "holders": set()}
    engines = []

    async def watch(eng) -> None:  # type: ignore[no-untyped-def]
        await eng.clock.sleep(1800)  # joins mid-day
        sub = eng.bus.subscribe(limit=100_000, name="test")
        agents: dict[str, dict] = {}
        dialer = eng.features.get("dialer")
        acd = eng.features["acd"]
        while True:
            item = await sub.get()
            changes = item.states if isinstance(item, Snapshot) else (item,)
            if isinstance(item, Snapshot):
                seen["snapshot"] = item
            for c in changes:
                seen["changes"] += 1
                if c.topic == "agent":
                    agents[c.key] = dict(c.data)
                    seen["holders"].add(c.data["holder"])
                    # held by one side at a time: a campaign seat talking or wrapping is not the ACD's call too,
                    # and an agent the ACD offers a call or talks to is the ACD's (or lent to it)
                    for r in dialer.runners if dialer else ():
                        seat = r.seats.get(c.key)
                        if seat is not None and seat.state in ("talking", "wrap") and c.data["state"] in (
                            "reserved", "ringing", "on_call", "on_hold"):
                            seen["violations"].append(("two sides", c.key, seat.state, dict(c.data)))
                    if c.data["state"] in ("reserved", "ringing", "on_call", "on_hold") and c.data["holder"] not in (
                            "acd", "lent"):
                        seen["violations"].append(("the ACD's call, another holder", c.key, dict(c.data)))
                    if c.data["holder"] == "lent" and not c.data["session"]:
                        seen["violations"].append(("lent without a session", c.key, dict(c.data)))
                elif c.topic == "call" and c.data["kind"] == "agent.offer":
                    seen["offers"] += 1
                    who = str(c.data["agent"])
                    a = agents.get(who) or {}
                    m = acd.machines[who]
                    if a.get("state") in BUSY or a.get("status") != "available" or m.state.value in BUSY:
                        seen["violations"].append(("offered while busy", who, a, m.state.value))

    def hook(eng) -> None:  # type: ignore[no-untyped-def]
        engines.append(eng)
        eng.spawn(watch(eng), "live-watch")

    report = asyncio.run(run_day(hours=1.0, seed=3, outbound_agents=6, outbound_take_hotline=True, on_engine=hook,
                                 inbound=InboundModel(calls_per_day=1200)))  # fmt: skip
    eng = engines[0]
    snap: Snapshot = seen["snapshot"]
    assert snap is not None and seen["offers"] > 20
    assert seen["violations"] == []
    # the board checked itself after every change of the day, and no side asked for an agent another held
    board = eng.features["acd"].board
    assert board.breaches == [] and board.check() == []
    assert board.refused == []
    assert seen["holders"] >= {"dialer", "lent", "acd"}, "the day lent outbound agents to the hotline"
    site_agents = {a.id for a in eng.site.agents}
    assert {c.key for c in snap.states if c.topic == "agent"} == site_agents, "every agent's state, at once"
    services = {c.key for c in snap.states if c.topic == "service"}
    assert services == set(eng.features["acd"].router.services)
    assert {c.key for c in snap.states if c.topic == "campaign"} == {r.c.name for r in eng.features["dialer"].runners}
    # the day's figures on the stream are the report's
    live = {c.key: c.data for c in eng.bus.states("service")}
    for name, fig in report["inbound"]["services"].items():
        for k in ("offered", "answered", "abandoned"):
            assert live[name][k] == fig[k], (name, k, live[name], fig)
    assert sum(d["offered"] for d in live.values()) == report["inbound"]["offered"] > 50
    status = eng.bus.state("engine", "status")
    assert isinstance(status, Change) and status.data["ami"] == "up" and status.data["facts_written"] > 0
