"""Ledger appends: a SQLite file's own writer and SQLAlchemy's statement (other databases) store the same rows."""

import asyncio

import pytest

from engine.model.facts import Fact
from engine.store.store import Store, migrate


def _facts(n: int, prefix: str = "k") -> list[Fact]:
    return [Fact("test.fact", float(i), f"c{i % 3}", f"u{i}", f"{prefix}{i}", {"i": i, "caller": "+8613800138000"})
            for i in range(n)]  # fmt: skip


@pytest.mark.parametrize("writer", ["sqlite", "sqlalchemy"])
def test_append_counts_new_facts_keeps_the_first_of_a_key_and_the_order(tmp_path, writer):
    url = f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    migrate(url)

    async def main() -> tuple[list[int], list[Fact]]:
        store = Store(url)
        if writer == "sqlalchemy":
            store._ledger = None  # the statement used for PostgreSQL
        try:
            first = _facts(9000)  # more than one page of rows
            twice = [Fact("test.fact", 9.0 + n, "c", "u", "dup", {"n": n}) for n in (1, 2)]
            counts = [await store.append(first, 1.0), await store.append(first[:10] + _facts(5, "z"), 2.0),
                      await store.append(twice, 3.0), await store.append([], 4.0)]  # fmt: skip
            return counts, await store.facts(kinds=("test.fact",))
        finally:
            await store.close()

    counts, stored = asyncio.run(main())
    assert counts == [9000, 5, 1, 0]
    assert [f.key for f in stored] == [f"k{i}" for i in range(9000)] + [f"z{i}" for i in range(5)] + ["dup"]
    assert stored[0] == _facts(1)[0], "every field comes back as written"
    assert stored[-1].data == {"n": 1}, "the first fact of a key wins, within a batch too"


def test_the_sqlite_writer_and_the_engines_own_connections_share_the_file(tmp_path):
    """Facts appended are seen at once by the other connections (records, reports), which also write."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    migrate(url)

    async def main() -> tuple[int, int]:
        store = Store(url)
        try:
            writes = [store.append(_facts(50, f"b{j}-"), 1.0) for j in range(8)]
            writes.append(store.update_record("c1"))
            await asyncio.gather(*writes)
            return len(await store.facts(kinds=("test.fact",))), len(await store.facts(call_id="c1"))
        finally:
            await store.close()

    total, of_c1 = asyncio.run(main())
    assert total == 400
    assert of_c1 == sum(1 for i in range(50) if i % 3 == 1) * 8
