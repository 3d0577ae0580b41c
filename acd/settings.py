"""The site file's ``[hotline]`` section: its schema (the loader checks it with file and line) and the typed,
frozen settings the ACD reads once checked, instead of the raw table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.config_fields import Field, digits, group_names, positive
from engine.regions import region_problem


def _pause_reasons(v: Any) -> str | None:
    for code, reason in v.items():
        if not str(code).isdigit():
            return f"code {code!r}: codes are the digits dialled after *23"
        if not isinstance(reason, str) or not reason or "|" in reason:
            return f"code {code}: the reason must be non-empty text without '|' (it goes into queue_log)"
    return None


HOTLINE_FIELDS: dict[str, Field] = {
    "number": Field(str, required=True, check=digits, doc="the hotline's dialled number"),
    "prompt": Field(str, "hello-world", doc="greeting prompt (Asterisk sound name)"),
    "digit_timeout_ms": Field(int, 5000, check=positive),
    "agent": Field(str, required=True, doc="id of the agent who normally takes the hotline"),
    "ring_timeout": Field(int, 15, check=positive, doc="seconds an agent's phone rings (3 rings in China)"),
    "region": Field(str, "CN", check=region_problem, doc="ISO 3166 country callers' numbers are read in (call backs)"),
    "service": Field(str, "hotline", doc="service hotline callers are queued in"),
    "max_misses": Field(int, 3, check=positive, doc="unanswered offers in a row before an agent is paused"),
    "pause_reasons": Field(dict, None, check=_pause_reasons, doc="codes after *23"),
    "guard_agents": Field(list, None, check=group_names, doc="outbound agents the guard may take off the dialer"),
    "guard_after": Field((int, float), 5, check=positive,
                         doc="a hotline caller waiting this long with no agent free: the guard reserves one"),
    "guard_release": Field((int, float), 60, check=positive,
                           doc="seconds with no hotline caller waiting before the agent goes back to dialing"),
}


@dataclass(frozen=True)
class HotlineSettings:
    number: str
    agent: str
    prompt: str = "hello-world"
    digit_timeout_ms: int = 5000
    ring_timeout: int = 15
    region: str = "CN"  # callers' numbers are read in it: call backs dial E.164
    service: str = "hotline"
    max_misses: int = 3
    pause_reasons: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    guard_agents: tuple[str, ...] = ()
    guard_after: float = 5.0
    guard_release: float = 60.0

    @classmethod
    def from_values(cls, hot: Mapping[str, Any]) -> HotlineSettings:
        """From the checked ``[hotline]`` table (defaults filled in by the loader)."""
        return cls(
            number=str(hot["number"]),
            agent=str(hot["agent"]),
            prompt=str(hot["prompt"]),
            digit_timeout_ms=int(hot["digit_timeout_ms"]),
            ring_timeout=int(hot["ring_timeout"]),
            region=str(hot["region"]),
            service=str(hot["service"]),
            max_misses=int(hot["max_misses"]),
            pause_reasons=MappingProxyType({str(k): str(v) for k, v in (hot["pause_reasons"] or {}).items()}),
            guard_agents=tuple(hot["guard_agents"] or ()),
            guard_after=float(hot["guard_after"]),
            guard_release=float(hot["guard_release"]),
        )
