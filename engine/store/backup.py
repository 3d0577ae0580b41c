"""A store's backup and restore, SQLite and PostgreSQL alike (`hotline db backup|restore`).

SQLite: SQLite's online backup API copies the database page by page while the engine may go on writing (a
consistent copy, the WAL folded in); the backup is itself a SQLite file. PostgreSQL: ``pg_dump`` in its custom
format and ``pg_restore`` (Debian's postgresql-client), the password passed in the environment, never on the
command line. A backup restores into a store of the same kind.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from engine.store.url import sqlite_file

Progress = Callable[[str], None]
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    pass


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump's connection options and environment (the password) for a SQLAlchemy PostgreSQL URL."""
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432), "--username", u.username or "postgres",
            "--dbname", u.database or "postgres"]  # fmt: skip
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def backup(url: str, out: Path, progress: Progress) -> int:
    """Write the store's backup to ``out`` (a temporary name first); returns its size in bytes."""
    tmp = out.with_name(out.name + ".part")
    db = sqlite_file(url)
    try:
        if db is not None:
            src, dst = sqlite3.connect(db), sqlite3.connect(tmp)
            try:
                # in one step: copied page by page, the backup starts over at every write the engine makes
                # between steps and may never finish on a busy store; in WAL mode one step blocks no writer
                src.backup(dst, pages=-1)
                progress(f"backup: {dst.execute('PRAGMA page_count').fetchone()[0]} pages copied")
            finally:
                dst.close()
                src.close()
        elif make_url(url).get_backend_name() == "postgresql":
            args, env = _libpq(url)
            r = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(tmp), *args], env=env,
                               capture_output=True, text=True)  # fmt: skip
            if r.returncode != 0:
                raise BackupError(f"pg_dump failed: {r.stderr.strip()}")
            progress(f"backup: pg_dump wrote {tmp.stat().st_size} bytes")
        else:
            raise BackupError(f"no backup for this store ({make_url(url).drivername})")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out.stat().st_size


def restore(url: str, src: Path, progress: Progress) -> None:
    """Replace the store's contents with the backup's. The caller has made sure nothing runs on the store."""
    with src.open("rb") as f:
        head = f.read(16)
    db = sqlite_file(url)
    if db is not None:
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{src} is not a SQLite backup (a PostgreSQL one restores into PostgreSQL)")
        source, target = sqlite3.connect(src), sqlite3.connect(db)
        try:
            source.backup(target, pages=-1)
            progress(f"restore: {target.execute('PRAGMA page_count').fetchone()[0]} pages copied")
        finally:
            target.close()
            source.close()
        return
    if make_url(url).get_backend_name() != "postgresql":
        raise BackupError(f"no restore for this store ({make_url(url).drivername})")
    if not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{src} is not a PostgreSQL backup (pg_dump's custom format)")
    args, env = _libpq(url)
    # the schema emptied first: a newer one's tables (which an older backup knows nothing of) must not stay
    r = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", "-c",
                        "DROP SCHEMA public CASCADE; CREATE SCHEMA public", *args], env=env, capture_output=True,
                       text=True)  # fmt: skip
    if r.returncode != 0:
        raise BackupError(f"emptying the store failed: {r.stderr.strip()}")
    r = subprocess.run(["pg_restore", "--no-owner", "--single-transaction", *args, str(src)], env=env,
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        raise BackupError(f"pg_restore failed: {r.stderr.strip()}")
    progress("restore: pg_restore done")
