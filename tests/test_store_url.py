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
