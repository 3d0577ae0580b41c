"""`hotline bench events`: the AMI path's speed, this engine's whole path against panoramisk's parse alone.

The bytes are the real Asterisk 22 transcripts of the canonical flows (``tests/fixtures/ami``, recorded from the
lab by ``hotline sim fidelity --record``), written back to the wire form Asterisk sends (``Key: Value`` lines
with CRLF, an empty line after each message, the banner first) and repeated until there are at least
``events`` messages. Each repetition gets its own Uniqueids, Linkedids and bridge ids (numbered on, as one
Asterisk's counter would) and later timestamps, so the call model learns new channels every time instead of
ignoring events of channels it already saw hang up.

Both paths are fed the same bytes in the same chunks (one TCP read each, ``chunk`` bytes):

* ``panoramisk_parse``: panoramisk 1.4's own ``AMIProtocol.data_received`` (decode, split on the empty line,
  ``Message.from_line``), its message handling replaced by a counter: the parse alone, no dispatch;
* ``full_path``: the engine's own code from the read to the wallboard: the AMI link's protocol
  (``AmiDecoder``, which passes over unparsed the events none of the engine's readers use, as the composition
  root wires them: the call model, the ACD's and the dialer's hooks; response matching, the link's queue),
  ``Engine.consume`` (``CallModel.apply``, the facts of what waited together written in one transaction to the
  ledger on a SQLite file, the fact hooks) and the live
  feed publishing every fact on the bus, with a subscriber draining it; timed from the first read to the
  subscriber holding the last fact. One thing is left out: at a call's end the engine derives its record
  (three queries per call, about one call per 40 events here), which is not the event path;
* ``decoder``: the ``AmiDecoder`` alone on the same chunks, every event parsed, to show where the time goes.

The heap is settled first as ``hotline run`` does (``engine.heap``). The machine may be shared and noisy, so
the paths run in alternation for ``rounds`` rounds and each figure is the median; the ratio is full path ÷
panoramisk's parse.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from acd.dispatcher import Dispatcher
from dialer.dialing import DialPath
from engine import heap
from engine.app import Engine
from engine.asterisk.ami_codec import AmiDecoder, Frame, encode_frame
from engine.clock import RealClock
from engine.live.bus import Bus, Change
from engine.live.feed import LiveFeed
from engine.live.tally import ServiceDay
from engine.model.facts import Fact
from engine.store.store import Store, migrate

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
CHUNK = 64 * 1024  # bytes per read: what a busy TCP link hands the protocol at a time
GOAL_RATIO = 1.0  # the full path at least as fast as panoramisk's parse alone
WARM_UP = 8  # reads
_ID_FIELDS = frozenset({"uniqueid", "linkedid", "destuniqueid", "destlinkedid"})


@dataclass(frozen=True)
class Stream:
    data: bytes
    events: int  # AMI messages in ``data``
    base_events: int  # messages of one pass over the transcripts
    runs: int  # transcript files read
    repetitions: int


def transcript(fixtures: Path | None = None) -> list[list[list[tuple[str, str]]]]:
    """Every recorded run's AMI messages (headers in wire order), flow by flow, run by run."""
    from sim.fidelity import FIXTURES, load

    paths = sorted((fixtures or FIXTURES).glob("*/run*.jsonl"))
    if not paths:
        raise FileNotFoundError(f"no AMI transcripts under {fixtures or FIXTURES}")
    return [[list(f.headers) for f in load(p).ami] for p in paths]


def _renamer(runs: list[list[list[tuple[str, str]]]]) -> Callable[[int], list[list[tuple[str, str]]]]:
    """Pass ``r`` over the runs with ids of its own: each run's ids (the originate flows name their channels
    alike in every run) numbered on as one Asterisk's counter would, its bridges likewise, times moved on."""
    ids: dict[tuple[int, str], int] = {}
    bridges: dict[tuple[int, str], int] = {}
    stamps = []
    for i, run in enumerate(runs):
        for headers in run:
            for k, v in headers:
                lk = k.lower()
                if lk in _ID_FIELDS and v and v not in ("<unknown>", "none"):
                    ids.setdefault((i, v), len(ids))
                elif lk == "bridgeuniqueid" and v:
                    bridges.setdefault((i, v), len(bridges))
                elif lk == "timestamp":
                    stamps.append(float(v))
    epoch = str(int(min(stamps))) if stamps else "1800000000"
    span = (max(stamps) - min(stamps) + 1.0) if stamps else 1.0

    def rep(r: int) -> list[list[tuple[str, str]]]:
        out = []
        for i, run in enumerate(runs):
            for headers in run:
                row = []
                for k, v in headers:
                    lk = k.lower()
                    if lk in _ID_FIELDS and (i, v) in ids:
                        v = f"{epoch}.{r * len(ids) + ids[i, v]}"
                    elif lk == "bridgeuniqueid" and (i, v) in bridges:
                        v = f"{r * len(bridges) + bridges[i, v]:08x}-0000-4000-8000-000000000000"
                    elif lk == "timestamp":
                        v = f"{float(v) + r * span:.6f}"
                    row.append((k, v))
                out.append(row)
        return out

    return rep


def build_stream(min_events: int, fixtures: Path | None = None) -> Stream:
    runs = transcript(fixtures)
    rep = _renamer(runs)
    per_pass = sum(len(run) for run in runs)
    parts = [BANNER]
    r = 0
    while r * per_pass < min_events:
        parts += [encode_frame(h) for h in rep(r)]
        r += 1
    return Stream(b"".join(parts), r * per_pass, per_pass, len(runs), r)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# ---- panoramisk's parse -------------------------------------------------------------------------------------
def panoramisk_parse(chunks: list[bytes]) -> tuple[int, float]:
    """Messages parsed and seconds taken by panoramisk's own protocol code."""
    from panoramisk.ami_protocol import AMIProtocol

    class Counting(AMIProtocol):
        def handle_message(self, message: Any) -> None:
            self.parsed += 1

    proto = Counting()
    proto.connection_made(None)
    proto.parsed = 0
    t0 = time.perf_counter()
    for c in chunks:
        proto.data_received(c)
    return proto.parsed, time.perf_counter() - t0


def decoder_only(chunks: list[bytes]) -> tuple[int, float]:
    decoder = AmiDecoder()
    n = 0
    t0 = time.perf_counter()
    for c in chunks:
        for item in decoder.feed(c):
            if isinstance(item, Frame):
                n += 1
    return n, time.perf_counter() - t0


# ---- the full path ------------------------------------------------------------------------------------------
class _EventPath(Engine):
    """The engine's own event path; a call's end derives no record here (three queries per call, after it)."""

    def _ending(self, facts: list[Fact]) -> list[Fact]:
        return []


# one more event after the stream: when its fact reaches the subscriber, everything before it has
END = encode_frame([("Event", "Newchannel"), ("Channel", "Local/bench-end"), ("ChannelState", "0"),
                    ("Context", "bench"), ("Uniqueid", "bench-end"), ("Linkedid", "bench-end")])  # fmt: skip


async def _full_path(chunks: list[bytes], url: str) -> dict[str, Any]:
    from engine.asterisk.ami_link import AmiLink, _Protocol

    clock = RealClock()
    link = AmiLink("bench", 0, "bench", "", clock)
    store = Store(url)
    eng = _EventPath(None, clock, link, None, store)  # type: ignore[arg-type]  # consume() needs no site or AGI
    # the engine's readers as the composition root wires them: the ACD's and the dialer's event hooks
    eng.on_events(Dispatcher.EVENTS, lambda frame: None)
    eng.on_events(DialPath.EVENTS, lambda frame: None)
    protocol = _Protocol(link)  # the link's own protocol: decoder, response matching, the engine's queue
    protocol.connection_made(None)  # type: ignore[arg-type]  # no socket: the reads come from the transcript
    bus = Bus()

    async def no_records() -> list[dict[str, Any]]:
        return []

    feed = LiveFeed(bus, clock, ServiceDay({}, "UTC"), today=no_records, queues=dict)
    writes = [0, 0]  # transactions, facts
    finished = asyncio.Event()

    def written(facts: list[Fact]) -> None:
        writes[0] += 1
        writes[1] += len(facts)
        if facts[-1].call_id == "bench-end":
            finished.set()

    eng.fact_hooks += [written, feed.on_facts]  # as the composition root wires the live feed
    sub = bus.subscribe(limit=100_000, name="bench")  # room for every change: none is skipped
    delivered = 0

    async def subscriber() -> None:
        nonlocal delivered
        async for change in sub:
            delivered += isinstance(change, Change)

    reader = asyncio.create_task(subscriber(), name="bench-subscriber")
    consumer = asyncio.create_task(eng.consume(), name="call-model")
    try:
        await asyncio.sleep(0)  # the subscriber takes its (empty) snapshot
        t0 = time.perf_counter()
        for c in [*chunks, END]:
            protocol.data_received(c)
            await asyncio.sleep(0)  # one read per turn of the loop, as the transport delivers them
        await finished.wait()
        while sub.pending():  # the subscriber has the last change too
            await asyncio.sleep(0)
        seconds = time.perf_counter() - t0
    finally:
        consumer.cancel()
        sub.close()
        reader.cancel()
        await asyncio.gather(consumer, reader, return_exceptions=True)
        await store.close()
    # every message read counts, those the engine's readers have no use for too (passed over as in production)
    return {"events": link.stats.events + link.stats.skipped - 1, "skipped": link.stats.skipped,
            "seconds": seconds, "facts": writes[1] - 1,
            "facts_written": eng.facts_written - 1, "batches": writes[0], "bus_changes": delivered - 1,
            "resnapshots": sub.resnapshots}  # fmt: skip


def full_path(chunks: list[bytes], workdir: Path) -> dict[str, Any]:
    """One round on a fresh SQLite file (its migration not timed)."""
    path = workdir / f"ledger-{time.monotonic_ns()}.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)
    return asyncio.run(_full_path(chunks, url))


# ---- the benchmark ------------------------------------------------------------------------------------------
def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def bench_events(events: int = 50_000, rounds: int = 3, chunk: int = CHUNK,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:  # fmt: skip
    stream = build_stream(events)
    chunks = _chunks(stream.data, chunk)
    say = progress or (lambda _: None)
    say(f"events bench: {stream.events:,} AMI events ({stream.repetitions} x {stream.base_events} from "
        f"{stream.runs} recorded runs), {len(stream.data) / 1e6:.1f} MB in {len(chunks)} reads of {chunk} bytes, "
        f"{rounds} round(s)")  # fmt: skip
    pano: list[tuple[int, float]] = []
    dec: list[tuple[int, float]] = []
    full: list[dict[str, Any]] = []
    for name in ("hotline", "panoramisk"):  # no per-message log lines in either path
        logging.getLogger(name).setLevel(logging.WARNING)
    heap.settle()  # as `hotline run` does once the engine is built
    try:
        with tempfile.TemporaryDirectory(prefix="hotline-bench-events-") as tmp:
            warm = chunks[:WARM_UP]  # each path once on a few reads first, not counted: imports, first calls
            panoramisk_parse(warm)
            full_path(warm, Path(tmp))
            decoder_only(warm)
            for i in range(rounds):
                pano.append(panoramisk_parse(chunks))
                full.append(full_path(chunks, Path(tmp)))
                dec.append(decoder_only(chunks))
                say(f"  round {i + 1}/{rounds}: panoramisk parse {_rate(*pano[-1]):,.0f} events/s, full path "
                    f"{_rate(full[-1]['events'], full[-1]['seconds']):,.0f} events/s, decoder alone "
                    f"{_rate(*dec[-1]):,.0f} events/s")  # fmt: skip
    finally:
        gc.unfreeze()  # called from a longer-lived process (a test), its heap goes back to the collector

    def median_rate(rows: list[tuple[int, float]]) -> float:
        return round(statistics.median(_rate(n, s) for n, s in rows), 1)

    f_rate = median_rate([(r["events"], r["seconds"]) for r in full])
    p_rate = median_rate(pano)
    last = full[-1]
    return {
        "transcript": {"runs": stream.runs, "base_events": stream.base_events, "repetitions": stream.repetitions,
                       "bytes": len(stream.data), "chunk_bytes": chunk, "reads": len(chunks)},
        "rounds": rounds,
        "events": stream.events,
        "panoramisk_parse": {"events": pano[-1][0], "events_per_s": p_rate, "version": metadata.version("panoramisk"),
                             "rounds_events_per_s": [_rate(*x) for x in pano]},
        "full_path": {"events": last["events"], "events_per_s": f_rate, "skipped": last["skipped"],
                      "facts": last["facts"],
                      "facts_written": last["facts_written"], "batches": last["batches"],
                      "bus_changes": last["bus_changes"], "resnapshots": last["resnapshots"],
                      "rounds_events_per_s": [_rate(r["events"], r["seconds"]) for r in full]},
        "decoder": {"events": dec[-1][0], "events_per_s": median_rate(dec),
                    "rounds_events_per_s": [_rate(*x) for x in dec]},
        "ratio": round(f_rate / p_rate, 3) if p_rate else None,
        "rounds_ratio": [round(r["events"] / r["seconds"] * p[1] / p[0], 3) for r, p in zip(full, pano, strict=True)],
        "goal_ratio": GOAL_RATIO,
    }  # fmt: skip


def print_events(report: dict[str, Any]) -> None:
    p, f, d = report["panoramisk_parse"], report["full_path"], report["decoder"]
    print(f"{'path':<22} {'events':>8} {'events/s':>10}")
    print(f"{'panoramisk ' + p['version'] + ' parse':<22} {p['events']:>8,} {p['events_per_s']:>10,.0f}")
    print(f"{'full path':<22} {f['events']:>8,} {f['events_per_s']:>10,.0f}")
    print(f"{'our decoder alone':<22} {d['events']:>8,} {d['events_per_s']:>10,.0f}")
    print(f"full path: {f['facts']:,} facts in {f['batches']:,} transactions ({f['facts_written']:,} new), "
          f"{f['bus_changes']:,} bus changes delivered ({f['resnapshots']} resnapshots)")  # fmt: skip
    print(f"full path / panoramisk parse: {report['ratio']}x (goal >= {report['goal_ratio']}x)")


def main(args: Any) -> int:
    report = bench_events(args.events, args.rounds, args.chunk, progress=lambda s: print(s, flush=True))
    print_events(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"figures written to {args.json}")
    same = report["full_path"]["events"] == report["panoramisk_parse"]["events"] == report["events"]
    if not same:
        print("the paths did not count the same events", flush=True)
    return 0 if same else 1
