"""The engine applies the AMI events waiting together as one batch: one ledger write for their facts, and the same
ledger, records, hooks and watchers as one event at a time (a real transcript, fed both ways)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engine import app
from engine.app import Engine, take_batch
from engine.asterisk.ami_codec import Frame
from engine.clock import VirtualClock
from engine.config import load_site
from engine.model.facts import Fact
from sim.fidelity import FIXTURES, load
from sim.vtime import MemoryStore

ROOT = Path(__file__).parents[1]


class CountingStore(MemoryStore):
    """The memory store, yielding inside each write (as a real one does) and keeping what each write held."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[list[str]] = []

    async def append(self, facts: list[Fact], recorded_at: float) -> int:
        for _ in range(20):  # a write takes a while: other tasks run meanwhile
            await asyncio.sleep(0)
        self.writes.append([f.key for f in facts])
        return await super().append(facts, recorded_at)


def _engine() -> tuple[Engine, CountingStore, list[list[str]]]:
    site = load_site(ROOT / "examples" / "lab-site.toml")
    store = CountingStore()
    eng = Engine(site, VirtualClock(start=1_796_134_000.0), SimpleNamespace(queue=asyncio.Queue()), None, store)  # type: ignore[arg-type]
    told: list[list[str]] = []
    eng.fact_hooks.append(lambda facts: told.append([f.key for f in facts]))
    return eng, store, told


def _frames() -> list[Frame]:
    """Every canonical flow's first recorded run, one after the other."""
    return [f for path in sorted(FIXTURES.glob("*/run1.jsonl")) for f in load(path).ami]


async def _settle(eng: Engine) -> None:
    """Until the engine waits for the next event, then a little longer (end-of-call hooks run as tasks)."""
    queue = eng.link.queue
    for _ in range(100_000):
        await asyncio.sleep(0)
        if queue.empty() and queue._getters:  # type: ignore[attr-defined]  # the consumer waits on it
            break
    for _ in range(100):
        await asyncio.sleep(0)


async def _run(frames: list[Frame], how: str) -> dict[str, Any]:
    eng, store, told = _engine()
    ended: list[tuple[str, list[str]]] = []

    async def on_end(call_id: str) -> None:  # what the ledger held when the call's end hooks ran
        ended.append((call_id, [f.key for f in store._facts]))

    eng.call_end_hooks.append(on_end)
    consumer = asyncio.create_task(eng.consume())
    if how == "together":
        for f in frames:
            eng.link.queue.put_nowait(f)
    elif how == "bursts":  # reads arriving while the last batch's write still runs
        for i in range(0, len(frames), 7):
            for f in frames[i : i + 7]:
                eng.link.queue.put_nowait(f)
            await asyncio.sleep(0)
    else:
        for f in frames:
            eng.link.queue.put_nowait(f)
            await _settle(eng)
    await _settle(eng)
    consumer.cancel()
    records = {cid: (await store.update_record(cid)) for cid in {f.call_id for f in store._facts}}
    return {"ledger": [f.key for f in store._facts], "writes": store.writes, "told": told, "ended": ended,
            "records": {k: r.as_row() if r else None for k, r in records.items()}}  # fmt: skip


def test_a_batch_leaves_the_ledger_records_and_call_ends_as_one_event_at_a_time():
    frames = _frames()
    one = asyncio.run(_run(frames, "one"))
    assert len(one["ledger"]) > 50 and any(one["records"].values()) and one["ended"]
    for how in ("together", "bursts"):
        batch = asyncio.run(_run(frames, how))
        assert batch["ledger"] == one["ledger"], how
        assert batch["records"] == one["records"], how
        assert batch["ended"] == one["ended"], f"{how}: a call ends with all its facts written"
        assert len(batch["writes"]) < len(one["writes"]), "facts waiting together share a write"
        assert batch["told"] == batch["writes"], "the fact hooks hear each write once, as it was written"
        ends = [i for i, w in enumerate(batch["writes"]) if any(k.startswith("call.end:") for k in w)]
        assert ends and all(any(k.startswith("channel.hangup:") for k in batch["writes"][i - 1]) for i in ends), (
            "a hang-up's facts are written before its call's end")


def test_a_batch_is_written_in_parts_a_bus_subscriber_can_take_whole(monkeypatch):
    frames = _frames()
    one = asyncio.run(_run(frames, "one"))
    monkeypatch.setattr(app, "WRITE_FACTS", 4)
    for how in ("together", "bursts"):
        batch = asyncio.run(_run(frames, how))
        assert batch["ledger"] == one["ledger"] and batch["records"] == one["records"], how
        assert max(len(w) for w in batch["writes"]) < 4 + 3, "at most the limit and one event's facts"
        assert sum(len(w) >= 4 for w in batch["writes"]) > 5


def test_a_failed_write_stops_the_consumer():
    class Failing(CountingStore):
        async def append(self, facts: list[Fact], recorded_at: float) -> int:
            if self.writes:
                raise OSError("disk full")
            return await super().append(facts, recorded_at)

    async def main() -> BaseException | None:
        eng, _, _ = _engine()
        eng.store = Failing()
        consumer = asyncio.create_task(eng.consume())
        frames = _frames()
        for i in range(0, 60, 20):
            for f in frames[i : i + 20]:
                eng.link.queue.put_nowait(f)
            await asyncio.sleep(0)
        done, _ = await asyncio.wait([consumer], timeout=5)
        return consumer.exception() if done else None

    assert isinstance(asyncio.run(main()), OSError)


def test_a_watcher_is_woken_by_a_state_that_lasted_one_event_of_a_batch_after_its_facts_are_written():
    async def main() -> tuple[bool, list[str], int]:
        eng, store, _ = _engine()
        consumer = asyncio.create_task(eng.consume())
        new = Frame([("Event", "Newchannel"), ("Uniqueid", "9.1"), ("Linkedid", "9.1"), ("Channel", "PJSIP/x-1"),
                     ("Context", "from-trunk"), ("ChannelState", "4"), ("Timestamp", "1796134001.0")])  # fmt: skip
        gone = Frame([("Event", "Hangup"), ("Uniqueid", "9.1"), ("Cause", "16"), ("Timestamp", "1796134002.0")])
        seen: list[str] = []

        async def wait() -> bool:
            # the virtual clock never moves here: only a wake-up can end this wait
            woken = await eng.until(lambda: "9.1" in eng.model.channels, 60)
            seen.extend(f.key for f in store._facts)
            return woken

        waiter = asyncio.create_task(wait())
        await _settle(eng)
        for f in (new, gone):
            eng.link.queue.put_nowait(f)
        await _settle(eng)
        consumer.cancel()
        return await asyncio.wait_for(waiter, 1), seen, len(eng._watchers)

    woken, seen, left = asyncio.run(main())
    assert woken is False, "the channel came and went within the batch: the waiter sees it gone"
    assert "channel.new:9.1" in seen, "its facts were written before it woke"
    assert left == 0


def test_take_batch_takes_what_waits_up_to_the_limit():
    async def main() -> list[list[int]]:
        q: asyncio.Queue[int] = asyncio.Queue()
        for i in range(7):
            q.put_nowait(i)
        return [await take_batch(q, 3), await take_batch(q, 3), await take_batch(q, 3)]

    assert asyncio.run(main()) == [[0, 1, 2], [3, 4, 5], [6]]
