"""The degraded-call import reads Asterisk's whole CDR file, which outlives any one database: a new ledger
must not count the calls of earlier runs (another site file's, an old database's). Real SQLite stores."""

import asyncio
import time
from pathlib import Path

from engine.clock import VirtualClock
from engine.model.facts import Fact
from engine.store.store import Store, migrate
from ivr.degraded import DegradedCounter
from sim.vtime import MemoryStore


def _row(uniqueid: str, caller: str, tag: str = "hotline-degraded") -> str:
    return (f'"","{caller}","4001234567","engine-degraded","","PJSIP/trunk-1","PJSIP/agent1001-2","Dial",'
            f'"PJSIP/agent1001,30","2027-01-15 10:00:00","2027-01-15 10:00:09","2027-01-15 10:00:20",20,11,'
            f'"ANSWERED","DOCUMENTATION","{uniqueid}","{tag}"\n')  # fmt: skip


class _Ledger:
    """What the counter uses of the engine's ledger: the fact writer and reader over the store."""

    def __init__(self, store: Store, clock: VirtualClock) -> None:
        self.store, self.clock, self.facts_written = store, clock, 0

    async def record(self, facts: list[Fact]) -> None:
        self.facts_written += await self.store.append(facts, self.clock.now())

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: object) -> None:
        await self.record([Fact(kind, self.clock.now(), call_id, uniqueid, key, data)])

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]:  # fmt: skip
        return await self.store.facts(call_id, kinds, since)


async def _scan(store: Store | MemoryStore, now: float, cdr: Path) -> tuple[int, list[str]]:
    clock = VirtualClock(now)
    counter = DegradedCounter(_Ledger(store, clock), store, clock, cdr)
    new = await counter.scan()
    return new, sorted(f.data["caller"] for f in await store.facts(None, ("ivr.degraded",)))


def _sqlite(url: str, now: float, cdr: Path) -> tuple[int, list[str]]:
    async def go() -> tuple[int, list[str]]:
        store = Store(url)  # a new Store each time: the engine restarted
        try:
            return await _scan(store, now, cdr)
        finally:
            await store.close()

    return asyncio.run(go())


def test_a_new_database_imports_only_calls_after_its_creation(tmp_path):
    cdr = tmp_path / "Master.csv"
    now = time.time()
    # calls of earlier runs (another site file's, an old database's): a day and a minute before this store
    cdr.write_text(_row(f"{int(now - 86400)}.1", "13800000001") + _row(f"{int(now - 60)}.7", "13800000002"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    migrate(url)
    # the engine started and stopped before its first scan; a call took the degraded menu after that: the
    # store's creation is the watermark, not the first scan, so the call counts when the engine is back
    with cdr.open("a") as f:
        f.write(_row(f"{int(now + 100)}.9", "13800000003"))  # degraded while the engine was away
        f.write(_row(f"{int(now + 150)}.2", "13800000005", tag=""))  # untagged rows never count
    assert _sqlite(url, now + 5000, cdr) == (1, ["13800000003"])
    assert _sqlite(url, now + 5010, cdr) == (0, ["13800000003"])


def test_a_store_without_a_creation_fact_starts_at_its_first_scan():
    async def go() -> list[tuple[int, list[str]]]:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            cdr = Path(tmp) / "Master.csv"
            t0 = 1_800_000_000.0
            cdr.write_text(_row(f"{int(t0 - 3600)}.1", "13800000001"))
            store = MemoryStore()
            out = [await _scan(store, t0, cdr)]
            with cdr.open("a") as f:
                f.write(_row(f"{int(t0 + 100)}.4", "13800000004"))
            out.append(await _scan(store, t0 + 900, cdr))  # a later scan keeps the first scan's watermark
            return out

    assert asyncio.run(go()) == [(0, []), (1, ["13800000004"])]
