"""`hotline db migrate|backup FILE|restore FILE`: the store's schema, its backup and its restore."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from engine.cli import sitefile


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _ledger_rows(url: str) -> int:
    from sqlalchemy import func, select

    from engine.store.store import Store
    from engine.store.tables import ledger

    store = Store(url)
    try:
        async with store.engine.connect() as conn:
            # the migration's own store.created is not a fact anybody would lose
            q = select(func.count()).select_from(ledger).where(ledger.c.kind != "store.created")
            return int((await conn.execute(q)).scalar_one())
    finally:
        await store.close()


def cmd_db(args: argparse.Namespace) -> int:
    from alembic.util import CommandError

    from engine.store.backup import BackupError, backup, restore
    from engine.store.store import migrate

    site = sitefile.load(args.site)
    url = site["store"]["url"]
    try:
        if args.db_command == "migrate":
            migrate(url)
            print(f"store at the newest schema: {site['store']['url'].split('@')[-1]}")
            return 0
        if args.db_command == "backup":
            size = backup(url, Path(args.file), _say)
            print(f"backup written to {args.file} ({size} bytes)")
            return 0
        src = Path(args.file)
        if not src.is_file():
            print(f"db restore: {src}: no such file", file=sys.stderr)
            return 2
        migrate(url)  # a store made now, or one behind the backup's schema, is made current first
        rows = asyncio.run(_ledger_rows(url))
        if rows and not args.force:
            print(f"db restore: the store holds {rows} fact(s): restoring replaces them all; stop the engine, keep "
                  f"a backup of it, then give --force", file=sys.stderr)  # fmt: skip
            return 2
        restore(url, src, _say)
        migrate(url)  # an older backup is brought to this version's schema
        print(f"restored {src}: the store holds {asyncio.run(_ledger_rows(url))} fact(s)")
        return 0
    except (BackupError, CommandError, OSError) as exc:
        print(f"db {args.db_command}: {exc}", file=sys.stderr)
        return 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("db", help="the store: bring its schema up to date, back it up, restore it")
    dsub = d.add_subparsers(dest="db_command", required=True)
    dm = dsub.add_parser("migrate", help="bring the store to the newest schema (every start does it too)")
    db = dsub.add_parser("backup", help="write a consistent backup while the engine runs (SQLite file; "
                                        "PostgreSQL: pg_dump's custom format)")  # fmt: skip
    db.add_argument("file")
    dr = dsub.add_parser("restore", help="replace the store's contents with a backup's (stop the engine first)")
    dr.add_argument("file")
    dr.add_argument("--force", action="store_true", help="even when the store holds facts")
    for p in (dm, db, dr):
        sitefile.add_site_option(p)
    d.set_defaults(func=cmd_db)
