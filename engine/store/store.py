"""The store: append facts to the ledger (idempotently), derive and rebuild call records."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from engine.model.facts import Fact
from engine.model.records import CallRecord, derive, derive_one
from engine.store.tables import call_records, ledger
from engine.store.url import BUSY_TIMEOUT, connect_args, sqlite_file

log = logging.getLogger("hotline.store")
T = TypeVar("T")


def _insert(engine: AsyncEngine):  # type: ignore[no-untyped-def]
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision (sync; run before the loop starts work)."""
    from alembic import command
    from alembic.config import Config

    here = Path(__file__).parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")
    path = sqlite_file(url)
    if path is not None:
        _wal(path)


def _wal(path: str) -> None:
    """Put a SQLite file in WAL mode once, here, while the engine has it not yet open: the switch needs the file
    to itself, and a connection that asks while another reads is silently left in rollback mode. There a reader
    cut off mid-query (an engine stopping) blocks every commit and, through the writer's pending lock, every
    later reader: a restart found the database locked. In WAL mode readers and the writer never wait on each
    other. The mode is kept in the file."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    finally:
        conn.close()
    if str(mode).lower() != "wal":
        raise RuntimeError(f"{path}: could not switch the database to WAL mode (it stays {mode!r}): is another "
                           f"program holding it open?")  # fmt: skip


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_async_engine(url, connect_args=connect_args(url))
        if self.engine.dialect.name == "sqlite":
            # WAL: a commit appends to the log with one fsync instead of rewriting pages; readers never block
            # the writer. synchronous stays FULL: a committed fact survives a power cut.
            @event.listens_for(self.engine.sync_engine, "connect")
            def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.close()

        self._writes: set[asyncio.Task[object]] = set()
        # told of every call record once derived or derived again (a wrap-up, a saved recording, a call closed
        # from Asterisk's records): the live figures must see the same record the report reads
        self.record_hooks: list[Callable[[dict[str, Any]], None]] = []
        path = sqlite_file(url)
        self._ledger = _SqliteLedger(path) if path is not None else None

    async def write(self, work: Awaitable[T]) -> T:
        """Run a write to its end even when the caller is cancelled (an engine stopping mid-write): a
        transaction cut off half-way would leave SQLite's write lock on a connection nobody returns, and
        the next start would find the database locked. ``close`` waits for these."""
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        self._writes.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._write_done)
        return await asyncio.shield(task)

    def _write_done(self, task: asyncio.Task[object]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("store write failed: %s", task.exception())  # the caller (if still there) got it too

    async def close(self) -> None:
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=10)
        if self._ledger is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._ledger.close)
        await self.engine.dispose()

    async def append(self, facts: list[Fact], recorded_at: float) -> int:
        """Insert facts; a fact whose key is already there is skipped. Returns how many were new."""
        return await self.write(self._append(facts, recorded_at))

    async def _append(self, facts: list[Fact], recorded_at: float) -> int:
        if not facts:
            return 0
        if self._ledger is not None:
            rows = [(f.at, f.kind, f.call_id, f.uniqueid, f.key, json.dumps(f.data), recorded_at) for f in facts]
            return await self._ledger.append(rows)
        ins = _insert(self.engine)
        rows = [
            {
                "at": f.at,
                "kind": f.kind,
                "call_id": f.call_id,
                "uniqueid": f.uniqueid,
                "key": f.key,
                "data": f.data,
                "recorded_at": recorded_at,
            }
            for f in facts
        ]
        # one multi-row statement per batch (the dialect cuts it into pages of rows): RETURNING names the rows
        # that were new, a key already there (or twice in the batch) is skipped in order, as row by row
        stmt = ins(ledger).on_conflict_do_nothing(index_elements=["key"]).returning(ledger.c.id)
        async with self.engine.begin() as conn:
            return len((await conn.execute(stmt, rows)).all())

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]:  # fmt: skip
        q = select(ledger).order_by(ledger.c.id)
        if call_id is not None:
            q = q.where(ledger.c.call_id == call_id)
        if kinds:
            q = q.where(ledger.c.kind.in_(kinds))
        if since is not None:
            q = q.where(ledger.c.at >= since)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return [Fact(r["kind"], r["at"], r["call_id"], r["uniqueid"], r["key"], dict(r["data"])) for r in rows]

    async def update_record(self, call_id: str) -> CallRecord | None:
        rec = await self.write(self._update_record(call_id))
        if rec is not None:
            row = rec.as_row()
            for hook in self.record_hooks:
                hook(row)
        return rec

    async def _update_record(self, call_id: str) -> CallRecord | None:
        rec = derive_one(call_id, await self.facts(call_id))
        async with self.engine.begin() as conn:
            # a call that turns out to be no record (a degraded call counted later) loses the row it had
            await conn.execute(delete(call_records).where(call_records.c.call_id == call_id))
            if rec is not None:
                await conn.execute(call_records.insert().values(**rec.as_row()))
        return rec

    async def open_calls(self, since: float) -> list[str]:
        """Calls the engine answered for (a caller channel) since ``since`` that the ledger has not closed. Runs
        at every resync: the (kind, at) index and the call_id index keep it to the open calls' own rows."""
        # an end comes after its call's start, so the ended calls are those with an end since ``since`` too: one
        # range scan of the index each, not a look-up per row
        ended = select(ledger.c.call_id).where(ledger.c.kind == "call.end", ledger.c.at >= since)
        q = select(ledger.c.call_id, ledger.c.data).where(
            ledger.c.kind == "channel.new", ledger.c.at >= since, ledger.c.call_id.not_in(ended)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return list(dict.fromkeys(cid for cid, data in rows if dict(data).get("role") == "caller"))

    async def unrecorded_calls(self, since: float) -> list[str]:
        """Callers' calls ended since ``since`` that have no record row: the engine was killed between writing a
        call's end and deriving its record (two transactions), so the next start derives it."""
        ended = select(ledger.c.call_id).where(ledger.c.kind == "call.end", ledger.c.at >= since)
        q = select(ledger.c.call_id, ledger.c.data).where(
            ledger.c.kind == "channel.new", ledger.c.at >= since, ledger.c.call_id.in_(ended),
            ledger.c.call_id.not_in(select(call_records.c.call_id)),
        )  # fmt: skip
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return list(dict.fromkeys(cid for cid, data in rows if dict(data).get("role") == "caller"))

    async def rebuild_records(self) -> int:
        recs = derive(await self.facts())
        async with self.engine.begin() as conn:
            await conn.execute(delete(call_records))
            if recs:
                await conn.execute(call_records.insert(), [r.as_row() for r in recs])
        return len(recs)

    async def records(self, since: float | None = None) -> list[dict[str, object]]:
        """Call records in arrival order; ``since``: only the calls that arrived then or later."""
        query = select(call_records).order_by(call_records.c.arrived_at)
        if since is not None:
            query = query.where(call_records.c.arrived_at >= since)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(r) for r in rows]


class _SqliteLedger:
    """Ledger appends to a SQLite file through one connection of its own in one thread of its own: a batch is one
    task for that thread and, up to ``PAGE`` facts, one statement (its own transaction), so the thread takes the
    interpreter lock back from a busy event loop a few times per batch instead of at every statement step and
    row. The engine's other queries keep SQLAlchemy's connections; SQLite's file lock orders the writers."""

    COLUMNS = "at, kind, call_id, uniqueid, key, data, recorded_at"
    PAGE = 4000  # rows per INSERT: 28000 variables, under SQLite's 32766

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer")
        self._conn: sqlite3.Connection | None = None

    async def append(self, rows: list[tuple[object, ...]]) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._append, rows)

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            # transactions said explicitly
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # as the engine's own connections: a commit survives a power cut
            self._conn = conn
        return self._conn

    def _insert(self, conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> int:
        values = ",".join(["(?,?,?,?,?,?,?)"] * len(rows))
        # a key already there, or twice in the batch, is skipped in order, as row by row
        cur = conn.execute(f"INSERT INTO ledger ({self.COLUMNS}) VALUES {values} ON CONFLICT (key) DO NOTHING",
                           list(chain.from_iterable(rows)))  # fmt: skip
        return cur.rowcount

    def _append(self, rows: list[tuple[object, ...]]) -> int:
        conn = self._connect()
        if len(rows) <= self.PAGE:
            return self._insert(conn, rows)  # one statement: a transaction of its own
        new = 0
        conn.execute("BEGIN IMMEDIATE")  # the write lock first: no upgrade from a read lock to fail half-way
        try:
            for i in range(0, len(rows), self.PAGE):
                new += self._insert(conn, rows[i : i + self.PAGE])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return new

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._thread.submit(shut).result()
        self._thread.shutdown()
