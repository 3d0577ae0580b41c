"""The dialer's settings, the site file's [[campaigns]]: their schema, the typed ``Campaign`` record and building
the list from the site file (calling days turned into epoch edges in the site's time zone)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from engine.config_fields import Field, Report, check_fields, digits, endpoint_name, positive
from engine.regions import region_problem as _region


def _window(v: Any) -> str | None:
    m = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", v)
    if not m or int(m[1]) > 23 or int(m[2]) > 59 or int(m[4]) > 59 or (int(m[3]), int(m[4])) > (24, 0):
        return "must be HH:MM-HH:MM (the lead's local time)"
    return None if (int(m[1]), int(m[2])) < (int(m[3]), int(m[4])) else "the window must end after it starts"


def _date(v: Any) -> str | None:
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return "must be a date YYYY-MM-DD"
    return None


RETRY_OUTCOMES = ("no_answer", "busy", "machine", "abandoned", "skipped")  # skipped: a preview lead passed on


def _retries(v: Any) -> str | None:
    for k, secs in v.items():
        if k not in RETRY_OUTCOMES:
            return f"unknown outcome {k!r} (one of {', '.join(RETRY_OUTCOMES)})"
        if isinstance(secs, bool) or not isinstance(secs, int | float) or secs < 0:
            return f"{k}: seconds until the retry, a number >= 0"
    return None


CAMPAIGN_FIELDS: dict[str, Field] = {
    "name": Field(str, required=True, check=endpoint_name),
    "agents": Field(list, required=True, doc="ids of the agents who work it (always-on sessions)"),
    "mode": Field(str, "predictive", check=lambda v: None if v in ("predictive", "progressive", "preview")
                  else "must be predictive, progressive or preview"),  # fmt: skip
    "profile": Field(str, "us", check=lambda v: None if v in ("us", "uk", "custom") else "must be us, uk or custom",
                     doc="compliance: us (30-day rate over live answers), uk (24 h, AMD estimate added)"),
    "target": Field((int, float), 0.03, check=lambda v: None if 0 < v < 0.2 else "must be between 0 and 0.2"),
    "trunk": Field(str, "trunk", check=endpoint_name),
    "caller_id": Field(str, "", check=lambda v: None if not v else digits(v)),
    "window": Field(str, "08:00-21:00", check=_window, doc="calling window in the lead's local time"),
    "starts": Field(str, "", check=lambda v: None if not v else _date(v)),
    "ends": Field(str, "", check=lambda v: None if not v else _date(v), doc="last calling day; purge counts from it"),
    "retention_days": Field(int, 30, check=lambda v: None if v >= 0 else "must be >= 0"),
    "line_limit": Field(int, 0, check=lambda v: None if v >= 0 else "must be >= 0",
                        doc="most calls at once (0 = 6 per agent)"),  # fmt: skip
    "ring_timeout": Field(int, 25, check=lambda v: None if 15 <= v <= 60 else "must be 15-60 s (ring at least 15 s)"),
    "amd": Field(bool, True),
    "amd_params": Field(str, "", doc="AMD() arguments, e.g. 2500,1500,800,5000"),
    "amd_sample": Field(bool, True, doc="record the first seconds of every AMD call; those called machines are "
                        "kept for QA's check (/qa/amd)"),
    "abandon_prompt": Field(str, "hotline-abandon", doc="what a live answer with no agent hears"),
    "machine": Field(str, "hangup",
                     check=lambda v: None if v in ("hangup", "message") else "must be hangup or message"),  # fmt: skip
    "wrap_up": Field((int, float), 10, check=lambda v: None if v >= 0 else "must be >= 0"),
    "retries": Field(dict, None, check=_retries, doc="seconds until a retry, per outcome"),
    "max_attempts": Field(int, 3, check=positive),
    "leads": Field(str, "store", check=lambda v: None if v in ("store", "synthetic") else "must be store or synthetic",
                   doc="store: imported leads; synthetic: from the traffic model (demo, benchmarks)"),  # fmt: skip
    "team": Field(str, ""),
    "dispositions": Field(dict, None, check=lambda v: None if all(str(k).isdigit() and isinstance(x, str)
                                                                  for k, x in v.items())
                          else "keys are digit codes, values their labels",
                          doc="agent disposition codes (*26<code>)"),  # fmt: skip
    "record": Field(bool, True, doc="record every conversation, from the bridge to the agent on"),
    "region": Field(str, "CN", check=_region, doc="ISO 3166 country the leads' numbers are read in"),
}

SALE_LABEL = "sale"  # the disposition that takes an order (sales/)
DEFAULT_DISPOSITIONS = {"1": "sale", "2": "no sale", "3": "call back", "8": "answering machine", "9": "do not call"}
MACHINE_LABEL = "answering machine"  # the disposition that tells the pacer a connected call was a machine
DEFAULT_RETRIES = {"no_answer": 3600.0, "busy": 600.0, "machine": 7200.0, "abandoned": 86400.0, "skipped": 3600.0}


@dataclass(frozen=True)
class Campaign:
    name: str
    agents: tuple[str, ...]
    mode: str = "predictive"
    profile: str = "us"
    target: float = 0.03
    trunk: str = "trunk"
    caller_id: str = ""
    window: tuple[int, int] = (8 * 60, 21 * 60)  # minutes after local midnight, [start, end)
    starts: float | None = None
    ends: float | None = None  # epoch seconds of the end of the last calling day (site time)
    retention_days: int = 30
    line_limit: int = 0
    ring_timeout: int = 25
    amd: bool = True
    amd_params: str = ""
    abandon_prompt: str = "hotline-abandon"
    machine: str = "hangup"
    wrap_up: float = 10.0
    retries: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RETRIES))
    max_attempts: int = 3
    leads: str = "store"
    team: str = ""
    dispositions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DISPOSITIONS))
    record: bool = True
    region: str = "CN"  # ISO 3166: numbers of leads and of the campaign's do-not-call list are read in it
    amd_sample: bool = True

    def retry_after(self, outcome: str) -> float:
        """Seconds until a retry; an abandoned call under the UK profile is locked out for 72 hours."""
        wait = self.retries.get(outcome, DEFAULT_RETRIES.get(outcome, 3600.0))
        if outcome == "abandoned" and self.profile == "uk":
            wait = max(wait, 72 * 3600.0)
        return wait


def build_campaigns(raw_list: Any, agent_ids: set[str], tz: str, report: Report) -> list[Campaign]:
    """The checked campaigns; each agent works at most one, and only agents in [[agents]]."""
    if not isinstance(raw_list, list):
        report("campaigns", "must be an array of tables ([[campaigns]])")
        return []
    zone = ZoneInfo(tz)

    def day_edge(date: str, end: bool) -> float | None:
        if not date:
            return None
        d = dt.date.fromisoformat(date) + dt.timedelta(days=1 if end else 0)
        return dt.datetime.combine(d, dt.time(0, 0), tzinfo=zone).timestamp()

    out: list[Campaign] = []
    names: set[str] = set()
    taken: dict[str, str] = {}
    for i, raw in enumerate(raw_list):
        if not isinstance(raw, dict):
            report(f"campaigns[{i}]", "must be a table")
            continue
        c = check_fields(raw, CAMPAIGN_FIELDS, f"campaigns[{i}]", report)
        if "name" not in c or "agents" not in c:
            continue
        if c["name"] in names:
            report(f"campaigns[{i}].name", f"duplicate campaign {c['name']!r}")
        names.add(c["name"])
        if not c["agents"]:
            report(f"campaigns[{i}].agents", "a campaign needs at least one agent")
        for a in c["agents"]:
            if a not in agent_ids:
                report(f"campaigns[{i}].agents", f"no agent with id {a!r} in [[agents]]")
            elif a in taken:
                report(f"campaigns[{i}].agents", f"agent {a!r} already works campaign {taken[a]!r}")
            else:
                taken[a] = c["name"]
        w = [int(x) for x in re.findall(r"\d\d", c["window"])]

        out.append(Campaign(
            c["name"], tuple(c["agents"]), c["mode"], c["profile"], float(c["target"]), c["trunk"], c["caller_id"],
            (w[0] * 60 + w[1], w[2] * 60 + w[3]), day_edge(c["starts"], False), day_edge(c["ends"], True),
            c["retention_days"], c["line_limit"], c["ring_timeout"], c["amd"], c["amd_params"], c["abandon_prompt"],
            c["machine"], float(c["wrap_up"]),
            {**DEFAULT_RETRIES, **{k: float(v) for k, v in (c["retries"] or {}).items()}},
            c["max_attempts"], c["leads"], c["team"],
            {str(k): v for k, v in (c["dispositions"] or DEFAULT_DISPOSITIONS).items()}, c["record"], c["region"],
            c["amd_sample"],
        ))  # fmt: skip
    return out
