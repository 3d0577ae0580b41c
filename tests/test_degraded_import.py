"""The degraded-call import reads Asterisk's whole CDR file, which outlives any one database: a new ledger
must not count the calls of earlier runs (another site file's, an old database's). Real SQLite stores."""

import asyncio
from pathlib import Path

from engine.clock import VirtualClock
from engine.model.facts import Fact
from engine.store.store import Store, migrate
from ivr.degraded import DegradedCounter

T0 = 1_800_000_000.0


def _row(uniqueid: str, caller: str, tag: str = "hotline-degraded") -> str:
    return (f'"","{caller}","4001234567","engine-degraded","","PJSIP/trunk-1","PJSIP/agent1001-2","Dial",'
            f'"PJSIP/agent1001,30","2027-01-15 10:00:00","2027-01-15 10:00:09","2027-01-15 10:00:20",20,11,'
            f'"ANSWERED","DOCUMENTATION","{uniqueid}","{tag}"\n')  # fmt: skip


class _Engine:
    """What the counter uses of the engine: a clock, the store and the fact writer."""

    def __init__(self, store: Store, clock: VirtualClock) -> None:
        self.store, self.clock, self.facts_written = store, clock, 0

    async def record(self, facts: list[Fact]) -> None:
        self.facts_written += await self.store.append(facts, self.clock.now())

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: object) -> None:
        await self.record([Fact(kind, self.clock.now(), call_id, uniqueid, key, data)])


async def _scan(url: str, now: float, cdr: Path) -> tuple[int, list[str]]:
    store = Store(url)
    try:
        counter = DegradedCounter(_Engine(store, VirtualClock(now)), cdr)  # type: ignore[arg-type]
        new = await counter.scan()
        return new, sorted(f.data["caller"] for f in await store.facts(None, ("ivr.degraded",)))
    finally:
        await store.close()


def test_a_new_database_imports_only_calls_after_its_first_watch(tmp_path):
    cdr = tmp_path / "Master.csv"
    # calls of earlier runs, a day and a minute before this database existed
    cdr.write_text(_row(f"{int(T0 - 86400)}.1", "13800000001") + _row(f"{int(T0 - 60)}.7", "13800000002"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    migrate(url)
    assert asyncio.run(_scan(url, T0, cdr)) == (0, [])
    # a degraded call while this site's engine was away, then the engine back 200 s after its first start
    with cdr.open("a") as f:
        f.write(_row(f"{int(T0 + 100)}.9", "13800000003"))
    assert asyncio.run(_scan(url, T0 + 200, cdr)) == (1, ["13800000003"])
    # a restart much later: the watermark is the store's, so a call made while it was down still counts
    with cdr.open("a") as f:
        f.write(_row(f"{int(T0 + 3000)}.2", "13800000004"))
    assert asyncio.run(_scan(url, T0 + 5000, cdr)) == (1, ["13800000003", "13800000004"])
    assert asyncio.run(_scan(url, T0 + 5010, cdr)) == (0, ["13800000003", "13800000004"])


def test_another_site_starting_later_takes_none_of_the_earlier_calls(tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text("")
    first = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    second = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
    migrate(first)
    migrate(second)
    assert asyncio.run(_scan(first, T0, cdr)) == (0, [])
    cdr.write_text(_row(f"{int(T0 + 100)}.9", "13800000003") + _row(f"{int(T0 + 200)}.1", "13800000005", tag=""))
    assert asyncio.run(_scan(first, T0 + 300, cdr)) == (1, ["13800000003"])  # untagged rows never count
    assert asyncio.run(_scan(second, T0 + 400, cdr)) == (0, [])
