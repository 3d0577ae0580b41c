"""`hotline check` on the virtual site with one section's lines added: the problem it names, for the tests of
each section's settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.cli import main as cli_main
from sim.world import site_text


def check_names(tmp_path: Path, capsys: Any, section: str, lines: str, says: str) -> None:
    """``hotline check`` refuses the site with ``[section]`` holding ``lines``, naming the file, the line and
    ``says`` (the field and what is wrong)."""
    (tmp_path / "secret").write_text("x")
    site = site_text(ami_port=1, agi_port=2, secret_file=tmp_path / "secret", recordings=tmp_path,
                     store_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}", queue_log=tmp_path / "q")  # fmt: skip
    (tmp_path / "site.toml").write_text(site + f"\n[{section}]\n" + lines)
    assert cli_main(["check", "--site", str(tmp_path / "site.toml")]) != 0
    err = capsys.readouterr()
    shown = err.out + err.err
    assert re.search(r"site\.toml:\d+: " + re.escape(says), shown), shown
