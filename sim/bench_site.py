"""`hotline bench site`: the whole site on the lab Asterisk, measured, and the virtual day's prediction beside it.

The site is the virtual day's (``sim.world``): the hotline with its agent and two overflow agents, and a
predictive campaign over the simulator's synthetic leads worked by always-on agents, every conversation
recorded. Here it runs on the real Asterisk with real SIPp on every side:

* a SIPp phone per seat: the campaign agents answer the dialer's always-on session once and stay in it; the
  hotline's three agents answer each offer and talk ``hotline_talk`` s (``sim.load``'s agent phones);
* one SIPp UAS on the trunk answers every dialed number as the virtual day's carrier would (``sim.far_ends``)
  and logs each call's end from the far end's side: the truth the abandon rate is judged by;
* hotline callers through the menu at ``inbound_rate`` a minute (``sim.load``'s callers).

The engine runs in this process; its CPU and memory and Asterisk's are sampled over the dialing window. After
the window no new dials are placed; conversations still up get ``drain`` seconds, then are hung up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sim import far_ends, ports, sipp_run, usage, world
from sim.derived_site import dumps
from sim.load import AgentClass, CallerClass, LoadPlan, run_load
from sim.sipp import sipp_binary, uas_scenario

log = logging.getLogger("hotline.bench.site")

HOTLINE_AGENTS = {"1001": 5071, "1002": 5072, "1003": 5073}  # the lab site's own two keep their contacts
FAR_END_PORT = 5070  # the lab trunk's far side
SEAT_PORT = 5101  # campaign agent i's phone listens on SEAT_PORT + i
RECORDING_SLACK = 1.0  # s a recording's length may differ from the conversation it holds


@dataclass(frozen=True)
class SitePlan:
    agents: int = 48  # the campaign's seats
    minutes: float = 10.0  # the dialing window
    inbound_rate: float = 2.0  # hotline callers a minute
    seed: int = 1
    drain: float = 300.0  # s for conversations still up after the window
    hotline_talk: float = 45.0


def site_text(plan: SitePlan, workdir: Path) -> str:
    """The virtual day's site file, for the lab: its Asterisk, SQLite in ``workdir``, a SIPp contact per agent."""
    data = tomllib.loads(world.site_text(
        ami_port=5038, agi_port=4573, secret_file="unused", store_url="unused", recordings="unused",
        queue_log=workdir / "queue_log", outbound_agents=plan.agents, window="00:00-24:00"))  # fmt: skip
    data["asterisk"] = {"lab": True, "ami_host": "127.0.0.1", "ami_port": 5038, "agi_port": 4573, "trunk": "trunk"}
    data["store"] = {"url": f"sqlite+aiosqlite:///{workdir / 'site.db'}", "queue_log_file": str(workdir / "queue_log")}
    data.pop("recording", None)  # the lab's own folder
    data["http"] = {"listen": ""}
    seats = {a: SEAT_PORT + i for i, a in enumerate(world.outbound_agent_ids(plan.agents))}
    for a in data["agents"]:
        port = HOTLINE_AGENTS.get(a["id"]) or seats[a["id"]]
        a["contact"] = f"sip:agent{a['id']}@127.0.0.1:{port}"
    return "# the site of `hotline bench site` (sim/bench_site.py): the virtual day's, on the lab\n" + dumps(data)


def ensure_lab(site_path: Path, site: Any) -> str:
    """Bring the lab up with this site's agents if the running lab lacks any of them."""
    from engine.lab import Lab, agents_not_in_lab, default_lab_dir

    missing = agents_not_in_lab(Lab(default_lab_dir()), site)
    if not missing:
        return "the lab has every agent of the site"
    print(f"the lab lacks {len(missing)} of the site's agents: `hotline lab up --site {site_path}` ...", flush=True)
    r = subprocess.run([sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(site_path)],
                       capture_output=True, text=True, timeout=900)  # fmt: skip
    if r.returncode != 0:
        raise RuntimeError(f"hotline lab up failed: {r.stderr.strip() or r.stdout.strip()}")
    return (
        f"lab brought up with the site's {len(site.agents)} agents (the lab site's own two phones kept, so it "
        "still serves examples/lab-site.toml)"
    )


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(p * len(s)))], 3)


class Floor:
    """Samples, once a second, the conversations (bridges of two or more), the seats among them, the calls and the
    recordings under way."""

    def __init__(self, eng: Any, sessions: tuple[str, ...]) -> None:
        self.eng = eng
        self.sessions = sessions
        self.samples: list[tuple[float, int, int, int, int]] = []

    def calls(self) -> int:
        return len({ch.call_id or ch.linkedid for ch in self.eng.model.channels.values()
                    if not ch.name.startswith(self.sessions)})  # fmt: skip

    def _seat(self, uid: str) -> bool:
        ch = self.eng.model.channels.get(uid)
        return ch is not None and ch.name.startswith(self.sessions)

    async def run(self) -> None:
        recorder = self.eng.features.get("recorder")
        while True:
            talking = [b for b in self.eng.model.bridges.values() if len(b.members) >= 2]
            seats = sum(1 for b in talking if any(self._seat(u) for u in b.members))
            active = len(recorder.active) if recorder is not None else 0
            self.samples.append((time.monotonic(), len(talking), seats, self.calls(), active))
            await asyncio.sleep(1.0)

    def summary(self, since: float, until: float, seats: int) -> dict[str, Any]:
        window = [s for s in self.samples if since <= s[0] <= until]
        talking = [s[1] for s in window]
        return {
            "samples": len(window),
            "conversations_peak": max(talking, default=0),
            "conversations_mean": round(sum(talking) / len(talking), 1) if talking else None,
            "seats_talking_mean": round(sum(s[2] for s in window) / len(window), 1) if window else None,
            "seconds_with_all_seats_talking": sum(1 for s in window if s[2] >= seats),
            "calls_peak": max((s[3] for s in window), default=0),
            "recordings_peak": max((s[4] for s in window), default=0),
        }


def check_recordings(facts: list[Any], records: list[dict[str, Any]], t0: float = 0.0) -> dict[str, Any]:
    """Every conversation's recording: saved, two channels, its file there, its length the conversation's ± 1 s
    (MixMonitor keeps bridged audio: from the connect to the hang-up). A short one is listed with its span in s
    after ``t0`` (the window's start, epoch s), to set beside the machine's load at the time."""
    saved = {f.call_id: f for f in facts if f.kind == "recording.saved"}
    expect: dict[str, float] = {}
    span: dict[str, tuple[float, float]] = {}
    for c in {f.call_id for f in facts if f.kind == "outbound.connect"}:
        enter = min((f.at for f in facts if f.kind == "bridge.enter" and f.uniqueid == c), default=None)
        gone = min((f.at for f in facts if f.kind == "channel.hangup" and f.uniqueid == c), default=None)
        if enter is not None and gone is not None:
            expect[c] = gone - enter
            span[c] = (enter, gone)
    for r in records:
        if r["outcome"] == "answered" and r["connected_at"] is not None and r["ended_at"] is not None:
            expect[str(r["call_id"])] = float(r["ended_at"]) - float(r["connected_at"])
            span[str(r["call_id"])] = (float(r["connected_at"]), float(r["ended_at"]))
    problems = []
    short = []
    for c, seconds in sorted(expect.items()):
        f = saved.get(c)
        if f is None:
            problems.append(f"{c}: no recording")
        elif f.data.get("channels") != 2:
            problems.append(f"{c}: {f.data.get('channels')} channel(s)")
        elif not Path(str(f.data.get("path"))).exists():
            problems.append(f"{c}: {f.data.get('path')} is missing")
        elif abs(float(f.data.get("seconds", 0.0)) - seconds) > RECORDING_SLACK:
            problems.append(f"{c}: {f.data.get('seconds')} s recorded for a {seconds:.1f}-s conversation")
            short.append({"call_id": c, "from_s": round(span[c][0] - t0, 1), "to_s": round(span[c][1] - t0, 1),
                          "missing_s": round(seconds - float(f.data.get("seconds", 0.0)), 2)})  # fmt: skip
    return {"conversations": len(expect), "checked_ok": len(expect) - len(problems), "problems": problems[:20],
            "problem_count": len(problems), "short": short}  # fmt: skip


async def _until(pred: Any, timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        await asyncio.sleep(every)
    return bool(pred())


async def run_site(plan: SitePlan, site: Any, workdir: Path) -> dict[str, Any]:
    from composition import running
    from dialer.report import campaign_report
    from engine.store.stats import service_stats, targets_of

    sipp_binary()
    window = plan.minutes * 60.0
    leads = max(2000, int(plan.agents * plan.minutes * 20))  # far more than the window can dial
    truth_of = await asyncio.to_thread(far_ends.write_rows, workdir, plan.seed, leads)
    person, machine = far_ends.make_greetings(workdir)
    (workdir / "far-ends.xml").write_text(far_ends.scenario(person, machine))
    seat_ids = world.outbound_agent_ids(plan.agents)
    sip = [("far ends", FAR_END_PORT)] + [(f"seat {a}", SEAT_PORT + i) for i, a in enumerate(seat_ids)]
    ports.check_sip_ports(sip + [(f"agent {a}", p) for a, p in HOTLINE_AGENTS.items()] + [("callers", 5080)])
    plan_ports = ports.PortPlan(reserved=[p for _o, p in sip] + list(HOTLINE_AGENTS.values()) + [5080, 5081])
    loop = asyncio.get_running_loop()
    ends_by = loop.time() + window + plan.drain + 180
    stop = asyncio.Event()
    phones = [asyncio.create_task(sipp_run.run("far-ends", far_ends.sipp_args(
        FAR_END_PORT, plan_ports.media("far-ends"), plan_ports.control("far-ends"), ends_by - loop.time()),
        workdir, ends_by, stop), name="far-ends")]  # fmt: skip
    (workdir / "seat.xml").write_text(uas_scenario("answer", 0.5))
    for i, a in enumerate(seat_ids):
        name = f"seat-{a}"
        # one call: the always-on session; a session that drops ends the phone, and the run names it
        args = ["-sf", "seat.xml", "-i", "127.0.0.1", "-p", str(SEAT_PORT + i), "-aa", "-rtp_echo", "-m", "1",
                "-mp", str(plan_ports.media(name)), "-cp", str(plan_ports.control(name)), "-nostdin",
                "-timeout", f"{int(ends_by - loop.time())}s", "-max_recv_loops", "100000"]  # fmt: skip
        phones.append(asyncio.create_task(sipp_run.run(name, args, workdir, ends_by, stop), name=name))
    await asyncio.sleep(1.0)
    early = [t.result() for t in phones if t.done()]
    if early:
        stop.set()
        await asyncio.gather(*phones)
        raise RuntimeError(f"{early[0].name}: {early[0].reason or 'exited at once'}")
    pids = {"engine_process": os.getpid()}
    ast = usage.asterisk_pid(True)
    if ast is not None:
        pids["asterisk"] = ast
    hotline_site = SimpleNamespace(agents=[site.agent(a) for a in HOTLINE_AGENTS])
    calls = max(1, round(plan.inbound_rate * plan.minutes))
    inbound = LoadPlan(calls=calls, concurrency=20, rate=plan.inbound_rate / 60.0, seconds=window + 150.0,
                       seed=plan.seed, did=world.HOTLINE_NUMBER,
                       callers=[CallerClass("patient", 0.9, 90.0), CallerClass("impatient", 0.1, 8.0)],
                       default_agent=AgentClass("hotline", (0.5, 2.0), plan.hotline_talk))  # fmt: skip
    sessions = tuple(f"PJSIP/{site.agent(a).endpoint}-" for a in seat_ids)
    cut = 0
    try:
        async with running(site) as eng:
            dialer = eng.features["dialer"]
            joined = await _until(lambda: dialer.seat_states().get("joining", 0) + dialer.seat_states().get("off", 0)
                                  == 0, 60.0)  # fmt: skip
            floor = Floor(eng, sessions)
            sampler = asyncio.create_task(floor.run(), name="bench-site-floor")
            use = usage.Usage(pids)
            use.start()
            # the recorder's worker processes are not the engine's process: their merges are counted apart
            pool = getattr(eng.features.get("recorder"), "pool", None)
            encoded0 = pool.cpu_s if pool is not None else 0.0
            t0, wall0, phones0 = time.monotonic(), time.time(), usage.named_cpu("sipp")
            print(f"dialing for {plan.minutes:g} min with {plan.agents} seats ({'all' if joined else 'not all'} in "
                  f"their sessions), {calls} hotline callers", flush=True)  # fmt: skip
            hotline = asyncio.create_task(run_load(inbound, hotline_site, workdir, eng.store, plan_ports),
                                          name="hotline")  # fmt: skip
            while time.monotonic() - t0 < window:
                await asyncio.sleep(min(30.0, window - (time.monotonic() - t0)))
                if time.monotonic() - t0 < window:
                    now = floor.samples[-1]
                    print(f"  {int(time.monotonic() - t0)} s: {now[1]} conversations ({now[2]} seats), {floor.calls()} "
                          "calls", flush=True)  # fmt: skip
            dialer.stop_dialing()
            t1 = time.monotonic()
            load = await use.stop()
            phones_s = usage.named_cpu("sipp") - phones0  # the phones still up: all of them but hotline callers gone
            load["sipp_phones"] = {"cpu_pct_of_core": round(100 * phones_s / float(load["seconds"]), 2)}
            machine = [(round(t - t0, 1), round(b, 1), round(st, 1)) for t, b, st in use.machine]
            if pool is not None:
                with_encoders(load, pool.workers, pool.cpu_s - encoded0)
            print(f"window over: draining up to {plan.drain:g} s", flush=True)
            await _until(lambda: floor.calls() == 0 and not dialer.dials_in_flight(), plan.drain, 1.0)
            for ch in [c for c in eng.model.channels.values() if not c.name.startswith(sessions)]:
                cut += 1
                try:
                    await eng.action({"Action": "Hangup", "Channel": ch.name})
                except Exception:  # noqa: BLE001 - gone meanwhile
                    pass
            hotline_report = await hotline
            recorder = eng.features.get("recorder")
            # the hang-ups above end many recordings at once: wait for their merges, not just their MixMonitors
            # (reading the facts while 19 merges ran reported those conversations unrecorded)
            await asyncio.sleep(2.0)  # the hang-ups reach the recorder as call ends
            await _until(lambda: recorder is None or not recorder.busy(), 180.0, 1.0)
            sampler.cancel()
            facts = await eng.store.facts()
            records = await eng.store.records()
            # the phones end once their calls do (SIGUSR1 first, so none takes a new one); then the sessions are hung up
            stop.set()
            await asyncio.sleep(0.5)
            for s in [ch.name for ch in eng.model.channels.values() if ch.name.startswith(sessions)]:
                try:
                    await eng.action({"Action": "Hangup", "Channel": s})
                except Exception:  # noqa: BLE001 - gone meanwhile
                    pass
            ends = list(await asyncio.gather(*phones))
    finally:
        if not stop.is_set():  # the run broke off: no phone is left holding its ports
            stop.set()
            await asyncio.gather(*phones, return_exceptions=True)
    campaign = campaign_report(facts).get("renewals", {})
    truth = far_ends.read_truth(workdir / far_ends.LOG, truth_of)
    hotline_rows = [r for r in records if r.get("queued_at") is not None]
    stats = service_stats(hotline_rows, sl_targets=targets_of(site))
    answered = [r for r in hotline_rows if r["outcome"] == "answered" and r.get("ring_time") is not None]
    hours = plan.minutes / 60.0
    broken = [f"{e.name}: SIPp exited before the run ended (exit {e.rc}: {e.reason or 'no reason given'})"
              for e in ends if not e.asked_to_stop]  # fmt: skip
    broken += [f"{e.name}: {e.failed_calls} failed call(s) {e.failures()} ({e.reason or 'no reason given'})"
               for e in ends if e.failed_calls]  # fmt: skip
    return {
        "plan": asdict(plan),
        "campaign": {
            "dials": campaign.get("dials", 0), "conversations": campaign.get("connected", 0),
            "conversations_per_agent_hour": round(campaign.get("connected", 0) / (plan.agents * hours), 2),
            "abandoned": campaign.get("abandoned", 0), "machines": campaign.get("machines", 0),
            "abandon_rate_us_engine": campaign.get("abandon_rate_us"),
            "abandon_rate_uk_engine": campaign.get("abandon_rate_uk"),
            "abandon_rate_us_truth": truth.abandon_rate_us, "far_ends": truth.as_dict(),
            "connect_after_greeting_max": campaign.get("connect_after_greeting_max"),
            "outcomes": campaign.get("outcomes", {}),
        },
        "hotline": {
            "offered": stats["offered"], "answered": stats["answered"], "abandoned": stats["abandoned"],
            "service_level": stats["service_level"], "asa": stats["asa"],
            "three_ring_share": round(sum(1 for r in answered if float(r["ring_time"]) <= 15.0) / len(answered), 4)
            if answered else None,
            "post_dial_delay": hotline_report["post_dial_delay"], "time_to_agent": hotline_report["time_to_agent"],
            "problems": hotline_report["problems"],
        },
        "floor": floor.summary(t0, t1, plan.agents),
        "recordings": check_recordings(facts, records, wall0),
        "machine_per_second": machine,  # (s into the window, busy %, steal %) of all CPUs
        "usage": load,
        "cut_at_end": cut,
        "sipp_problems": broken,
        "wall_s": round(time.monotonic() - t0, 1),
    }  # fmt: skip


async def predicted(plan: SitePlan) -> dict[str, Any]:
    """The virtual day's figures for the same site, seats, window and seed (``hotline bench day``'s run)."""
    from sim.day import run_day

    quiet = logging.getLogger("hotline")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the virtual engine's own start and stop lines are not this report's
    try:
        r = await run_day(hours=plan.minutes / 60.0, seed=plan.seed, outbound_agents=plan.agents,
                          window="00:00-24:00")  # fmt: skip
    finally:
        quiet.setLevel(level)
    o = r["outbound"]
    return {"conversations": o.get("connected", 0), "conversations_per_agent_hour": o["conversations_per_agent_hour"],
            "abandon_rate_us": o.get("abandon_rate_us"), "dials": o.get("dials", 0)}  # fmt: skip


def with_encoders(load: dict[str, Any], workers: int, cpu_s: float) -> None:
    """The recorder's workers' CPU (merges finished in the window) beside the engine's process, and both summed."""
    seconds = float(load["seconds"])
    load["recording_encoders"] = {"workers": workers, "cpu_s": round(cpu_s, 2),
                                  "cpu_pct_of_core": round(100 * cpu_s / seconds, 2)}  # fmt: skip
    eng, ast = load.get("engine_process"), load.get("asterisk")
    if isinstance(eng, dict):
        load["engine_with_encoders_pct_of_core"] = round(100 * (eng["cpu_s"] + cpu_s) / seconds, 2)
        if isinstance(ast, dict) and ast["cpu_s"] > 0:
            load["cpu_ratio_with_encoders"] = round((eng["cpu_s"] + cpu_s) / ast["cpu_s"], 3)


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    """The issue's goals, each met or not."""
    c, u, day = r["campaign"], r["usage"], r.get("virtual_day", {})
    eng, ast = u.get("engine_process") or {}, u.get("asterisk") or {}
    cpu = eng.get("cpu_pct_of_core")
    ratio = u.get("cpu_ratio")
    want = day.get("conversations_per_agent_hour")
    got = c["conversations_per_agent_hour"]
    truth = c["abandon_rate_us_truth"]
    return {
        "all_seats_talking_whole_window": r["floor"]["seconds_with_all_seats_talking"] >= r["floor"]["samples"] > 0,
        "every_conversation_recorded": r["recordings"]["problem_count"] == 0,
        "engine_cpu_at_most_15pct_of_a_core": cpu is not None and cpu <= 15.0,
        "engine_under_a_quarter_of_asterisk": ratio is not None and ratio < 0.25 and bool(ast),
        # the same two with the recorder's worker processes counted in: the figure a sizing plan needs
        "engine_with_encoders_at_most_15pct_of_a_core": u.get("engine_with_encoders_pct_of_core", cpu or 1e9) <= 15.0,
        "engine_with_encoders_under_a_quarter_of_asterisk": (u.get("cpu_ratio_with_encoders", ratio) or 1e9) < 0.25,
        "campaign_compliant_truth_3pct": truth is not None and truth <= 0.03,
        "rate_within_10pct_of_virtual_day": bool(want) and abs(got - want) / want <= 0.10,
    }


def print_report(r: dict[str, Any]) -> None:
    c, h, f, u = r["campaign"], r["hotline"], r["floor"], r["usage"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    p = r["plan"]
    print(f"site bench: {p['agents']} seats, {p['minutes']:g} min, {p['inbound_rate']:g} hotline callers/min, "
          f"seed {p['seed']}")  # fmt: skip
    day = r.get("virtual_day", {})
    print(f"  campaign: {c['dials']} dials, {c['conversations']} conversations = {c['conversations_per_agent_hour']}"
          f" per agent-hour (virtual day: {day.get('conversations_per_agent_hour', '-')}, US abandons "
          f"{pct(day.get('abandon_rate_us'))}); abandons US truth "
          f"{pct(c['abandon_rate_us_truth'])} (far ends: {c['far_ends']['people_hung_up_on']} of "
          f"{c['far_ends']['answered'].get('person', 0)} people), engine {pct(c['abandon_rate_us_engine'])}, "
          f"UK {pct(c['abandon_rate_uk_engine'])}")  # fmt: skip
    print(f"  hotline: offered {h['offered']}, answered {h['answered']}, abandoned {h['abandoned']}, service level "
          f"{pct(h['service_level'])}, 3-ring share {pct(h['three_ring_share'])}, PDD p50/p99 "
          f"{h['post_dial_delay']['p50']}/{h['post_dial_delay']['p99']} s, time to agent p50/p99 "
          f"{h['time_to_agent']['p50']}/{h['time_to_agent']['p99']} s")  # fmt: skip
    print(f"  floor: conversations peak {f['conversations_peak']}, mean {f['conversations_mean']} (seats talking "
          f"{f['seats_talking_mean']} on average), all seats "
          f"talking {f['seconds_with_all_seats_talking']} of {f['samples']} s; calls peak {f['calls_peak']}, "
          f"recordings peak {f['recordings_peak']}")  # fmt: skip
    rec = r["recordings"]
    print(f"  recordings: {rec['checked_ok']} of {rec['conversations']} conversations recorded in stereo, "
          f"length ± {RECORDING_SLACK:g} s")  # fmt: skip
    for name in ("engine_process", "asterisk"):
        if isinstance(u.get(name), dict):
            x = u[name]
            print(f"  cpu {name:<15} {x['cpu_pct_of_core']:6.2f} % of a core, peak RSS {x['rss_peak_mb']} MB")
    print(f"  cpu engine process / asterisk = {u.get('cpu_ratio')}")
    if isinstance(u.get("recording_encoders"), dict):
        e = u["recording_encoders"]
        print(f"  cpu recording encoders ({e['workers']} process(es), nice 10) {e['cpu_pct_of_core']:.2f} % of a core; "
              f"engine with them {u.get('engine_with_encoders_pct_of_core')} %, / asterisk = "
              f"{u.get('cpu_ratio_with_encoders')}")  # fmt: skip
    if isinstance(u.get("machine"), dict):
        m, ph = u["machine"], u.get("sipp_phones", {})
        print(f"  machine ({m['cpus']} CPUs): busy {m['busy_pct_mean']} % on average, p99 {m['busy_pct_p99']} %, "
              f"{m['seconds_over_90pct_busy']} s over 90 %; stolen by the host {m['steal_pct_mean']} % (max "
              f"{m['steal_pct_max']} % in a second); SIPp phones {ph.get('cpu_pct_of_core')} % of a core")  # fmt: skip
    for s in rec.get("short", [])[:20]:
        print(f"  short recording {s['call_id']}: up {s['from_s']}-{s['to_s']} s into the window, "
              f"{s['missing_s']} s missing")  # fmt: skip
    for goal, met in r.get("verdict", {}).items():
        print(f"  goal {goal}: {'met' if met else 'MISSED'}")


async def main_async(plan: SitePlan, json_path: str | None, workdir: str | None) -> int:
    from engine.config import load_site

    with tempfile.TemporaryDirectory(prefix="hotline-site-") as tmp:
        wd = Path(workdir or tmp)
        wd.mkdir(parents=True, exist_ok=True)
        site_path = wd / "site.toml"
        site_path.write_text(site_text(plan, wd))
        site = load_site(site_path)
        print(await asyncio.to_thread(ensure_lab, site_path, site), flush=True)
        report = await run_site(plan, site, wd)
        report["virtual_day"] = await predicted(plan)
        report["verdict"] = verdict(report)
    print_report(report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1))
        print(f"figures written to {json_path}")
    problems = report["sipp_problems"] + report["hotline"]["problems"] + report["recordings"]["problems"]
    for line in problems:
        print(f"hotline bench site: {line}", file=sys.stderr)
    return 1 if problems else 0
