"""A private PostgreSQL 15: Debian's server binaries, a data folder of its own, a free loopback port and a socket
folder of its own; never the system's cluster. As root, initdb and the server run as the ``postgres`` user
(PostgreSQL refuses root). fsync is off: a throwaway store need not survive a power cut. The tests and the
benchmarks start theirs with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sim.ports import tcp_free_port

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "hotline"


class PostgresMissing(RuntimeError):
    pass


class Postgres:
    def __init__(self, folder: Path | None = None) -> None:
        """``folder``: where the cluster lives [a new folder under /tmp: as root, the server's own user must reach
        it, and pytest's temporary folders are root's alone]."""
        if not (BIN / "initdb").exists() or shutil.which("psql") is None:
            raise PostgresMissing("PostgreSQL 15 is missing: run `make setup-test` (scripts/setup.sh --test installs "
                                  "Debian's postgresql-15)")  # fmt: skip
        self.folder = folder or Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.data = self.folder / "data"
        self.port = tcp_free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.count = 0

    def _run(self, *cmd: str) -> None:
        r = subprocess.run([*self.as_postgres, *cmd], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {r.stdout[-400:]} {r.stderr[-400:]}")

    def start(self, *settings: str) -> None:
        """``settings``: more server settings, ``name=value`` each (a benchmark's memory, say)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
            os.chmod(self.folder, 0o700)
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync")
        extra = "".join(f" -c {s}" for s in settings)
        opts = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off{extra}"
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        self.count += 1
        name = f"{prefix}{self.count}_{int(time.time() * 1000) % 100000}"
        r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres", "-q",
                            "-c", f'CREATE DATABASE "{name}"'], capture_output=True, text=True, timeout=60)  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"CREATE DATABASE failed: {r.stderr}")
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{name}"
