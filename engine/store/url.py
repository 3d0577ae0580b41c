"""The store's URL from the site file: checked before anything opens it, a relative SQLite path anchored.

A relative SQLite path is taken from the site file's folder, not the current one: `hotline records list
--site ../x.toml` must open the database the engine of that site writes, not create an empty one here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL (e.g. sqlite+aiosqlite:///hotline.db)") from None


def _sqlite_file(u: URL) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database or another backend."""
    if u.get_backend_name() != "sqlite":
        return None
    db = u.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        return None
    return db


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database, another backend or no URL."""
    try:
        return _sqlite_file(make_url(url))
    except ArgumentError:
        return None


def resolve(url: str, base: Path) -> str:
    """The URL with a relative SQLite path made absolute from ``base`` (the site file's folder)."""
    u = _parse(url)
    db = _sqlite_file(u)
    if db is None or Path(db).is_absolute():
        return url
    return u.set(database=str((base / db).resolve())).render_as_string(hide_password=False)


def problem(url: str, base: Path) -> str | None:
    """Why the engine could not use this URL, in one line; None when it can."""
    try:
        u = _parse(url)
    except ValueError as exc:
        return str(exc)
    try:
        dialect = u.get_dialect()
    except NoSuchModuleError:
        return f"{u.drivername!r}: unknown database driver (use sqlite+aiosqlite or postgresql+asyncpg)"
    if not getattr(dialect, "is_async", False):
        return (f"{u.drivername!r} is not an async driver (use sqlite+aiosqlite or "
                f"postgresql+asyncpg)")  # fmt: skip
    db = _sqlite_file(u)
    if db is not None:
        folder = (base / db).parent
        if not folder.is_dir():
            return f"folder {folder} of the SQLite database does not exist"
    return None


def check_section(store: dict[str, object], base: Path, report: Callable[[str, str], None]) -> None:
    """The site loader's hook: report a bad ``store.url``, else anchor it to the site file's folder."""
    url = str(store["url"])
    why = problem(url, base)
    if why:
        report("store.url", why)
    else:
        store["url"] = resolve(url, base)


BUSY_TIMEOUT = 30.0  # seconds a SQLite connection waits for another's write lock before "database is locked"


def connect_args(url: str) -> dict[str, object]:
    """Driver arguments for ``url``: SQLite's busy timeout (the driver's default, 5 s, is short on a loaded
    machine: a writer then fails where it had only to wait); none for other backends."""
    return {"timeout": BUSY_TIMEOUT} if url.startswith("sqlite") else {}
