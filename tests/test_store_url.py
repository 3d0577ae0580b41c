"""The store URL: a relative SQLite path belongs to the site file's folder, and a URL the engine cannot
open is a one-line config problem (file, line, store.url) with exit 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConfigError, load_site

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "examples" / "lab-site.toml").read_text()
URL_LINE = 'url = "sqlite+aiosqlite:///hotline-lab.db"'


def _site(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / "site.toml"
    f.write_text(GOOD.replace(URL_LINE, f'url = "{url}"'))
    return f


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})  # fmt: skip


def test_relative_sqlite_path_is_taken_from_the_site_files_folder(tmp_path):
    f = _site(tmp_path / "conf", "sqlite+aiosqlite:///data.db")
    assert load_site(f)["store"]["url"] == f"sqlite+aiosqlite:///{(tmp_path / 'conf' / 'data.db').resolve()}"
    g = _site(tmp_path / "conf2", "sqlite+aiosqlite:///../shared.db")
    assert load_site(g)["store"]["url"] == f"sqlite+aiosqlite:///{(tmp_path / 'shared.db').resolve()}"


def test_records_from_another_folder_open_the_sites_own_database(tmp_path):
    f = _site(tmp_path / "conf", "sqlite+aiosqlite:///data.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _cli(elsewhere, "records", "list", "--site", "../conf/site.toml")
    assert r.returncode == 0, r.stderr
    assert (f.parent / "data.db").exists()
    assert not (elsewhere / "data.db").exists()  # before: a new empty database here, silently


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite:///x.db", "'sqlite' is not an async driver"),
    ("postgresql://u@localhost/h", "'postgresql' is not an async driver"),
    ("mysqlx+nothing:///x", "'mysqlx+nothing': unknown database driver"),
    ("sqlite+aiosqlite:///no/such/folder/x.db", "no/such/folder of the SQLite database does not exist"),
    ("hotline.db", "'hotline.db' is not a database URL"),
])  # fmt: skip
def test_unusable_store_url_is_one_line_with_file_and_line(tmp_path, url, message):
    f = _site(tmp_path, url)
    line = f.read_text().splitlines().index(f'url = "{url}"') + 1
    with pytest.raises(ConfigError) as exc:
        load_site(f)
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith(f"{f}:{line}: store.url: ")
    assert message in exc.value.problems[0]
    r = _cli(tmp_path, "records", "list", "--site", str(f))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [exc.value.problems[0]]


def test_sqlite_connections_wait_for_a_write_lock_rather_than_fail_at_once():
    import asyncio

    from engine.store.store import Store
    from engine.store.url import BUSY_TIMEOUT, connect_args

    assert connect_args("postgresql+asyncpg://u@localhost/h") == {}

    async def busy() -> int:
        store = Store("sqlite+aiosqlite:///:memory:")
        async with store.engine.connect() as conn:
            (ms,) = (await conn.exec_driver_sql("PRAGMA busy_timeout")).one()
        await store.close()
        return int(ms)

    assert asyncio.run(busy()) == BUSY_TIMEOUT * 1000


def test_a_new_database_is_in_wal_mode_so_a_reader_cut_off_blocks_no_one(tmp_path):
    """A reader left mid-query (an engine stopped while it read) must not lock out the next start: in rollback
    mode it blocks the writer's commit, and the writer's pending lock every later reader; in WAL mode neither."""
    import sqlite3

    from engine.store.store import migrate

    def stuck_reader_then_write(db: Path) -> None:
        reader = sqlite3.connect(db, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM ledger").fetchone()  # holds its read lock (or snapshot) from here on
        writer = sqlite3.connect(db, timeout=0.2)
        try:
            writer.execute("INSERT INTO users VALUES ('a', 'admin', '', '', '', 'x', 0, 0, 0)")
            writer.commit()
            sqlite3.connect(db, timeout=0.2).execute('PRAGMA main.table_info("alembic_version")').fetchall()
        finally:
            writer.close()
            reader.close()

    db = tmp_path / "h.db"
    migrate(f"sqlite+aiosqlite:///{db}")
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stuck_reader_then_write(db)  # does not raise
    # the same in rollback mode: what a start found before the migration set WAL
    old = tmp_path / "old.db"
    migrate(f"sqlite+aiosqlite:///{old}")
    sqlite3.connect(old, isolation_level=None).execute("PRAGMA journal_mode=DELETE")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        stuck_reader_then_write(old)
