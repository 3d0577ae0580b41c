"""`hotline sim chaos`: SIPp load through the lab Asterisk while the engine, its AMI link or Asterisk fail.

The engine runs as a separate process (``hotline run``) on a site file derived from the lab's: a fresh
SQLite store in the work folder (only this run's calls in it) and AMI through a TCP proxy of this runner's,
so an AMI cut is a real TCP abort. The load is ``hotline sim load``'s, reading that store as an external
engine's. Faults come at seeded random moments (or given ones): ``kill`` (SIGKILL, a new engine on the same
store after ``restart_after`` s), ``ami-cut`` (every connection through the proxy aborted) and
``asterisk-restart`` (the lab's Asterisk stopped and started). After the load drains, the traces, the store,
the CDR file and the recordings are read and handed to ``sim.chaos_check.reconcile``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recording.encode import probe
from sim import chaos_check as check
from sim.ami_proxy import AmiProxy
from sim.derived_site import derive
from sim.load import AgentClass, CallerClass, LoadPlan, run_load
from sim.sipp import read_trace

log = logging.getLogger("hotline.chaos")

FAULTS = ("kill", "ami-cut", "asterisk-restart")
REPO = Path(__file__).resolve().parent.parent
_SIP_USER = re.compile(r"sip:([^@;>]+)@")
_FINAL_ERROR = re.compile(r"SIP/2.0 ([3-6]\d\d)")  # a final refusal of an INVITE


@dataclass
class ChaosPlan:
    calls: int = 60
    faults: tuple[str, ...] = FAULTS
    every: float = 12.0  # mean seconds between faults (seed 1: six faults of all three kinds over 60 calls)
    seed: int = 1
    rate: float = 0.5  # new calls per second
    restart_after: float = 3.0  # seconds a killed engine stays down
    at: tuple[float, ...] = ()  # fault moments (s from the start) instead of random ones; kinds in turn
    warmup: float = 8.0  # no random fault before calls are on the line
    min_gap: float = 8.0  # nor two closer than this: each recovery is seen on its own
    concurrency: int = 20
    agent: AgentClass = AgentClass("chaos", (1.0, 2.5), 4.0)


def schedule(plan: ChaosPlan) -> list[tuple[float, str]]:
    """Fault moments (seconds from the start) and kinds: seeded, while calls are still being placed."""
    g = np.random.default_rng([plan.seed, 0xC4A05])
    if plan.at:
        return [(t, plan.faults[i % len(plan.faults)]) for i, t in enumerate(sorted(plan.at))]
    out: list[tuple[float, str]] = []
    t = plan.warmup
    window = plan.calls / plan.rate
    while True:
        t += max(plan.min_gap, float(g.exponential(plan.every)))
        if t >= window:
            return out
        out.append((round(t, 2), str(g.choice(list(plan.faults)))))


class EngineProcess:
    """``hotline run`` on the derived site, its output in the work folder; one process at a time."""

    def __init__(self, site_file: Path, workdir: Path, agi_port: int, proxy: AmiProxy) -> None:
        self.site_file, self.workdir, self.agi_port, self.proxy = site_file, workdir, agi_port, proxy
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, timeout: float = 30.0) -> None:
        self.starts += 1
        logf = (self.workdir / f"engine-{self.starts}.log").open("ab")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        before = self.proxy.connections
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "engine.cli", "run", "--site", str(self.site_file),
            stdin=asyncio.subprocess.DEVNULL, stdout=logf, stderr=logf, env=env, start_new_session=True,
        )  # fmt: skip
        logf.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"the engine exited with {self.proc.returncode}; see {logf.name}")
            if self.proxy.connections > before and await _listening(self.agi_port):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the engine was not up within {timeout:.0f} s; see {logf.name}")

    async def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            await self.kill()


async def _listening(port: int) -> bool:
    try:
        _, w = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    w.close()
    return True


async def _inject(plan: ChaosPlan, t0: float, started: float, engine: EngineProcess, proxy: AmiProxy, site: Any,
                  faults: list[check.Fault]) -> None:  # fmt: skip
    """Named task: each fault at its moment (late ones at once, in order), recorded with its wall time."""
    from engine import lab as labmod

    loop = asyncio.get_running_loop()
    for offset, kind in schedule(plan):
        await asyncio.sleep(max(0.0, t0 + offset - loop.time()))
        at = time.time()
        linked = proxy.connections
        if kind == "kill":
            pid = engine.proc.pid if engine.proc else 0
            await engine.kill()
            await asyncio.sleep(plan.restart_after)
            await engine.start()
            note = (
                f"engine {pid} killed; engine {engine.proc.pid if engine.proc else 0} up after {time.time() - at:.1f} s"
            )
        elif kind == "ami-cut":
            note = f"{proxy.cut()} AMI connection(s) aborted"
        elif kind == "asterisk-restart":
            lab = labmod.Lab(labmod.default_lab_dir())
            await asyncio.to_thread(labmod.stop, lab)
            await asyncio.to_thread(labmod.start, lab, site)
            note = f"Asterisk back after {time.time() - at:.1f} s"
        else:
            raise ValueError(f"unknown fault {kind!r}")
        faults.append(check.Fault(kind, at, note))
        log.warning("fault %s at +%.1f s: %s", kind, at - started, note)
        # the next fault waits for the engine's link to be back (bounded): each recovery is seen on its own
        deadline = loop.time() + 30
        while proxy.connections == linked and loop.time() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)


def caller_calls(workdir: Path) -> list[check.CallerCall]:
    out = []
    for trace in sorted(workdir.glob("caller-*.log")):
        calls: dict[str, dict[str, Any]] = {}
        for m in read_trace(trace):
            c = calls.setdefault(m.header("Call-ID"), {})
            cseq = m.header("CSeq")
            if m.sent and m.first_line.startswith("INVITE") and "tag" not in c:
                user = _SIP_USER.search(m.header("From"))
                c.update(tag=m.header("X-Hotline-Corr"), number=user.group(1) if user else "", invited=m.at)
            elif not m.sent and m.first_line.startswith("SIP/2.0 200") and "INVITE" in cseq:
                c.setdefault("answered", m.at)
            elif not m.sent and (code := _FINAL_ERROR.match(m.first_line)) and "INVITE" in cseq:
                c.setdefault("refused", int(code.group(1)))
            elif m.first_line.startswith("BYE"):
                c.setdefault("ended", m.at)
        out += [check.CallerCall(c["tag"], c["number"], c["invited"], c.get("answered"), c.get("ended"),
                                 c.get("refused"))
                for c in calls.values() if c.get("tag")]  # fmt: skip
    return out


def agent_legs(workdir: Path, agent_ids: list[str]) -> list[check.AgentLeg]:
    out = []
    for agent_id in agent_ids:
        trace = workdir / f"agent-{agent_id}.log"
        legs: dict[str, dict[str, Any]] = {}
        for m in read_trace(trace) if trace.exists() else []:
            g = legs.setdefault(m.header("Call-ID"), {})
            first, cseq = m.first_line, m.header("CSeq")
            if not m.sent and first.startswith("INVITE") and "invited" not in g:
                user = _SIP_USER.search(m.header("From"))
                g.update(number=user.group(1) if user else "", invited=m.at)
            elif m.sent and first.startswith("SIP/2.0 200") and "INVITE" in cseq:
                g.setdefault("answered", m.at)
            elif first.startswith("BYE") or (not m.sent and first.startswith("CANCEL")):
                g.setdefault("ended", m.at)
            elif m.sent and re.match(r"SIP/2.0 [4-6]\d\d", first) and "INVITE" in cseq:
                g.setdefault("ended", m.at)
        out += [check.AgentLeg(agent_id, g["number"], g["invited"], g.get("answered"), g.get("ended"))
                for g in legs.values() if "invited" in g]  # fmt: skip
    return out


async def _drained(store: Any, placed: int, limit: float) -> None:
    """Wait (bounded) until every placed call has a record or a degraded fact and every answered record its
    recording; at least one scan of the CDR file by the engine's degraded counter (every 10 s)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < limit:
        await asyncio.sleep(1.0)
        recs = await store.records()
        degraded = await store.facts(None, ("ivr.degraded",))
        saved = all(r["recording"] and Path(str(r["recording"])).exists() for r in recs if r["outcome"] == "answered")
        if loop.time() - start >= 12 and len(recs) + len(degraded) >= placed and saved:
            return


def _recordings(records: list[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for r in records:
        path = str(r.get("recording") or "")
        if path:
            try:
                out[path] = probe(Path(path))[1]
            except (OSError, RuntimeError):  # libsndfile's errors are RuntimeErrors
                out[path] = None  # missing, or damaged: not a saved recording
    return out


async def run_chaos(plan: ChaosPlan, site_path: Path, workdir: Path) -> dict[str, Any]:
    from engine.config import load_site
    from engine.store.store import Store, migrate
    from ivr.places import ivr_places

    site = load_site(site_path)
    workdir.mkdir(parents=True, exist_ok=True)
    proxy = AmiProxy((site["asterisk"]["ami_host"], site["asterisk"]["ami_port"]))
    port = await proxy.start()
    db = workdir / "chaos.db"
    db.unlink(missing_ok=True)  # a fresh store: only this run's calls
    derived = derive(site_path, workdir / "chaos-site.toml", store={"url": f"sqlite+aiosqlite:///{db}"},
                     asterisk={"ami_port": port})  # fmt: skip
    url = load_site(derived)["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    engine = EngineProcess(derived, workdir, site["asterisk"]["agi_port"], proxy)
    faults: list[check.Fault] = []
    loop = asyncio.get_running_loop()
    load_plan = LoadPlan(calls=plan.calls, concurrency=plan.concurrency, rate=plan.rate, seed=plan.seed,
                         seconds=plan.calls / plan.rate + 120, default_agent=plan.agent,
                         callers=[CallerClass("patient", 0.7, 40.0), CallerClass("impatient", 0.3, 8.0)])  # fmt: skip
    try:
        await engine.start()
        started, t0 = time.time(), loop.time()
        injector = asyncio.create_task(_inject(plan, t0, started, engine, proxy, site, faults), name="chaos-faults")
        load = asyncio.create_task(run_load(load_plan, site, workdir, store), name="chaos-load")
        await asyncio.wait([injector, load], return_when=asyncio.FIRST_EXCEPTION)
        if injector.done() and injector.exception() is not None:
            load.cancel()
            raise injector.exception()  # type: ignore[misc]
        load_report = await load
        await injector  # every fault falls inside the load's window; one still running is waited for
        finished = time.time()
        await _drained(store, load_report["sipp"]["callers_placed"], 30.0)
    finally:
        await engine.stop()
        proxy.close()
    records = await store.records()
    facts = await store.facts(None, ("ivr.degraded", "acd.agents_synced"))
    await store.close()
    cdr_file = ivr_places(site).cdr
    cdr_text = cdr_file.read_text(errors="replace") if cdr_file and cdr_file.exists() else ""
    sipp_agents = [a.id for a in site.agents if a.contact]
    inputs = check.ChaosInputs(
        calls=caller_calls(workdir), legs=agent_legs(workdir, sipp_agents), records=records,
        degraded=[{"call_id": f.call_id, "caller": str(f.data.get("caller", ""))} for f in facts
                  if f.kind == "ivr.degraded"],
        cdr=check.cdr_rows(cdr_text), recordings=_recordings(records), faults=faults,
        synced=[check.AgentsSynced(f.at, float(f.data.get("link_up_at", f.at)), dict(f.data.get("agents", {})))
                for f in facts if f.kind == "acd.agents_synced"],
        started=started, finished=finished, sipp_agents=set(sipp_agents),
    )  # fmt: skip
    result = check.reconcile(inputs)
    return {**result.as_dict(), "engine_starts": engine.starts, "workdir": str(workdir), "load": load_report,
            "plan": {"calls": plan.calls, "faults": list(plan.faults), "every": plan.every, "seed": plan.seed,
                     "rate": plan.rate, "restart_after": plan.restart_after, "at": list(plan.at)},
            "text": check.render(result)}  # fmt: skip


async def main_async(plan: ChaosPlan, site_path: str, json_path: str | None, workdir: str | None) -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hotline-chaos-") as tmp:
        report = await run_chaos(plan, Path(site_path), Path(workdir or tmp).absolute())
    print(report["text"])
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1))
        print(f"report written to {json_path}")
    broken = report["load"]["sipp"]["broken"]
    for line in broken:
        print(f"hotline sim chaos: {line}", file=sys.stderr)
    return 1 if report["mismatches"] or broken else 0
