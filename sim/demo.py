"""`hotline demo`: the unchanged engine against the virtual PBX, with simulated callers, sped up.

Everything runs on loopback in this process: the virtual PBX's AMI server and FastAGI client, the engine
(SQLite file in the work folder), and the traffic model feeding callers in. No Asterisk, root or network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from acd.occupancy import inbound_time
from dialer.report import campaign_report
from engine.clock import ScaledClock
from engine.config import load_site
from engine.store.stats import FORMULAS, by_service, service_stats, targets_of
from sim import demo_kb, traffic, world
from sim.demo_actors import act_out
from sim.demo_users import CREDENTIALS, credentials_text, make_demo_users
from sim.pbx.server import VirtualPbxServer

EXAMPLE_FORM = Path(__file__).resolve().parent.parent / "examples" / "forms" / "inbound.toml"
DEMO_REPEAT_P = 0.2  # the share of the demo's callers who called before: repeat contacts, as real hotlines have

log = logging.getLogger("hotline.demo")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _day_start(tz: str, start_hour: float) -> float:
    zone = ZoneInfo(tz)
    today = dt.datetime.now(zone).date()
    midnight = dt.datetime.combine(today, dt.time(0, 0), tzinfo=zone)
    return midnight.timestamp() + start_hour * 3600


class _View:
    """Live terminal view (rich) on a terminal; a progress line every simulated quarter hour otherwise."""

    def __init__(self, live: bool) -> None:
        self.live = live and sys.stdout.isatty()
        self._last_quarter = -1
        self._live: Any = None

    def __enter__(self) -> _View:
        if self.live:
            from rich.live import Live

            self._live = Live(refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, snap: dict[str, Any]) -> None:
        if self._live is not None:
            from rich.table import Table

            t = Table(title=f"hotline demo  {snap['clock']}  (x{snap['speed']:g})", show_header=False)
            t.add_row("waiting in queue", str(snap["waiting"]))
            t.add_row("agents", ", ".join(f"{k} {v}" for k, v in snap["agents"].items()))
            t.add_row("calls finished", f"{snap['calls']} ({snap['answered']} answered, {snap['abandoned']} abandoned)")
            sl = snap["service_level"]
            t.add_row(f"service level ({snap['sl_label']})", "-" if sl is None else f"{sl:.0%}")
            t.add_row("simulated callers", f"{snap['arrived']} of {snap['planned']}")
            t.add_row("outbound campaign", snap["outbound"])
            self._live.update(t)
            return
        quarter = int(snap["elapsed"] // 900)
        if quarter != self._last_quarter:
            self._last_quarter = quarter
            sl = snap["service_level"]
            print(f"[{snap['clock']}] callers {snap['arrived']}/{snap['planned']}, waiting {snap['waiting']}, "
                  f"records {snap['calls']} ({snap['answered']} answered, {snap['abandoned']} abandoned), "
                  f"SL {'-' if sl is None else f'{sl:.0%}'}; outbound {snap['outbound']}", flush=True)  # fmt: skip


async def run_demo(hours: float = 1.0, speed: float = 60.0, seed: int = 1, start_hour: float = 9.0,
                   workdir: Path | None = None, live: bool = True,
                   inbound: traffic.InboundModel | None = None,
                   outbound_agents: int = 8, mqtt: str = "", http: str = "",
                   linger: float = 0.0, actors: bool = True, store: str = "") -> dict[str, Any]:  # fmt: skip
    """``mqtt``: a broker URL the engine publishes the virtual site to (``[mqtt] url``; empty: none); ``http``:
    the engine's HTTP listener (/metrics, /wallboard) [none]; ``linger``: real seconds it stays up after the report's
    figures were read (a last scrape sees exactly them); ``actors``: with ``http``, the demo's agent and team
    lead act through the console at set moments (sim/demo_actors.py); ``store``: an empty store's URL
    (PostgreSQL) instead of the work folder's SQLite file."""
    from composition import running

    # some callers call again (the agent page's screen pop then has their earlier calls to show)
    inbound = inbound or traffic.InboundModel(repeat_p=DEMO_REPEAT_P)
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hotline-demo-")
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "hotline-demo.db"
    if not store:
        db.unlink(missing_ok=True)
        for side in ("-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
    clock = ScaledClock(speed, start=_day_start("Asia/Shanghai", start_hour))
    server = VirtualPbxServer(clock, workdir)
    await server.start()
    site_file = workdir / "site.toml"
    text = world.site_text(
        agi_port=_free_port(),
        ami_port=server.ami.port,
        secret_file=server.secret_file,
        store_url=store or f"sqlite+aiosqlite:///{db}",
        recordings=server.recordings,
        queue_log=workdir / "queue_log",
        outbound_agents=outbound_agents,
        # the virtual PBX writes real audio here: an hour of eight agents' conversations would be about 1 GB of
        # WAV written and merged within the demo's minute, starving the hotline's own recordings
        record=False,
        http=http,
        amd_sample=True,  # the machines' first seconds, for QA's check of AMD (/qa/amd)
    )
    if mqtt:
        text += f"\n[mqtt]\nurl = {json.dumps(mqtt)}\n"  # a JSON string is a TOML basic string
    # QA grades the demo's calls on the example form
    (workdir / "forms").mkdir(exist_ok=True)
    shutil.copyfile(EXAMPLE_FORM, workdir / "forms" / EXAMPLE_FORM.name)
    text += f'\n[qa]\nforms = ["forms/{EXAMPLE_FORM.name}"]\n'
    site_file.write_text(text)
    site = load_site(site_file)
    server.pbx.endpoint_callee = world.agent_phones(seed)
    server.pbx.trunk_callee = world.carrier(seed)
    sessions = tuple(f"PJSIP/agent{a}-" for a in world.outbound_agent_ids(outbound_agents))
    callers = traffic.day(inbound, seed, start_hour, hours)
    t_start = clock.monotonic()
    targets = targets_of(site)
    arrived = 0
    web_actions: list[dict[str, Any]] = []  # what the demo's people did through the console, and its answers
    people: asyncio.Task[None] | None = None
    try:
        async with running(site, clock=clock) as eng:
            server.agi.port = eng.agi.port
            if "http" in eng.features:
                url = eng.features["http"].url
                creds = await make_demo_users(eng.store, workdir, outbound=outbound_agents > 0)
                if "kb" in eng.features:
                    await demo_kb.seed(eng.features["kb"])
                print(credentials_text(url, creds, workdir / CREDENTIALS), flush=True)
                print(f"metrics at {url}/metrics", flush=True)
                print(f"wallboard at {url}/wallboard", flush=True)
                if actors:
                    people = asyncio.create_task(act_out(url, creds, clock, t_start, web_actions), name="demo-people")

            async def feed() -> None:
                nonlocal arrived
                for c in callers:
                    delay = (c.at - start_hour * 3600) - (clock.monotonic() - t_start)
                    if delay > 0:
                        await clock.sleep(delay)
                    server.pbx.inbound(world.caller_script(c))
                    arrived += 1

            feeder = asyncio.create_task(feed(), name="demo-callers")
            with _View(live) as view:
                end = hours * 3600
                drain_limit = end + 2 * 3600  # calls still up at the end may run on; bounded all the same
                while True:
                    elapsed = clock.monotonic() - t_start
                    rows = await eng.store.records()
                    st = service_stats(rows, sl_targets=targets)
                    waiting = sum(1 for ch in server.pbx.channels.values() if ch.on_moh)
                    agents = {}
                    dialer = eng.features.get("dialer")
                    if elapsed >= end and dialer is not None:
                        dialer.stop_dialing()  # the day is over: no new dials, calls in progress finish
                    for a in site.agents:
                        if f"PJSIP/{a.endpoint}-".startswith(sessions):
                            continue  # the campaign's agents are summed up on their own line
                        live_legs = [
                            ch for ch in eng.model.channels.values() if ch.name.startswith(f"PJSIP/{a.endpoint}-")
                        ]
                        agents[a.id] = ("talking" if any(ch.bridge for ch in live_legs) else
                                        "ringing" if live_legs else "idle")  # fmt: skip
                    view.update({
                        "clock": dt.datetime.fromtimestamp(clock.now(), ZoneInfo("Asia/Shanghai")).strftime("%H:%M:%S"),
                        "speed": speed, "elapsed": elapsed, "waiting": waiting, "agents": agents,
                        "calls": len(rows), "answered": st["answered"], "abandoned": st["abandoned"],
                        "service_level": st["service_level"], "sl_label": _targets_label(st),
                        "arrived": arrived, "planned": len(callers),
                        "outbound": _outbound_snapshot(dialer),
                    })  # fmt: skip
                    only_sessions = all(ch.name.startswith(sessions) for ch in server.pbx.channels.values())
                    # a dial placed this very moment has no channel yet: wait for the dialer's own count too
                    no_dials = dialer is None or not dialer.dials_in_flight()
                    if feeder.done() and only_sessions and no_dials and elapsed >= end:
                        break
                    if elapsed > drain_limit:
                        log.warning(
                            "calls still up %.0f simulated minutes after the end; stopping", (elapsed - end) / 60
                        )
                        break
                    await asyncio.sleep(0.25)
            feeder.cancel()
            if people is not None:
                people.cancel()
            # let the last recordings be merged and indexed: a merge cut short by the stop would leave its file
            # unindexed until the next start (the encoder workers run below the engine's priority, so on a busy
            # machine the last merges take seconds)
            recorder = eng.features.get("recorder")
            for _ in range(240):
                rows = await eng.store.records()
                if len(rows) >= arrived and all(r["recording"] or r["outcome"] != "answered" for r in rows) and \
                        (recorder is None or not recorder.busy()):
                    break
                await asyncio.sleep(0.25)
            rows = await eng.store.records()
            facts = await eng.store.facts()
            agents_time = inbound_time(eng, clock.now() - (clock.monotonic() - t_start), clock.now()).as_dict()
            if "http" in eng.features and linger > 0:
                print(f"the day is over; the console stays at {eng.features['http'].url}/ for {linger:g} s more, "
                      "then the report", flush=True)  # fmt: skip
                await asyncio.sleep(linger)
    finally:
        await server.close()
    stats = service_stats(rows, sl_targets=targets, agent_time=agents_time)
    stats["services"] = by_service(rows, targets)
    campaign = campaign_report(facts).get("renewals", {})
    report = {
        "hours": hours, "speed": speed, "seed": seed, "start_hour": start_hour,
        "callers_simulated": arrived, "call_records": len(rows),
        "inbound": stats,
        "outbound": {"agents": outbound_agents, "dials": campaign.get("dials", 0),
                     "conversations": campaign.get("connected", 0), "abandoned": campaign.get("abandoned", 0),
                     "machines": campaign.get("machines", 0), "outcomes": campaign.get("outcomes", {}),
                     "abandon_rate": campaign.get("abandon_rate_us"),
                     "abandon_rate_uk": campaign.get("abandon_rate_uk"),
                     "connect_after_greeting_max": campaign.get("connect_after_greeting_max")},
        "formulas": FORMULAS, "workdir": str(workdir) if tmp is None else None,
        "web_actions": web_actions,
        # the cases the day opened, by kind (a complaint filed from the agent's page, a promised call back, ...)
        "cases_opened": dict(sorted(Counter(str(f.data["kind"]) for f in facts if f.kind == "case.opened").items())),
    }  # fmt: skip
    if tmp is not None:
        tmp.cleanup()
    return report


def _outbound_snapshot(dialer: Any) -> str:
    if dialer is None:
        return "-"
    conv = sum(r.counts.get("connected", 0) for r in dialer.runners)
    aband = sum(r.counts.get("abandoned", 0) for r in dialer.runners)
    agents = ", ".join(f"{k} {v}" for k, v in sorted(dialer.seat_states().items()))
    return f"{conv} conversations, {aband} abandoned; agents {agents}"


def _targets_label(s: dict[str, Any]) -> str:
    """The service-level target(s) the figure used, e.g. ``15 s`` or ``hotline 15 s, support 30 s``."""
    if s.get("service_level_threshold") is not None:
        return f"{s['service_level_threshold']:g} s"
    return ", ".join(f"{k} {v:g} s" for k, v in s.get("sl_targets", {}).items()) or "-"


def print_report(report: dict[str, Any]) -> None:
    s = report["inbound"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1%}"

    lines = [
        f"hotline demo: {report['hours']:g} simulated hour(s) from {report['start_hour']:g}:00, seed {report['seed']}",
        f"  offered {s['offered']} = answered {s['answered']} + abandoned {s['abandoned']}"
        f" + short abandons {s['short_abandoned']} + other {s['other']}"
        f" (of which call backs {s['callbacks']}, voicemail {s['voicemails']})",
        f"  ASA {s['asa'] if s['asa'] is not None else '-'} s   service level ({_targets_label(s)})"
        f" {pct(s['service_level'])}   abandon rate {pct(s['abandon_rate'])}",
        f"  AHT {s['aht'] if s['aht'] is not None else '-'} s   occupancy {pct(s.get('occupancy'))}",
    ]
    o = report["outbound"]
    if o["agents"]:
        lines.append(f"  outbound ({o['agents']} agents): {o['dials']} dials, {o['conversations']} conversations, "
                     f"{o['abandoned']} abandoned, {o['machines']} machines; abandon rate {pct(o['abandon_rate'])}"
                     f" (UK estimate {pct(o['abandon_rate_uk'])})")  # fmt: skip
    if report.get("cases_opened"):
        lines.append("  cases opened: " + ", ".join(f"{k} {v}" for k, v in report["cases_opened"].items()))
    if report.get("workdir"):
        lines.append(f"  reports: hotline report agents|services|hotline|campaigns|cases --site "
                     f"{report['workdir']}/site.toml")  # fmt: skip
    print("\n".join(lines))
