"""The virtual PBX with both network faces, as one object to start and stop."""

from __future__ import annotations

import secrets
from pathlib import Path

from engine.clock import Clock
from engine.config import Site
from sim.pbx.agi_face import AgiFace
from sim.pbx.ami_face import AmiFace
from sim.pbx.model import VirtualPbx


class VirtualPbxServer:
    """AMI server on ``host:ami_port`` (0 = any free port) and a FastAGI client towards the engine."""

    def __init__(self, clock: Clock, workdir: Path, *, host: str = "127.0.0.1", ami_port: int = 0,
                 agi_port: int = 4573, username: str = "engine") -> None:  # fmt: skip
        self.workdir = workdir
        self.secret = secrets.token_urlsafe(18)  # generated per run: there is no default password
        self.secret_file = workdir / "ami_secret"
        self.recordings = workdir / "recordings"
        self.pbx = VirtualPbx(clock, monitor_dirs=("/var/spool/asterisk/monitor", self.recordings))
        self.agi = AgiFace(self.pbx, host, agi_port)
        self.pbx.agi_connect = self.agi
        self.ami = AmiFace(self.pbx, host, ami_port, username, self.secret)

    async def start(self) -> int:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.recordings.mkdir(exist_ok=True)
        self.secret_file.write_text(self.secret + "\n")
        self.secret_file.chmod(0o600)
        return await self.ami.start()

    async def close(self) -> None:
        await self.pbx.close()
        await self.ami.close()

    def engine_site(self, base: Site, db: Path, **sections: dict[str, object]) -> Site:
        """``base`` pointed at this PBX: AMI address and secret, recordings folder, a free FastAGI port (the
        engine reports the port it got; hand it to ``self.agi.port``), the store at ``db``, no HTTP listener
        (unless ``http`` says one: parallel runs never meet on the default port)."""
        v = self.site_values()
        extra = {k: dict(val) for k, val in sections.items()}
        return base.with_values(
            asterisk={**v["asterisk"], "agi_port": 0, **extra.pop("asterisk", {})},
            recording=v["recording"],
            store={"url": f"sqlite+aiosqlite:///{db}", **extra.pop("store", {})},
            http={"listen": "", **extra.pop("http", {})},
            **extra,
        )

    def site_values(self) -> dict[str, dict[str, object]]:
        """What a site file needs to point an engine at this PBX."""
        return {
            "asterisk": {"lab": False, "ami_host": self.ami.host, "ami_port": self.ami.port,
                         "ami_secret_file": str(self.secret_file)},
            "recording": {"asterisk_dir": "/var/spool/asterisk/monitor", "local_dir": str(self.recordings)},
        }  # fmt: skip
