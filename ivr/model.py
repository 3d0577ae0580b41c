"""A checked menu as plain data: nodes, prompts, business hours.

Standard library only: the same module runs inside the Asterisk host as part of the degraded-mode
AGI script (``ivr/classic.py``), which loads a JSON snapshot of the last valid menu.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGITS = "0123456789*#"

# node type -> {key: (default, required)}; the loader checks against this, the interpreter reads it
NODE_KEYS: dict[str, dict[str, tuple[Any, bool]]] = {
    "play": {"prompt": (None, True), "next": (None, True)},
    "menu": {
        "prompt": (None, True), "reprompt": ("", False), "options": (None, True), "timeout": (5.0, False),
        "retries": (2, False), "invalid": ("", False), "timeout_prompt": ("", False), "default": ("", False),
    },
    "collect": {
        "prompt": (None, True), "variable": (None, True), "next": (None, True), "min": (1, False),
        "max": (None, True), "terminator": ("#", False), "first_timeout": (5.0, False),
        "inter_timeout": (3.0, False), "retries": (2, False), "invalid": ("", False), "default": ("", False),
    },
    "hours": {"open": (None, True), "closed": (None, True), "holiday": ("", False)},
    "language": {"language": (None, True), "next": (None, True)},
    "set": {"tags": ([], False), "variables": ({}, False), "next": (None, True)},
    "route": {"service": (None, True), "priority": (0, False), "skills": ({}, False), "survey": (False, False)},
    "callback": {
        "prompt": (None, True), "confirm": (None, True), "done": ("", False), "min": (5, False),
        "max": (15, False), "first_timeout": (6.0, False), "inter_timeout": (3.0, False), "retries": (2, False),
        "service": ("", False), "next": ("", False),
    },
    "record": {
        "kind": (None, True), "prompt": (None, True), "max_seconds": (60, False), "done": ("", False),
        "next": ("", False),
    },
    "transfer": {"number": (None, True), "prompt": ("", False)},
    "hangup": {"prompt": ("", False)},
}  # fmt: skip

# keys that name another node, per type (for reachability and "unknown node" checks)
NODE_LINKS: dict[str, tuple[str, ...]] = {
    "play": ("next",), "menu": ("default",), "collect": ("next", "default"), "hours": ("open", "closed", "holiday"),
    "language": ("next",), "set": ("next",), "callback": ("next",), "record": ("next",),
}  # fmt: skip
PROMPT_KEYS = ("prompt", "reprompt", "invalid", "timeout_prompt", "confirm", "done")
TERMINAL = ("route", "transfer", "hangup")
RECORD_KINDS = ("voicemail", "complaint")


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def links(self) -> list[tuple[str, str]]:
        """(how, target) for every node this one can lead to."""
        out = [(k, self.values[k]) for k in NODE_LINKS.get(self.type, ()) if self.values.get(k)]
        if self.type == "menu":
            out += [(f"option {d}", t) for d, t in self.values["options"].items()]
        return out


@dataclass(frozen=True)
class Hours:
    """Opening hours in the site's time zone; no table means always open."""

    timezone: str = "Asia/Shanghai"
    utc_offset_minutes: int = 480  # used only when the host has no time-zone database (degraded script)
    week: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # day -> [(start min, end min)]
    holidays: frozenset[str] = frozenset()  # ISO dates
    always_open: bool = True

    def local(self, now: dt.datetime) -> dt.datetime:
        try:
            from zoneinfo import ZoneInfo

            return now.astimezone(ZoneInfo(self.timezone))
        except Exception:  # noqa: BLE001 - no tz database on the host: fall back to the fixed offset
            return now.astimezone(dt.timezone(dt.timedelta(minutes=self.utc_offset_minutes)))

    def state(self, now: dt.datetime) -> str:
        """'open', 'closed' or 'holiday' at ``now`` (an aware datetime)."""
        if self.always_open:
            return "open"
        t = self.local(now)
        if t.date().isoformat() in self.holidays:
            return "holiday"
        minute = t.hour * 60 + t.minute
        for start, end in self.week.get(DAYS[t.weekday()], []):
            if start <= minute < end:
                return "open"
        return "closed"


@dataclass(frozen=True)
class Menu:
    start: str
    languages: tuple[str, ...]
    default_service: str
    nodes: dict[str, Node]
    prompts: dict[str, dict[str, str]]  # prompt id -> language -> text
    hours: Hours = field(default_factory=Hours)
    overflow_prompt: str = ""
    survey: dict[str, Any] = field(default_factory=dict)  # prompt, thanks, invalid, timeout, retries
    agent_endpoint: str = ""  # the hotline agent's phone: where the degraded menu ends
    source: str = ""
    studio_dir: str = ""  # recorded prompts: <studio_dir>/<lang>/<prompt>.wav

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot (what the degraded script loads)."""
        return {
            "start": self.start, "languages": list(self.languages), "default_service": self.default_service,
            "nodes": {n.name: {"type": n.type, **n.values} for n in self.nodes.values()},
            "prompts": self.prompts, "overflow_prompt": self.overflow_prompt, "survey": self.survey,
            "agent_endpoint": self.agent_endpoint, "source": self.source, "studio_dir": self.studio_dir,
            "hours": {"timezone": self.hours.timezone, "utc_offset_minutes": self.hours.utc_offset_minutes,
                      "week": {d: [list(r) for r in rs] for d, rs in self.hours.week.items()},
                      "holidays": sorted(self.hours.holidays), "always_open": self.hours.always_open},
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Menu:
        h = d.get("hours") or {}
        hours = Hours(h.get("timezone", "Asia/Shanghai"), int(h.get("utc_offset_minutes", 480)),
                      {k: [(int(a), int(b)) for a, b in v] for k, v in (h.get("week") or {}).items()},
                      frozenset(h.get("holidays") or ()), bool(h.get("always_open", True)))  # fmt: skip
        nodes = {
            name: Node(name, v["type"], {k: x for k, x in v.items() if k != "type"}) for name, v in d["nodes"].items()
        }
        return cls(d["start"], tuple(d["languages"]), d["default_service"], nodes, d["prompts"], hours,
                   d.get("overflow_prompt", ""), d.get("survey") or {}, d.get("agent_endpoint", ""),
                   d.get("source", ""), d.get("studio_dir", ""))  # fmt: skip


def builtin_menu(prompt: str, service: str, timeout_ms: int) -> Menu:
    """The menu when the site names no menu file: greet, take any one digit (or none), queue for the hotline."""
    options = {d: "queue" for d in DIGITS}
    nodes = {
        "greeting": Node("greeting", "menu", {
            "prompt": prompt, "reprompt": "", "options": options, "timeout": timeout_ms / 1000, "retries": 0,
            "invalid": "", "timeout_prompt": "", "default": "queue",
        }),
        "queue": Node("queue", "route", {"service": service, "priority": 0, "skills": {}, "survey": False}),
    }  # fmt: skip
    return Menu("greeting", ("en",), service, nodes, {prompt: {}}, source="(built in)")
