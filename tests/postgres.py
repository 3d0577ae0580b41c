"""A throwaway PostgreSQL 15 for tests: sim/postgres.py's private server (Debian's binaries, a data folder of the
test run's own, a free loopback port; never the system's cluster); a missing server fails the test, loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import postgres as _pg


class Postgres(_pg.Postgres):
    def __init__(self, folder: Path | None = None) -> None:
        try:
            super().__init__(folder)
        except _pg.PostgresMissing as exc:
            pytest.fail(str(exc))
