"""[reports]: how the reports' rollups are kept (the site file's schema of the section, and its reading)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config_fields import Field, positive

REPORTS_FIELDS: dict[str, Field] = {
    "rollups": Field(bool, True, doc="keep the reports' rollups up to date while the engine runs"),
    "rollup_every": Field((int, float), 60, check=positive,
                          doc="seconds of the engine's clock between two rollup refreshes"),  # fmt: skip
}


@dataclass(frozen=True)
class ReportSettings:
    rollups: bool
    rollup_every: float

    @classmethod
    def of(cls, section: dict[str, Any]) -> ReportSettings:
        return cls(bool(section["rollups"]), float(section["rollup_every"]))
