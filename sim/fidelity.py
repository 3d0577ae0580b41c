"""Transcripts of the canonical flows: record them from the real Asterisk, compare a replay with them.

`hotline sim fidelity --record` runs every flow in ``sim.flows`` through the lab Asterisk (SIPp on both
sides, the engine in this process for inbound flows) and writes what a second AMI connection saw, and the
FastAGI exchange the engine had (``sim.agi_transcript``), to ``tests/fixtures/ami/<flow>/run*.jsonl``. The
comparison normalises identifiers (uniqueids, channel names, bridge ids, in order of first appearance) and
scores the AMI event sequences and the AGI rows field by field.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.asterisk.ami_codec import Frame
from sim import agi_transcript
from sim.agi_transcript import AgiFrame

log = logging.getLogger("hotline.fidelity")

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ami"

# Events an ACD, a dialer and the call model depend on. VarSet, Newexten, DeviceStateChange, Cdr and RTCP are
# left out: they describe Asterisk's internals (dialplan steps, variables, device hints) that the engine never
# reads, and their number changes with configuration details. AGIExec* too: the AGI side is compared from
# the FastAGI exchange itself (sim.agi_transcript), replies included.
COMPARED = {
    "Newchannel", "Newstate", "NewCallerid", "NewConnectedLine", "HangupRequest", "SoftHangupRequest", "Hangup",
    "DialBegin", "DialState", "DialEnd", "BridgeCreate", "BridgeEnter", "BridgeLeave", "BridgeDestroy",
    "Hold", "Unhold", "MusicOnHoldStart", "MusicOnHoldStop", "OriginateResponse", "MixMonitorStart",
}  # fmt: skip

# Fields compared after the event name (identifiers normalised). Missing fields count as empty.
KEY_FIELDS = [
    "Channel", "ChannelState", "Context", "Exten", "Uniqueid", "Linkedid", "DestChannel", "DestChannelState",
    "DestUniqueid", "DestLinkedid", "DialStatus", "Cause", "BridgeUniqueid", "BridgeNumChannels", "Response",
    "Reason",
]  # fmt: skip

_ID_FIELDS = {"Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid"}
_CHANNEL_FIELDS = {"Channel", "DestChannel"}


@dataclass(frozen=True)
class Transcript:
    """One run of a flow: the AMI events and the FastAGI exchange, each in the order seen."""

    ami: list[Frame]
    agi: list[AgiFrame]


def save(path: Path, frames: Iterable[tuple[float, Frame]], agi: Iterable[tuple[float, AgiFrame]] = ()) -> None:
    """One line per AMI event (``h``: its headers) or AGI line (``agi``), in time order."""
    lines = [(t, {"t": round(t, 3), "h": f.headers}) for t, f in frames]
    lines += [(t, {"t": round(t, 3), "agi": a.to_json()}) for t, a in agi]
    lines.sort(key=lambda x: x[0])  # stable: AMI before AGI at the same instant
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for _, d in lines:
            out.write(json.dumps(d, ensure_ascii=False) + "\n")


def load(path: Path) -> Transcript:
    frames, agi = [], []
    for line in path.read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            if "agi" in d:
                agi.append(AgiFrame.from_json(d["agi"]))
            else:
                frames.append(Frame([tuple(h) for h in d["h"]]))  # type: ignore[misc]
    return Transcript(frames, agi)


class _Names:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.channels: dict[str, str] = {}
        self.bridges: dict[str, str] = {}

    def uid(self, v: str) -> str:
        if not v or v in ("<unknown>", "none"):
            return v
        return self.ids.setdefault(v, f"U{len(self.ids) + 1}")

    def channel(self, v: str) -> str:
        if "-" not in v or "@" in v:
            return v  # e.g. OriginateResponse's failed "PJSIP/num@trunk"
        base, _, rest = v.rpartition("-")
        return self.channels.setdefault(v, f"{base}-#{len(self.channels) + 1}{rest[8:]}")

    def bridge(self, v: str) -> str:
        return self.bridges.setdefault(v, f"B{len(self.bridges) + 1}") if v else v


def normalise(frames: Iterable[Frame], names: _Names | None = None) -> list[tuple[str, ...]]:
    names = names if names is not None else _Names()
    out = []
    for f in frames:
        if f.event not in COMPARED:
            continue
        row = [f.event]
        for k in KEY_FIELDS:
            v = f.get(k)
            if k in _ID_FIELDS:
                v = names.uid(v)
            elif k in _CHANNEL_FIELDS:
                v = names.channel(v)
            elif k == "BridgeUniqueid":
                v = names.bridge(v)
            row.append(f"{k}={v}" if v else "")
        out.append(tuple(row))
    return out


@dataclass(frozen=True)
class Score:
    flow: str
    events: int
    matched_events: int
    fields: int
    matched_fields: int
    agi_rows: int = 0
    matched_agi_rows: int = 0
    agi_fields: int = 0
    matched_agi_fields: int = 0

    @property
    def ratio(self) -> float:
        """AMI and AGI together: every field one point."""
        total = self.fields + self.agi_fields
        return (self.matched_fields + self.matched_agi_fields) / total if total else 1.0

    @property
    def ami_ratio(self) -> float:
        return self.matched_fields / self.fields if self.fields else 1.0

    @property
    def agi_ratio(self) -> float:
        return self.matched_agi_fields / self.agi_fields if self.agi_fields else 1.0


def _align(a: list[tuple[str, ...]], b: list[tuple[str, ...]], width: int) -> tuple[int, int, int, int]:
    """Rows aligned by name (order matters); equal fields inside aligned rows. Returns rows, matched rows,
    fields, matched fields: every field of every real row is one point, a row missing from the replay loses
    all its points, an extra row in the replay costs the points of a real row."""
    sm = difflib.SequenceMatcher(a=[r[0] for r in a], b=[r[0] for r in b], autojunk=False)
    matched_rows = matched_fields = 0
    for block in sm.get_matching_blocks():
        for i in range(block.size):
            ra, rb = a[block.a + i], b[block.b + i]
            matched_rows += 1
            matched_fields += sum(1 for x, y in zip(ra, rb, strict=True) if x == y)
    total = max(len(a), len(b))
    return total, matched_rows, total * width, matched_fields


def _rows(t: Transcript) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    names = _Names()  # shared: an AGI argument naming a channel or uniqueid gets the AMI side's name
    ami = normalise(t.ami, names)
    return ami, agi_transcript.rows(t.agi, names)


def compare(flow: str, real: Transcript, replay: Transcript) -> Score:
    """Align AMI events by name and AGI rows by command, then count equal fields inside aligned rows."""
    (a, a_agi), (b, b_agi) = _rows(real), _rows(replay)
    ami = _align(a, b, 1 + len(KEY_FIELDS))
    agi = _align(a_agi, b_agi, agi_transcript.WIDTH)
    return Score(flow, *ami, *agi)


def diff(real: Transcript, replay: Transcript) -> str:
    (a, a_agi), (b, b_agi) = _rows(real), _rows(replay)
    out = []
    for what, x, y in (("AMI", a, b), ("AGI", a_agi, b_agi)):
        lines = list(difflib.unified_diff([agi_transcript.text(r) for r in x], [agi_transcript.text(r) for r in y],
                                          f"asterisk {what}", f"virtual {what}", lineterm="", n=1))  # fmt: skip
        out += lines
    return "\n".join(out)


# ---- recording from the real Asterisk ---------------------------------------------------------------


async def _sipp(*args: str, cwd: Path, log_name: str, calls: int = 1) -> asyncio.subprocess.Process:
    from sim.sipp import sipp_binary

    common = ["-i", "127.0.0.1", "-m", str(calls), "-nostdin", "-timeout", "60s", "-trace_msg", "-message_file",
              log_name]  # fmt: skip
    return await asyncio.create_subprocess_exec(
        sipp_binary(), *args, *common, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )


async def _collect(recorder: Any, clock: Any, frames: list[tuple[float, Frame]]) -> None:
    """Every event the recorder's own AMI connection sees, with the time it arrived."""
    while True:
        item = await recorder.queue.get()
        if isinstance(item, Frame | list):  # a list: the events of one read
            frames += [(clock.monotonic(), f) for f in (item if isinstance(item, list) else [item])]


async def _stop(proc: asyncio.subprocess.Process, grace: float) -> None:
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.terminate()
        await proc.wait()


Timed = tuple[list[tuple[float, Frame]], list[tuple[float, AgiFrame]]]


async def record_flow(flow_name: str, site_path: Path, workdir: Path) -> Timed:
    from composition import running
    from engine.app import lab_paths
    from engine.asterisk.ami_link import AmiLink
    from engine.asterisk.fastagi import FastAgiServer
    from engine.clock import RealClock
    from engine.config import load_site
    from sim.flows import flow as get_flow
    from sim.sipp import caller_scenario, make_audio, uas_scenario

    fl = get_flow(flow_name)
    site = load_site(site_path).with_values(
        hotline={"ring_timeout": fl.ring_timeout}, store={"url": f"sqlite+aiosqlite:///{workdir / 'engine.db'}"}
    )
    secret, _ = lab_paths(site)
    clock = RealClock()
    ast = site["asterisk"]
    recorder = AmiLink(ast["ami_host"], ast["ami_port"], ast["ami_user"], secret, clock)
    rec_task = asyncio.create_task(recorder.run(), name="fidelity-recorder")
    await asyncio.wait_for(recorder.ready.wait(), 15)
    frames: list[tuple[float, Frame]] = []
    collector = asyncio.create_task(_collect(recorder, clock, frames), name="fidelity-collect")
    tape = agi_transcript.AgiTape(clock)
    t0 = clock.monotonic()
    (workdir / "callee.xml").write_text(uas_scenario(fl.callee, fl.answer_after))
    try:
        if fl.kind == "inbound":
            audio = make_audio(workdir / "tone.wav")
            (workdir / "caller.xml").write_text(caller_scenario(
                caller="13800138000", tag=fl.name, audio=audio, digit=fl.digit, digit_after=fl.digit_after,
                hangup_after=fl.hangup_after, hold_at=fl.hold_at, hold_for=fl.hold_for))  # fmt: skip
            async with running(site, agi=FastAgiServer(ast["agi_host"], ast["agi_port"], tap=tape)):
                await asyncio.sleep(0.3)
                frames.clear()
                tape.frames.clear()
                t0 = clock.monotonic()
                agent = await _sipp("-sf", "callee.xml", "-p", "5071", "-mp", "16000", "-rtp_echo", cwd=workdir,
                                    log_name="agent.log", calls=3)  # fmt: skip
                await asyncio.sleep(0.3)
                caller = await _sipp("127.0.0.1:5060", "-sf", "caller.xml", "-p", "5080", "-mp", "16100",
                                     "-s", site["hotline"]["number"], cwd=workdir, log_name="caller.log")  # fmt: skip
                await asyncio.wait_for(caller.wait(), 90)
                await asyncio.sleep(fl.settle)
                await _stop(agent, 0.5)
        else:
            callee = await _sipp("-sf", "callee.xml", "-p", "5070", "-mp", "16200", "-rtp_echo", cwd=workdir,
                                 log_name="callee.log")  # fmt: skip
            await asyncio.sleep(0.3)
            frames.clear()
            t0 = clock.monotonic()
            await recorder.action({
                "Action": "Originate", "Channel": f"PJSIP/13900000001@{ast['trunk']}", "Application": "Wait",
                "Data": "2", "Timeout": str(fl.ring_timeout * 1000), "ChannelId": f"fid-{fl.name}",
                "CallerID": f'"Hotline" <{site["hotline"]["number"]}>', "Async": "true",
            })  # fmt: skip
            await _stop(callee, 30)
            await asyncio.sleep(fl.settle)
    finally:
        collector.cancel()
        await recorder.close()
        rec_task.cancel()
    return [(t - t0, f) for t, f in frames], [(t - t0, a) for t, a in tape.frames]


async def record_all(site_path: Path, names: list[str] | None = None, runs: int = 3) -> dict[str, list[int]]:
    """Record every flow ``runs`` times: Asterisk orders some racing events differently from run to run."""
    from sim.flows import FLOWS

    counts: dict[str, list[int]] = {}
    for fl in FLOWS:
        if names and fl.name not in names:
            continue
        folder = FIXTURES / fl.name
        for old in folder.glob("run*.jsonl"):
            old.unlink()
        for n in range(1, runs + 1):
            with tempfile.TemporaryDirectory(prefix=f"fidelity-{fl.name}-") as tmp:
                frames, agi = await record_flow(fl.name, site_path, Path(tmp))
            save(folder / f"run{n}.jsonl", frames, agi)
            counts.setdefault(fl.name, []).append(len(frames))
            log.info("recorded %s run %d: %d events, %d AGI lines", fl.name, n, len(frames), len(agi))
    return counts


def recorded_runs(flow_name: str) -> list[Transcript]:
    return [load(p) for p in sorted((FIXTURES / flow_name).glob("run*.jsonl"))]


def asterisk_self_agreement(flow_name: str) -> float:
    """How alike the real runs are to each other (lowest pairwise score): the ceiling of any replay."""
    runs = recorded_runs(flow_name)
    ratios = [compare(flow_name, a, b).ratio for i, a in enumerate(runs) for b in runs[i + 1 :]]
    return min(ratios, default=1.0)


# ---- replaying through the virtual PBX ---------------------------------------------------------------


async def replay_flow(flow_name: str, site_path: Path, workdir: Path) -> Timed:
    """The same flow with the virtual PBX in place of Asterisk and SIPp; the engine is unchanged."""
    from composition import running
    from engine.asterisk.ami_link import AmiLink
    from engine.asterisk.fastagi import FastAgiServer
    from engine.clock import RealClock
    from engine.config import load_site
    from sim.flows import flow as get_flow
    from sim.pbx.model import CalleeBehavior, CallerScript
    from sim.pbx.server import VirtualPbxServer

    fl = get_flow(flow_name)
    clock = RealClock()
    server = VirtualPbxServer(clock, workdir)
    await server.start()
    site = server.engine_site(load_site(site_path), workdir / "engine.db", hotline={"ring_timeout": fl.ring_timeout})
    behavior = CalleeBehavior(fl.callee, fl.answer_after)
    for agent in site.agents:
        server.pbx.endpoints[agent.endpoint] = behavior
    server.pbx.trunk_callee = lambda number: behavior
    recorder = AmiLink("127.0.0.1", server.ami.port, "engine", server.secret, clock)
    rec_task = asyncio.create_task(recorder.run(), name="fidelity-recorder")
    frames: list[tuple[float, Frame]] = []
    tape = agi_transcript.AgiTape(clock)
    t0 = clock.monotonic()
    try:
        await asyncio.wait_for(recorder.ready.wait(), 10)
        collector = asyncio.create_task(_collect(recorder, clock, frames), name="fidelity-collect")
        if fl.kind == "inbound":
            digits = [(fl.digit_after, fl.digit)] if fl.digit else []
            holds = [(fl.digit_after + fl.hold_at, fl.hold_for)] if fl.hold_at is not None else []
            script = CallerScript(did=site["hotline"]["number"], digits=digits,
                                  hangup_at=fl.digit_after + fl.hangup_after, holds=holds)  # fmt: skip
            agi = FastAgiServer(site["asterisk"]["agi_host"], site["asterisk"]["agi_port"], tap=tape)
            async with running(site, agi=agi) as eng:
                server.agi.port = eng.agi.port
                await asyncio.sleep(0.3)
                frames.clear()
                tape.frames.clear()
                t0 = clock.monotonic()
                ch = server.pbx.inbound(script)
                while ch.uniqueid in server.pbx.channels or any(server.pbx.channels):
                    await asyncio.sleep(0.1)
                await asyncio.sleep(fl.settle)
        else:
            frames.clear()
            t0 = clock.monotonic()
            await recorder.action({
                "Action": "Originate", "Channel": f"PJSIP/13900000001@{site['asterisk']['trunk']}",
                "Application": "Wait", "Data": "2", "Timeout": str(fl.ring_timeout * 1000),
                "ChannelId": f"fid-{fl.name}", "CallerID": f'"Hotline" <{site["hotline"]["number"]}>',
                "Async": "true",
            })  # fmt: skip
            await asyncio.sleep(0.2)
            while server.pbx.channels:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
        collector.cancel()
    finally:
        await recorder.close()
        rec_task.cancel()
        await server.close()
    return [(t - t0, f) for t, f in frames], [(t - t0, a) for t, a in tape.frames]


async def replay_all(site_path: Path, names: list[str] | None = None) -> dict[str, Timed]:
    """Every flow (or the named ones) replayed once through the virtual PBX, in ``FLOWS``' order."""
    from sim.flows import FLOWS

    replays = {}
    for fl in FLOWS:
        if names and fl.name not in names:
            continue
        with tempfile.TemporaryDirectory(prefix=f"replay-{fl.name}-") as tmp:
            replays[fl.name] = await replay_flow(fl.name, site_path, Path(tmp))
    return replays


def score_replays(replays: dict[str, Timed], show_diff: bool = False) -> list[Score]:
    """Each replay scored against the closest of its flow's recorded runs."""
    scores = []
    for name, (frames, agi) in replays.items():
        replay = Transcript([f for _, f in frames], [a for _, a in agi])
        # the closest real run: a replay cannot be asked to pick the same side of a race every time
        score, real = max(((compare(name, r, replay), r) for r in recorded_runs(name)), key=lambda x: x[0].ratio)
        scores.append(score)
        if show_diff and score.ratio < 1.0:
            print(f"--- {name} ---")
            print(diff(real, replay))
    return scores


async def score_all(site_path: Path, names: list[str] | None = None, show_diff: bool = False) -> list[Score]:
    from sim.flows import FLOWS

    for fl in FLOWS:  # a missing transcript is named before any replay runs
        if (not names or fl.name in names) and not recorded_runs(fl.name):
            raise FileNotFoundError(f"no transcript for {fl.name} in {FIXTURES}: run `hotline sim fidelity --record`")
    return score_replays(await replay_all(site_path, names), show_diff)


def overall(scores: list[Score]) -> float:
    fields = sum(s.fields + s.agi_fields for s in scores)
    return sum(s.matched_fields + s.matched_agi_fields for s in scores) / fields if fields else 1.0


def table(scores: list[Score]) -> str:
    lines = [f"{'flow':<22} {'events':>6} {'matched':>7} {'AMI':>6} {'AGI rows':>8} {'matched':>7} {'AGI':>6} "
             f"{'score':>6} {'asterisk vs itself':>18}"]  # fmt: skip
    for s in scores:
        lines.append(f"{s.flow:<22} {s.events:>6} {s.matched_events:>7} {s.ami_ratio:>6.1%} {s.agi_rows:>8} "
                     f"{s.matched_agi_rows:>7} {s.agi_ratio:>6.1%} {s.ratio:>6.1%} "
                     f"{asterisk_self_agreement(s.flow):>18.1%}")  # fmt: skip
    ami = sum(s.matched_fields for s in scores) / max(1, sum(s.fields for s in scores))
    agi = sum(s.matched_agi_fields for s in scores) / max(1, sum(s.agi_fields for s in scores))
    lines.append(f"fidelity score: {overall(scores):.1%} of key fields in order (AMI {ami:.1%}, AGI {agi:.1%}), "
                 f"over {len(scores)} flows")  # fmt: skip
    return "\n".join(lines)
