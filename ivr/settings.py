"""The site file's ``[ivr]`` section: its schema (checked with file and line by the loader) and the typed
settings the IVR is built with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.config_fields import Field, positive

IVR_FIELDS: dict[str, Field] = {
    "menu": Field(str, "", doc="menu file, relative to the site file (empty: greeting + one digit)"),
    "max_sessions": Field(int, 8, check=positive, doc="IVR sessions at once; the next caller skips the menu"),
    "prompt_dir": Field(str, "/var/lib/asterisk/sounds/hotline", doc="built prompts, as Asterisk sees them"),
    "prompt_local_dir": Field(str, "", doc="the same folder as this machine sees it (empty with lab = true)"),
    "snapshot_file": Field(str, "", doc="last valid menu for the degraded AGI script (empty with lab = true)"),
    "cdr_file": Field(str, "", doc="Asterisk's cdr-csv Master.csv: degraded calls (empty with lab = true)"),
    "reload_interval": Field((int, float), 2.0, check=positive, doc="seconds between menu file checks"),
}


@dataclass(frozen=True)
class IvrSettings:
    menu: str
    max_sessions: int
    prompt_dir: str
    prompt_local_dir: str
    snapshot_file: str
    cdr_file: str
    reload_interval: float

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> IvrSettings:
        """From the section's checked values (``site["ivr"]``)."""
        return cls(menu=values["menu"], max_sessions=int(values["max_sessions"]), prompt_dir=values["prompt_dir"],
                   prompt_local_dir=values["prompt_local_dir"], snapshot_file=values["snapshot_file"],
                   cdr_file=values["cdr_file"], reload_interval=float(values["reload_interval"]))  # fmt: skip
