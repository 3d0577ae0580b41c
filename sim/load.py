"""`hotline sim load`: SIPp callers and agent softphones against a real Asterisk, joined with the engine's records.

Callers come in classes (how long they stay on the line before giving up); agents in classes (how fast
they answer, or never, and how long they talk). Per-call values (number, correlation tag, DTMF digit, its
delay, the agent's answer delay) are drawn from seeded streams and handed to SIPp in injection files.
Every caller's INVITE carries ``X-Hotline-Corr``; the engine stores it on the call record, which is how
SIPp's view and the engine's are joined. Bounded by ``--calls`` and ``--seconds``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim import ports, sipp_run, traffic, usage
from sim.sipp import LOAD_AGENT, LOAD_CALLER, make_audio, read_trace

log = logging.getLogger("hotline.load")


@dataclass(frozen=True)
class CallerClass:
    name: str
    share: float
    patience: float  # seconds on the line after the digit before hanging up, if no agent ended the call


@dataclass(frozen=True)
class AgentClass:
    name: str
    answer: tuple[float, float] | None  # uniform answer delay range (s); None = never answers
    talk: float  # seconds the agent talks before hanging up


@dataclass
class LoadPlan:
    calls: int = 50
    concurrency: int = 20
    rate: float = 4.0  # new calls per second
    seconds: float = 180.0
    seed: int = 1
    did: str = "4001234567"
    target: str = "127.0.0.1:5060"
    digits: tuple[tuple[str, float], ...] = (("1", 0.5), ("2", 0.3), ("3", 0.2))
    callers: list[CallerClass] = field(default_factory=lambda: [
        CallerClass("patient", 0.7, 40.0), CallerClass("impatient", 0.3, 6.0)])  # fmt: skip
    agents: dict[str, AgentClass] = field(default_factory=lambda: {})
    default_agent: AgentClass = field(default_factory=lambda: AgentClass("quick", (0.3, 1.5), 2.0))


class LoadRefused(Exception):
    """The run cannot be made as asked; refused before any SIPp starts, on one line."""


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return round(float(np.percentile(np.array(values), p)), 3)


def _summary(values: list[float]) -> dict[str, float | None]:
    return {"n": len(values), "p50": _pct(values, 50), "p90": _pct(values, 90), "p99": _pct(values, 99)}


async def run_load(plan: LoadPlan, site: Any, workdir: Path, store: Any,
                   port_plan: ports.PortPlan | None = None) -> dict[str, Any]:  # fmt: skip
    """Run the SIPp sides to completion (bounded); ``store`` is the engine's store (records are joined);
    ``port_plan``: one shared with other SIPp processes of the same run, so no two are given the same ports."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + plan.seconds
    run_id = f"L{plan.seed}-{int(loop.time() * 1000) % 100000}"
    audio = make_audio(workdir / "tone.wav")
    # callers, split into classes by share
    counts = [int(math.floor(plan.calls * c.share)) for c in plan.callers]
    counts[0] += plan.calls - sum(counts)
    caller_jobs = []
    n = 0
    for klass, count in zip(plan.callers, counts, strict=True):
        if count <= 0:
            continue
        rows = ["SEQUENTIAL"]
        for _ in range(count):
            g = traffic.rng(plan.seed, traffic.KIND_CALLER, n)
            digits, weights = zip(*plan.digits, strict=True)
            digit = str(g.choice(digits, p=np.array(weights) / sum(weights)))
            number = "1" + "".join(str(d) for d in g.integers(0, 10, 10))
            rows.append(f"{number};{run_id}-{n};{digit};{int(g.uniform(1200, 2500))};")
            n += 1
        (workdir / f"callers-{klass.name}.csv").write_text("\n".join(rows) + "\n")
        (workdir / f"caller-{klass.name}.xml").write_text(
            LOAD_CALLER.format(klass=klass.name, patience_ms=int(klass.patience * 1000), audio=audio)
        )
        share = max(1, round(plan.concurrency * count / plan.calls))
        caller_jobs.append((klass, count, share))
    # one SIPp per agent with a static contact (the lab's agents)
    agent_jobs = []
    for a in site.agents:
        if not a.contact:
            continue
        port_text = a.contact.rsplit(":", 1)[-1]
        if not port_text.isdigit():
            raise LoadRefused(f"agent {a.id}: contact {a.contact!r} names no port: a SIPp phone needs "
                              "sip:USER@127.0.0.1:PORT")  # fmt: skip
        port = int(port_text)
        klass = plan.agents.get(a.id, plan.default_agent)
        g = traffic.rng(plan.seed, traffic.KIND_AGENT, int("".join(c for c in a.id if c.isdigit()) or 0))
        rows = ["SEQUENTIAL"]
        for _ in range(plan.calls):
            delay = 3_600_000 if klass.answer is None else int(g.uniform(*klass.answer) * 1000)
            rows.append(f"{delay};")
        (workdir / f"agent-{a.id}.csv").write_text("\n".join(rows) + "\n")
        (workdir / f"agent-{a.id}.xml").write_text(LOAD_AGENT.format(klass=klass.name, talk_ms=int(klass.talk * 1000)))
        agent_jobs.append((a, klass, port))

    if len(caller_jobs) > 4:
        raise ValueError("at most 4 caller classes: the lab trunk matches source ports 5080-5083")
    # every port chosen and checked free before any SIPp starts: one that cannot bind exits at once
    sip = [(f"agent {a.id} (its contact)", port) for a, _k, port in agent_jobs]
    sip += [(f"callers {klass.name}", 5080 + i) for i, (klass, _c, _s) in enumerate(caller_jobs)]
    ports.check_sip_ports(sip)
    plan_ports = port_plan or ports.PortPlan()
    plan_ports.reserve(p for _o, p in sip)
    # "-aa": a phone answers INFO with 200 as a softphone does; Asterisk relays a caller's late DTMF INFO to the
    # agent once they are bridged, and SIPp without it aborts the call
    agents = []
    stop_agents = asyncio.Event()
    for a, _klass, port in agent_jobs:
        name = f"agent-{a.id}"
        args = ["-sf", f"{name}.xml", "-inf", f"{name}.csv", "-i", "127.0.0.1", "-p", str(port), "-aa",
                "-mp", str(plan_ports.media(name)), "-cp", str(plan_ports.control(name)), "-rtp_echo", "-nostdin",
                "-timeout", f"{int(plan.seconds) + 30}s", "-trace_msg", "-message_file", f"{name}.log",
                "-max_recv_loops", "100000"]  # fmt: skip
        agents.append(asyncio.create_task(sipp_run.run(name, args, workdir, deadline + 30, stop_agents), name=name))
    await asyncio.sleep(0.5)
    early = [t.result() for t in agents if t.done()]  # a phone that could not start: no caller is sent
    callers = []
    for i, (klass, count, share) in enumerate(caller_jobs if not early else []):
        name = f"caller-{klass.name}"
        args = [plan.target, "-sf", f"{name}.xml", "-inf", f"callers-{klass.name}.csv",
                "-i", "127.0.0.1", "-p", str(5080 + i), "-mp", str(plan_ports.media(name)),
                "-cp", str(plan_ports.control(name)), "-s", plan.did,
                "-m", str(count), "-l", str(share), "-r", f"{plan.rate * count / plan.calls:.3f}", "-rp", "1000",
                "-nostdin", "-timeout", f"{int(plan.seconds)}s", "-trace_msg", "-message_file",
                f"{name}.log"]  # fmt: skip
        callers.append(asyncio.create_task(sipp_run.run(name, args, workdir, deadline), name=name))
    caller_ends = list(await asyncio.gather(*callers))
    # let the engine finish the last records, then stop the agents
    if callers:
        await asyncio.sleep(2.0)
    stop_agents.set()
    agent_ends = list(await asyncio.gather(*agents))
    report = await _join(plan, run_id, workdir, caller_jobs, agent_jobs, [e.rc for e in caller_ends], store)
    report["sipp"]["processes"] = [e.as_dict() for e in caller_ends + agent_ends]
    report["problems"] = problems(caller_ends, agent_ends, report["sipp"]["callers_placed"], plan.calls)
    # what breaks the run itself, whatever faults a chaos run strikes (failed calls are what its faults make)
    report["sipp"]["broken"] = problems(caller_ends, agent_ends, report["sipp"]["callers_placed"], plan.calls,
                                        failed_calls=False)  # fmt: skip
    return report


def problems(callers: list[sipp_run.SippEnd], agents: list[sipp_run.SippEnd], placed: int, planned: int,
             failed_calls: bool = True) -> list[str]:  # fmt: skip
    """What makes the run a failure, each line naming the SIPp and its own reason."""
    out = []

    def why(e: sipp_run.SippEnd) -> str:
        return f"exit {e.rc}, {sipp_run.EXIT_MEANING.get(e.rc, 'killed or unknown')}: {e.reason or 'no reason given'}"

    for e in agents:
        if not e.asked_to_stop:
            out.append(f"{e.name}: SIPp exited before the run ended ({why(e)})")
    for e in callers:
        if e.rc not in (0, 1):
            out.append(f"{e.name}: SIPp failed ({why(e)})")
        elif e.failed_calls and failed_calls:
            out.append(f"{e.name}: {e.failed_calls} failed call(s) {e.failures()} ({why(e)})")
    if not callers and agents:
        out.append("no caller was sent: an agent's phone could not start")
    elif placed == 0:
        out.append(f"no call was placed of the {planned} planned")
    return out


async def _join(plan: LoadPlan, run_id: str, workdir: Path, caller_jobs: list[Any], agent_jobs: list[Any],
                caller_rcs: list[int], store: Any) -> dict[str, Any]:  # fmt: skip
    sipp_calls: dict[str, dict[str, Any]] = {}
    for klass, _count, _share in caller_jobs:
        trace = workdir / f"caller-{klass.name}.log"
        if not trace.exists():
            continue
        by_callid: dict[str, dict[str, Any]] = {}
        for m in read_trace(trace):
            cid = m.header("Call-ID")
            c = by_callid.setdefault(cid, {"class": klass.name})
            if m.sent and m.first_line.startswith("INVITE"):
                c.setdefault("invite", m.at)
                c["corr"] = m.header("X-Hotline-Corr")
            elif not m.sent and m.first_line.startswith("SIP/2.0 200") and "answer" not in c:
                c["answer"] = m.at
            elif not m.sent and m.first_line.startswith("BYE"):
                c["ended_by"] = "far end"
            elif m.sent and m.first_line.startswith("BYE"):
                c["ended_by"] = "caller"
        for c in by_callid.values():
            if c.get("corr"):
                sipp_calls[c["corr"]] = c
    agent_answered = {}
    for a, _klass, _port in agent_jobs:
        trace = workdir / f"agent-{a.id}.log"
        answered = set()
        if trace.exists():
            for m in read_trace(trace):
                if m.sent and m.first_line.startswith("SIP/2.0 200") and "INVITE" in m.header("CSeq"):
                    answered.add(m.header("Call-ID"))
        agent_answered[a.id] = len(answered)
    for _ in range(40):  # records are written when calls end and recordings are indexed
        rows = [r for r in await store.records() if str(r.get("tag", "")).startswith(run_id + "-")]
        if len(rows) >= len(sipp_calls):
            break
        await asyncio.sleep(0.25)
    by_tag = {r["tag"]: r for r in rows}
    planned_digit = {}
    for f in workdir.glob("callers-*.csv"):
        for line in f.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) > 2:
                planned_digit[parts[1]] = parts[2]
    # callers over the IVR's session limit skip the menu by design (their digit is not read): counted apart
    over = {f.call_id for f in await store.facts() if f.kind == "ivr.overflow"}
    over_limit = {t for t, r in by_tag.items() if r["call_id"] in over}
    digits_match = sum(1 for t, r in by_tag.items() if t not in over_limit and planned_digit.get(t) == r["digit"])
    outcomes: dict[str, int] = {}
    for r in rows:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    pdd = [c["answer"] - c["invite"] for c in sipp_calls.values() if "answer" in c and "invite" in c]
    to_agent = [by_tag[t]["connected_at"] - c["invite"] for t, c in sipp_calls.items()
                if t in by_tag and by_tag[t]["connected_at"] is not None and "invite" in c]  # fmt: skip
    talk = [r["talk_time"] for r in rows if r["talk_time"] is not None]
    report = {
        "run": run_id, "plan": {"calls": plan.calls, "concurrency": plan.concurrency, "rate": plan.rate,
                                "seconds": plan.seconds, "seed": plan.seed},
        "sipp": {
            "callers_placed": len(sipp_calls),
            "callers_ended_by_far_end": sum(1 for c in sipp_calls.values() if c.get("ended_by") == "far end"),
            "callers_gave_up": sum(1 for c in sipp_calls.values() if c.get("ended_by") == "caller"),
            "agents_answered": agent_answered, "caller_exit_codes": caller_rcs,
        },
        "engine": {"records": len(rows), "outcomes": outcomes,
                   "joined": sum(1 for t in sipp_calls if t in by_tag),
                   "digits_as_sent": digits_match, "ivr_over_limit": len(over_limit),
                   "unmatched_sipp_calls": sorted(t for t in sipp_calls if t not in by_tag)[:20]},
        "post_dial_delay": _summary(pdd), "time_to_agent": _summary(to_agent), "talk_time": _summary(talk),
    }  # fmt: skip
    return report


def print_report(report: dict[str, Any]) -> None:
    s, e = report["sipp"], report["engine"]
    print(f"load run {report['run']}: {s['callers_placed']} callers placed, "
          f"{sum(s['agents_answered'].values())} answered by SIPp agents {s['agents_answered']}")  # fmt: skip
    print(f"  engine: {e['records']} records, outcomes {e['outcomes']}, joined {e['joined']} by X-Hotline-Corr")
    print(
        f"  IVR: {e['digits_as_sent']} digit(s) read as sent, {e['ivr_over_limit']} caller(s) over the session "
        "limit (menu skipped)"
    )
    for key in ("post_dial_delay", "time_to_agent", "talk_time"):
        v = report[key]
        print(f"  {key:<16} n={v['n']:<4} p50={v['p50']}  p90={v['p90']}  p99={v['p99']} s")
    fl, rec = report.get("floor"), report.get("recordings")
    if fl:
        print(f"  conversations at once: peak {fl['conversations_peak']}, recordings peak {fl['recordings_peak']}, "
              f"{fl['seconds_with_every_agent_talking']} s with every agent talking")  # fmt: skip
    if rec:
        print(f"  recordings: {rec['checked_ok']} of {rec['conversations']} answered calls recorded in stereo, "
              "length within 1 s")  # fmt: skip
    use = report.get("usage", {})
    for name in ("engine_process", "asterisk"):
        if isinstance(use.get(name), dict):
            u = use[name]
            print(f"  cpu {name:<15} {u['cpu_pct_of_core']:6.2f} % of a core, peak RSS {u['rss_peak_mb']} MB")
    if use.get("cpu_ratio") is not None:
        print(f"  cpu engine process / asterisk = {use['cpu_ratio']}")
    if isinstance(use.get("recording_encoders"), dict):
        e = use["recording_encoders"]
        print(f"  cpu recording encoders ({e['workers']} process(es), nice 10) {e['cpu_pct_of_core']:.2f} % of a core; "
              f"engine with them {use.get('engine_with_encoders_pct_of_core')} %, "
              f"/ asterisk = {use.get('cpu_ratio_with_encoders')}")  # fmt: skip


async def _with_engine(plan: LoadPlan, site: Any, workdir: Path, eng: Any, pids: dict[str, int]) -> dict[str, Any]:
    """The run with the engine in this process: besides SIPp's and the records' view, the conversations under way
    each second, the recorder's worker processes' CPU, and every answered call's recording checked."""
    from sim.bench_site import Floor, check_recordings, with_encoders

    floor = Floor(eng, ())
    sampler = asyncio.create_task(floor.run(), name="load-floor")
    recorder = eng.features.get("recorder")
    pool = getattr(recorder, "pool", None)
    encoded0 = pool.cpu_s if pool is not None else 0.0
    use = usage.Usage(pids)
    use.start()
    t0 = time.monotonic()
    report = await run_load(plan, site, workdir, eng.store)
    t1 = time.monotonic()
    report["usage"] = await use.stop()
    sampler.cancel()
    window = [s for s in floor.samples if t0 <= s[0] <= t1]
    agents = len(report["sipp"]["agents_answered"])
    everyone = sum(1 for s in window if agents and s[1] >= agents)
    report["floor"] = {"conversations_peak": max((s[1] for s in window), default=0),
                       "recordings_peak": max((s[4] for s in window), default=0),
                       "seconds_with_every_agent_talking": everyone}  # fmt: skip
    if recorder is None:
        return report
    # the last calls' merges run after their hang-ups: the recordings are read once the recorder is idle, and the
    # workers' CPU for them is counted against the run's window (all the encoding its conversations needed)
    await asyncio.sleep(2.0)
    began = told = time.monotonic()
    while recorder.busy() and time.monotonic() - began < 900.0:  # long calls all ending at once: minutes of merging
        await asyncio.sleep(1.0)
        if time.monotonic() - told >= 30.0:  # progress every 30 s, whatever each wait took
            told = time.monotonic()
            print(f"  the recorder is still saving {recorder.pending()} call(s)", flush=True)
    if pool is not None:
        with_encoders(report["usage"], pool.workers, pool.cpu_s - encoded0)
    rows = [r for r in await eng.store.records() if str(r.get("tag", "")).startswith(report["run"] + "-")]
    ids = {str(r["call_id"]) for r in rows}
    facts = [f for f in await eng.store.facts() if f.call_id in ids]
    report["recordings"] = check_recordings(facts, rows)
    report["problems"] += [f"recording {p}" for p in report["recordings"]["problems"]]
    return report


async def main_async(
    site_path: str, plan: LoadPlan, json_path: str | None, external_engine: bool, workdir: str | None = None
) -> int:
    from composition import running
    from engine.config import load_site
    from engine.store.store import Store, migrate

    site = load_site(site_path)
    if site["asterisk"]["lab"]:
        from engine.lab import Lab, agents_not_in_lab, default_lab_dir

        missing = agents_not_in_lab(Lab(default_lab_dir()), site)
        if missing:
            raise LoadRefused(
                f"the lab's Asterisk was set up without {len(missing)} of this site's agents ({missing[0]}"
                f"{', ...' if len(missing) > 1 else ''}): run `hotline lab up --site {site_path}` first"
            )
    with tempfile.TemporaryDirectory(prefix="hotline-load-") as tmp_dir:
        tmp = workdir or tmp_dir
        Path(tmp).mkdir(parents=True, exist_ok=True)
        pids = {} if external_engine else {"engine_process": os.getpid()}
        ast = usage.asterisk_pid(bool(site["asterisk"]["lab"]))
        if ast is not None:
            pids["asterisk"] = ast
        if external_engine:
            await asyncio.to_thread(migrate, site["store"]["url"])
            store = Store(site["store"]["url"])
            try:
                use = usage.Usage(pids)
                use.start()
                report = await run_load(plan, site, Path(tmp), store)
                report["usage"] = await use.stop()
            finally:
                await store.close()
        else:
            async with running(site) as eng:
                report = await _with_engine(plan, site, Path(tmp), eng, pids)
    print_report(report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1))
        print(f"report written to {json_path}")
    for line in report["problems"]:
        print(f"hotline sim load: {line}", file=sys.stderr)
    return 1 if report["problems"] else 0
