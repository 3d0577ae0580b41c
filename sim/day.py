"""A whole day of the site in virtual time: the unchanged engine on the virtual PBX's virtual-time face.

Hotline callers from the inbound traffic model go through the IVR and the ACD; the outbound campaign's
always-on agents take the dialer's live answers. No sockets, no disk (the store is in memory, MixMonitor
writes no audio), and the clock jumps from one event to the next, so eight hours take seconds.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.occupancy import inbound_time
from dialer.report import campaign_report
from engine.asterisk.fastagi import FastAgiServer
from engine.clock import VirtualClock
from engine.config import Site, load_site
from engine.store.stats import by_service, service_stats, targets_of
from sim import traffic, world
from sim.demo import _day_start, _targets_label
from sim.pbx.agi_face import AgiFace
from sim.pbx.model import CallerScript, VirtualPbx
from sim.vtime import MemoryAgiTransport, MemoryStore, drive, virtual_link

log = logging.getLogger("hotline.day")

DRAIN = 1800.0  # s after the day's end for calls still up to finish (no new dials, no new callers)


@dataclass
class Simulated:
    rows: list[dict[str, Any]]
    facts: list[Any]
    reached: float  # virtual seconds run
    events: int  # AMI events the PBX sent the engine (those it has no reader for included)
    arrived: int
    agent_time: dict[str, Any] | None = None  # the inbound agents' time (acd.occupancy), for occupancy


async def simulate(site: Site, callers: list[tuple[float, CallerScript]], start: float, length: float, seed: int,
                   *, carrier: Callable[[str], Any] | None = None, on_engine: Callable[[Any], None] | None = None,
                   progress: Callable[[float, dict[str, Any]], None] | None = None,
                   drain: float = DRAIN, phones: Callable[[str, int], Any] | None = None) -> Simulated:  # fmt: skip
    """The unchanged engine for ``site`` on the virtual PBX in virtual time from ``start`` (epoch) for
    ``length`` seconds, with inbound callers at the given epoch times; campaigns stop dialing at the end and
    calls still up get ``drain`` seconds to finish. ``phones``: how each agent's phone answers its n-th call
    (default: the traffic model's agents)."""
    import composition

    clock = VirtualClock(start)
    pbx = VirtualPbx(clock, monitor_dirs=("/var/spool/asterisk/monitor", Path(site["recording"]["local_dir"])))
    pbx.write_audio = False
    pbx.endpoint_callee = phones or world.agent_phones(seed)
    if carrier is not None:
        pbx.trunk_callee = carrier
    face = AgiFace(pbx, "memory", 0)
    sessions = MemoryAgiTransport()
    agi = FastAgiServer(transport=sessions)
    face.connect = sessions.connect
    pbx.agi_connect = face
    link = virtual_link(pbx, clock)
    store = MemoryStore()
    eng = composition.build(site, clock, link=link, agi=agi, store=store, finish_recordings=False, http=False)
    if on_engine is not None:
        on_engine(eng)
    runner = asyncio.create_task(eng.run(), name="engine")
    arrived = 0

    async def feed() -> None:
        nonlocal arrived
        for at, script in sorted(callers, key=lambda x: x[0]):
            delay = (at - start) - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
            pbx.inbound(script)
            arrived += 1

    async def closing() -> None:
        await clock.sleep(length)
        dialer = eng.features.get("dialer")
        if dialer is not None:
            dialer.stop_dialing()

    async def reports() -> None:
        while progress is not None:
            await clock.sleep(900)
            progress(clock.monotonic(), {"arrived": arrived, "channels": len(pbx.channels)})

    tasks = [asyncio.create_task(feed(), name="callers"), asyncio.create_task(closing(), name="closing"),
             asyncio.create_task(reports(), name="progress")]  # fmt: skip
    # always-on sessions stay up after the day: done when only those are left and the callers are through
    sessions = tuple(f"PJSIP/{site.agent(a).endpoint}-" for c in site.campaigns for a in c.agents)

    def done() -> bool:
        if clock.monotonic() < length or not tasks[0].done():
            return False
        dialer = eng.features.get("dialer")
        if dialer is not None and dialer.dials_in_flight():
            return False  # a dial in flight has no channel yet
        return all(ch.name.startswith(sessions) for ch in pbx.channels.values())

    reached = await drive(clock, length + drain, stop=done)
    agents_time = inbound_time(eng, start, clock.now()).as_dict()
    for t in [*tasks, runner]:
        t.cancel()
    await asyncio.gather(*tasks, runner, return_exceptions=True)
    await eng.stop()
    await pbx.close()
    sent = link.stats.events + link.stats.skipped
    return Simulated(await store.records(), await store.facts(), reached, sent, arrived, agents_time)


def agents_say(seed: int) -> Callable[[Any], None]:
    """Outbound agents give each conversation a disposition as its wrap-up ends, as dialers ask of them: 8
    (answering machine) for a machine the engine put through, 2 (no sale) for a person. Installed on a built
    engine; the dispositions go the way an agent's own do (``Dialer.control``)."""

    def install(eng: Any) -> None:
        dialer = eng.features.get("dialer")
        for runner in dialer.runners if dialer is not None else []:
            ended = runner.notify.talk_end

            async def talk_end(did: str, agent: str, talk: float, runner: Any = runner, ended: Any = ended) -> None:
                await ended(did, agent, talk)
                seat = runner.seats.get(agent)
                if seat is not None and seat.last is not None and seat.last.id == did:
                    eng.spawn(say(runner, seat, seat.last), f"agent-says:{agent}")

            runner.notify.talk_end = talk_end

    async def say(runner: Any, seat: Any, d: Any) -> None:
        await runner.clock.sleep(max(0.0, runner.c.wrap_up - 0.5))
        if seat.last is not d or seat.state != "wrap":
            return
        machine = world.far_end(d.lead.phone, seed)[1] == "machine"
        try:
            await runner.disposition(seat, "8" if machine else "2")
        except ValueError as exc:  # a campaign without those codes
            log.warning("agent %s: %s", seat.agent.id, exc)

    return install


def abandon_truth(facts: list[Any], seed: int) -> dict[str, Any]:
    """The US rate as the rule counts it, from the carrier's truth of each answered dial: people the engine
    gave the abandon message or AMD called machines (hung up on), over people who answered."""
    from sim.synthetic_leads import synthetic_number

    lead = {f.call_id: f.data["lead"] for f in facts if f.kind == "outbound.placed"}
    answered = {f.call_id for f in facts if f.kind == "outbound.verdict"}
    lost = {f.call_id for f in facts if f.kind in ("outbound.abandon", "outbound.machine")}
    people = [c for c in answered if c in lead and world.far_end(synthetic_number(lead[c]), seed)[1] == "person"]
    hung_up = sum(1 for c in people if c in lost)
    return {"people_answered": len(people), "people_abandoned": hung_up,
            "abandon_rate_us_truth": round(hung_up / len(people), 4) if people else None}  # fmt: skip


def scratch_site(wd: Path, text_for: Callable[[Path], str]) -> Site:
    """A site file in ``wd`` for a simulated run (the direct link never logs in; the file still needs a secret)."""
    secret = wd / "ami_secret"
    secret.write_text("virtual\n")
    site_file = wd / "site.toml"
    site_file.write_text(text_for(secret))
    return load_site(site_file)


async def run_day(hours: float = 8.0, seed: int = 1, start_hour: float = 9.0, outbound_agents: int = 48,
                  inbound: traffic.InboundModel | None = None, amd: bool = True, window: str = "08:00-21:00",
                  progress: Callable[[float, dict[str, Any]], None] | None = None,
                  facts_out: list[Any] | None = None, outbound_take_hotline: bool = False,
                  on_engine: Callable[[Any], None] | None = None, profile: str = "us",
                  dispositions: bool = False) -> dict[str, Any]:  # fmt: skip
    """Run the day; ``facts_out`` (a list) receives the ledger and ``on_engine`` sees the built engine, for
    tests that act on it or check the ledger fact by fact; ``profile`` is the campaign's rule (us, uk);
    ``dispositions``: the outbound agents give each conversation one (``agents_say``)."""
    hooks = [h for h in (agents_say(seed) if dispositions else None, on_engine) if h is not None]

    inbound = inbound or traffic.InboundModel()
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hotline-day-") as tmp:
        wd = Path(tmp)
        site = scratch_site(wd, lambda secret: world.site_text(
            ami_port=5038, agi_port=4573, secret_file=secret, store_url="sqlite+aiosqlite:///unused.db",
            recordings=wd / "recordings", queue_log=wd / "queue_log", outbound_agents=outbound_agents, amd=amd,
            window=window, outbound_take_hotline=outbound_take_hotline, profile=profile,
        ))  # fmt: skip
        start = _day_start(site["site"]["timezone"], start_hour)
        midnight = start - start_hour * 3600
        callers = [(midnight + c.at, world.caller_script(c)) for c in traffic.day(inbound, seed, start_hour, hours)]
        sim = await simulate(site, callers, start, hours * 3600.0, seed, carrier=world.carrier(seed),
                             on_engine=lambda eng: [h(eng) for h in hooks], progress=progress)  # fmt: skip
    if facts_out is not None:
        facts_out.extend(sim.facts)
    wall = time.perf_counter() - wall0
    inbound_stats = service_stats(sim.rows, sl_targets=targets_of(site), agent_time=sim.agent_time)
    inbound_stats["services"] = by_service(sim.rows, targets_of(site))
    out = campaign_report(sim.facts).get("renewals", {})
    return {
        "hours": hours, "seed": seed, "start_hour": start_hour, "outbound_agents": outbound_agents, "amd": amd,
        "dispositions": dispositions,
        "wall_seconds": round(wall, 2), "virtual_seconds": round(sim.reached, 1),
        "speed_up": round(sim.reached / wall, 1) if wall else None,
        "facts": len(sim.facts), "ami_events": sim.events,
        "callers_simulated": sim.arrived, "call_records": len(sim.rows), "inbound": inbound_stats,
        "outbound": {**out, **abandon_truth(sim.facts, seed),
                     "conversations_per_agent_hour": round(out.get("connected", 0) / (outbound_agents * hours), 2)
                     if outbound_agents and hours else None},
    }  # fmt: skip


def print_day(r: dict[str, Any]) -> None:
    s, o = r["inbound"], r["outbound"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    print(f"virtual day: {r['hours']:g} h from {r['start_hour']:g}:00, seed {r['seed']}, "
          f"{r['outbound_agents']} outbound agents, AMD {'on' if r['amd'] else 'off'}, "
          f"dispositions {'on' if r['dispositions'] else 'off'}")  # fmt: skip
    print(f"  wall time {r['wall_seconds']:.1f} s for {r['virtual_seconds'] / 3600:.2f} virtual hours "
          f"(x{r['speed_up']:g}); {r['ami_events']} AMI events, {r['facts']} facts")  # fmt: skip
    print(f"  hotline: offered {s['offered']}, answered {s['answered']}, abandoned {s['abandoned']}, "
          f"ASA {s['asa'] if s['asa'] is not None else '-'} s, service level {pct(s['service_level'])} "
          f"({_targets_label(s)}), AHT {s['aht'] if s['aht'] is not None else '-'} s, "
          f"occupancy {pct(s.get('occupancy'))}")  # fmt: skip
    if o:
        print(f"  outbound: {o.get('dials', 0)} dials, {o.get('connected', 0)} conversations "
              f"({o.get('conversations_per_agent_hour')} per agent-hour), {o.get('abandoned', 0)} abandoned; "
              f"abandon rate US {pct(o.get('abandon_rate_us'))}, UK {pct(o.get('abandon_rate_uk'))}, US truth "
              f"{pct(o.get('abandon_rate_us_truth'))} ({o.get('people_abandoned')} of {o.get('people_answered')} "
              f"people); "
              f"slowest connect {o.get('connect_after_greeting_max')} s after the greeting")  # fmt: skip


def main(args: Any) -> int:
    import json

    logging.getLogger("hotline").setLevel(logging.WARNING)

    def progress(t: float, snap: dict[str, Any]) -> None:
        print(f"  ... {t / 3600:5.2f} virtual h: {snap['arrived']} callers so far, {snap['channels']} channels up",
              flush=True)  # fmt: skip

    r = asyncio.run(run_day(hours=args.hours, seed=args.seed, start_hour=args.start,
                            outbound_agents=args.outbound_agents, amd=not args.no_amd,
                            dispositions=not args.no_dispositions,
                            progress=None if args.quiet else progress))  # fmt: skip
    print_day(r)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))
        print(f"figures written to {args.json}")
    return 0
