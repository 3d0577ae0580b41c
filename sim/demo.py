"""`hotline demo`: the unchanged engine against the virtual PBX, with simulated callers, sped up.

Everything runs on loopback in this process: the virtual PBX's AMI server and FastAGI client, the engine
(SQLite file in the work folder), and the traffic model feeding callers in. No Asterisk, root or network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.clock import ScaledClock
from engine.config import load_site
from engine.store.stats import FORMULAS, service_stats
from sim import traffic
from sim.pbx.model import CalleeBehavior, CallerScript
from sim.pbx.server import VirtualPbxServer

log = logging.getLogger("hotline.demo")

SITE_TEMPLATE = """\
# written by `hotline demo`: the engine's site file for this run (virtual PBX on loopback)
[site]
name = "demo"
timezone = "Asia/Shanghai"

[asterisk]
ami_host = "127.0.0.1"
ami_port = {ami_port}
ami_secret_file = "{secret_file}"
agi_port = {agi_port}
ping_interval = 5.0

[store]
url = "sqlite+aiosqlite:///{db}"
queue_log_file = "{queue_log}"

[recording]
asterisk_dir = "/var/spool/asterisk/monitor"
local_dir = "{recordings}"


[hotline]
number = "4001234567"
prompt = "hello-world"
agent = "1001"
service = "hotline"

# the 400 hotline's own agent, and two outbound agents designated to take it when it overflows
[[agents]]
id = "1001"
name = "Hotline Agent"
skills = {{ hotline = 100 }}

[[agents]]
id = "2001"
name = "Outbound Agent 1"
skills = {{ hotline = 40 }}

[[agents]]
id = "2002"
name = "Outbound Agent 2"
skills = {{ hotline = 40 }}

[[services]]
name = "hotline"
skills = {{ hotline = 80 }}
wrap_up = 10
# overflow: a caller still waiting after 10 s may go to the designated outbound agents
rules = [ {{ after = 10, lower = {{ hotline = 40 }} }} ]
"""


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
            t.add_row("service level (15 s)", "-" if sl is None else f"{sl:.0%}")
            t.add_row("simulated callers", f"{snap['arrived']} of {snap['planned']}")
            self._live.update(t)
            return
        quarter = int(snap["elapsed"] // 900)
        if quarter != self._last_quarter:
            self._last_quarter = quarter
            sl = snap["service_level"]
            print(f"[{snap['clock']}] callers {snap['arrived']}/{snap['planned']}, waiting {snap['waiting']}, "
                  f"records {snap['calls']} ({snap['answered']} answered, {snap['abandoned']} abandoned), "
                  f"SL {'-' if sl is None else f'{sl:.0%}'}", flush=True)  # fmt: skip


async def run_demo(hours: float = 1.0, speed: float = 60.0, seed: int = 1, start_hour: float = 9.0,
                   workdir: Path | None = None, live: bool = True,
                   inbound: traffic.InboundModel | None = None) -> dict[str, Any]:  # fmt: skip
    from composition import running

    inbound = inbound or traffic.InboundModel()
    agents_model = traffic.AgentModel()
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hotline-demo-")
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "hotline-demo.db"
    db.unlink(missing_ok=True)
    clock = ScaledClock(speed, start=_day_start("Asia/Shanghai", start_hour))
    server = VirtualPbxServer(clock, workdir)
    await server.start()
    site_file = workdir / "site.toml"
    text = SITE_TEMPLATE.format(
        agi_port=_free_port(),
        ami_port=server.ami.port,
        secret_file=server.secret_file,
        db=db,
        recordings=server.recordings,
        queue_log=workdir / "queue_log",
    )
    site_file.write_text(text)
    site = load_site(site_file)

    def agent_behavior(endpoint: str, offer: int) -> CalleeBehavior:
        agent_id = int("".join(c for c in endpoint if c.isdigit()) or 0)
        delay = traffic.agent_answer_delay(agents_model, seed, agent_id, offer)
        return CalleeBehavior("never") if delay is None else CalleeBehavior("answer", delay)

    server.pbx.endpoint_callee = agent_behavior
    callers = traffic.day(inbound, seed, start_hour, hours)
    t_start = clock.monotonic()
    arrived = 0
    try:
        async with running(site, clock=clock) as eng:
            server.agi.port = eng.agi.port

            async def feed() -> None:
                nonlocal arrived
                for c in callers:
                    delay = (c.at - start_hour * 3600) - (clock.monotonic() - t_start)
                    if delay > 0:
                        await clock.sleep(delay)
                    script = CallerScript(
                        caller=c.number, did=site["hotline"]["number"],
                        digits=[(c.digit_after, c.digit)] if c.digit else [],
                        hangup_at=c.ivr_hangup_after, talk=c.talk, patience=c.patience,
                        talk_holds=[(c.hold_at, c.hold_for)] if c.hold_at is not None else [],
                    )  # fmt: skip
                    server.pbx.inbound(script)
                    arrived += 1

            feeder = asyncio.create_task(feed(), name="demo-callers")
            with _View(live) as view:
                end = hours * 3600
                drain_limit = end + 2 * 3600  # calls still up at the end may run on; bounded all the same
                while True:
                    elapsed = clock.monotonic() - t_start
                    rows = await eng.store.records()
                    st = service_stats(rows)
                    waiting = sum(1 for ch in server.pbx.channels.values() if ch.on_moh)
                    agents = {}
                    for a in site.agents:
                        live_legs = [
                            ch for ch in eng.model.channels.values() if ch.name.startswith(f"PJSIP/{a.endpoint}-")
                        ]
                        agents[a.id] = ("talking" if any(ch.bridge for ch in live_legs) else
                                        "ringing" if live_legs else "idle")  # fmt: skip
                    view.update({
                        "clock": dt.datetime.fromtimestamp(clock.now(), ZoneInfo("Asia/Shanghai")).strftime("%H:%M:%S"),
                        "speed": speed, "elapsed": elapsed, "waiting": waiting, "agents": agents,
                        "calls": len(rows), "answered": st["answered"], "abandoned": st["abandoned"],
                        "service_level": st["service_level"], "arrived": arrived, "planned": len(callers),
                    })  # fmt: skip
                    if feeder.done() and not server.pbx.channels and elapsed >= end:
                        break
                    if elapsed > drain_limit:
                        log.warning(
                            "calls still up %.0f simulated minutes after the end; stopping", (elapsed - end) / 60
                        )
                        break
                    await asyncio.sleep(0.25)
            feeder.cancel()
            # let the last recordings be merged and indexed
            for _ in range(40):
                rows = await eng.store.records()
                if len(rows) >= arrived and all(r["recording"] or r["outcome"] != "answered" for r in rows):
                    break
                await asyncio.sleep(0.25)
            rows = await eng.store.records()
    finally:
        await server.close()
    stats = service_stats(rows, logged_in_seconds=hours * 3600, agents=len(site.agents))
    report = {
        "hours": hours, "speed": speed, "seed": seed, "start_hour": start_hour,
        "callers_simulated": arrived, "call_records": len(rows),
        "inbound": stats,
        "outbound": {"conversations": None, "abandon_rate": None,
                     "note": "no dialer yet: outbound campaigns come with the predictive-dialer issue"},
        "formulas": FORMULAS, "workdir": str(workdir) if tmp is None else None,
    }  # fmt: skip
    if tmp is not None:
        tmp.cleanup()
    return report


def print_report(report: dict[str, Any]) -> None:
    s = report["inbound"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1%}"

    lines = [
        f"hotline demo: {report['hours']:g} simulated hour(s) from {report['start_hour']:g}:00, seed {report['seed']}",
        f"  offered {s['offered']} = answered {s['answered']} + abandoned {s['abandoned']}"
        f" + short abandons {s['short_abandoned']} + other {s['other']}",
        f"  ASA {s['asa'] if s['asa'] is not None else '-'} s   service level ({s['service_level_threshold']:g} s)"
        f" {pct(s['service_level'])}   abandon rate {pct(s['abandon_rate'])}",
        f"  AHT {s['aht'] if s['aht'] is not None else '-'} s   occupancy {pct(s.get('occupancy'))}",
        f"  outbound: {report['outbound']['note']}",
    ]
    print("\n".join(lines))
