"""The site file's ``[wallboard]`` section: the colour thresholds of the wallboard (checked with file and line by
the loader) and the typed settings the page is built with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.config_fields import Field, positive


def _fraction(v: Any) -> str | None:
    return None if 0 <= v <= 1 else "must be a fraction 0-1 (0.05 is 5 %)"


def _pause_limits(v: Any) -> str | None:
    for reason, limit in v.items():
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit <= 0:
            return f"reason {reason!r}: the limit must be a number of seconds greater than 0"
    return None


WALLBOARD_FIELDS: dict[str, Field] = {
    "waiting_over": Field((int, float), 60, check=positive,
                          doc="seconds: a service whose longest waiting caller waited longer is shown in alert"),
    "pause_over": Field((int, float), 900, check=positive,
                        doc="seconds: a pause longer than this (or its reason's limit) is shown in alert"),
    "pause_limits": Field(dict, None, check=_pause_limits,
                          doc="pause reason -> seconds, e.g. {lunch = 3600, break = 600}: overrides pause_over"),
    "wrapup_over": Field((int, float), 120, check=positive, doc="seconds: a wrap-up longer than this is an overrun"),
    "sl_goal": Field((int, float), 0.8, check=_fraction,
                     doc="the share of calls to answer within each service's sl_target seconds (0.8: 80 %)"),
    "sl_margin": Field((int, float), 0.05, check=_fraction,
                       doc="service level at risk: below goal + this margin is a warning, below the goal an alert"),
    "abandon_limit": Field((int, float), 0.03, check=_fraction,
                           doc="a campaign's abandon rate over this is shown in alert (3 % by the usual rules)"),
}


@dataclass(frozen=True)
class WallboardSettings:
    waiting_over: float = 60.0
    pause_over: float = 900.0
    pause_limits: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    wrapup_over: float = 120.0
    sl_goal: float = 0.8
    sl_margin: float = 0.05
    abandon_limit: float = 0.03

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> WallboardSettings:
        """From the section's checked values (``site["wallboard"]``)."""
        return cls(
            waiting_over=float(values["waiting_over"]),
            pause_over=float(values["pause_over"]),
            pause_limits=MappingProxyType({str(k): float(v) for k, v in (values["pause_limits"] or {}).items()}),
            wrapup_over=float(values["wrapup_over"]),
            sl_goal=float(values["sl_goal"]),
            sl_margin=float(values["sl_margin"]),
            abandon_limit=float(values["abandon_limit"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """What the page's script colours by."""
        return {"waiting_over": self.waiting_over, "pause_over": self.pause_over,
                "pause_limits": dict(self.pause_limits), "wrapup_over": self.wrapup_over,
                "sl_goal": self.sl_goal, "sl_margin": self.sl_margin, "abandon_limit": self.abandon_limit}  # fmt: skip
