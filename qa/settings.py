"""[qa]: the scoring forms and the daily sample's rules (the site file's schema of the section, and its reading)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config_fields import Field, positive


def _paths(v: Any) -> str | None:
    return None if all(isinstance(p, str) and p.endswith(".toml") for p in v) else "must list .toml form files"


QA_FIELDS: dict[str, Field] = {
    "forms": Field(list, [], check=_paths, doc="scoring form files, from the site file's folder"),
    "sample_per_agent": Field(int, 2, check=positive, doc="calls sampled a day per agent who worked (at least 1)"),
    "new_hire_days": Field(int, 30, check=lambda v: None if v >= 0 else "must be 0 or more",
                           doc="an agent hired this many days ago or less is a new hire (agents' `hired`)"),
    "short_call": Field((int, float), 30, check=positive, doc="a call this short or shorter (s) is a risk"),
    "long_call": Field((int, float), 900, check=positive, doc="a call this long or longer (s) is a risk"),
    "low_survey": Field(int, 2, doc="a survey score this low or lower is a risk"),
}


@dataclass(frozen=True)
class QaSettings:
    sample_per_agent: int
    new_hire_days: int
    short_call: float
    long_call: float
    low_survey: int

    @classmethod
    def of(cls, qa: dict[str, Any]) -> QaSettings:
        return cls(int(qa["sample_per_agent"]), int(qa["new_hire_days"]), float(qa["short_call"]),
                   float(qa["long_call"]), int(qa["low_survey"]))  # fmt: skip
