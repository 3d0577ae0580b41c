"""Site configuration: one TOML file, checked against a schema, errors as ``file:line: key.path: message``.

tomllib gives no positions, so a small locator scans the text for table headers and keys to
map every key path to its line. The schema is data (``SCHEMA``) so ``hotline check`` and the
README describe the same thing.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.regions import region_problem as _region
from engine.regions import timezone_problem as _timezone
from engine.store.url import check_section as check_store

Validator = Callable[[Any], str | None]


@dataclass(frozen=True)
class Field:
    type: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    check: Validator | None = None
    doc: str = ""


def _port(v: Any) -> str | None:
    return None if 1 <= v <= 65535 else "must be a port number 1-65535"


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _digits(v: Any) -> str | None:
    return None if re.fullmatch(r"[0-9*#+]+", v) else "must be digits (0-9, *, #, +)"


def _endpoint_name(v: Any) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9_.-]+", v) else "letters, digits, '_', '.', '-' only"


SECTIONS: dict[str, dict[str, Field]] = {
    "site": {
        "name": Field(str, required=True, check=_endpoint_name, doc="short site name, used in MQTT topics"),
        "timezone": Field(str, "Asia/Shanghai", check=_timezone, doc="IANA time zone of the site"),
    },
    "asterisk": {
        "ami_host": Field(str, "127.0.0.1", doc="AMI address"),
        "ami_port": Field(int, 5038, check=_port),
        "ami_user": Field(str, "engine"),
        "ami_secret_file": Field(str, "", doc="file holding the AMI secret; empty with lab = true"),
        "lab": Field(bool, False, doc="take the AMI secret and recording folder from `hotline lab`"),
        "agi_host": Field(str, "127.0.0.1", doc="address the FastAGI server binds"),
        "agi_port": Field(int, 4573, check=_port),
        "trunk": Field(str, "trunk", check=_endpoint_name, doc="PJSIP endpoint of the carrier"),
        "action_timeout": Field((int, float), 10.0, check=_positive, doc="seconds an AMI action may take"),
        "ping_interval": Field((int, float), 5.0, check=_positive, doc="seconds between AMI pings"),
    },
    "store": {
        "url": Field(str, "sqlite+aiosqlite:///hotline.db", doc="async URL (SQLite path from the site's folder)"),
        "queue_log_file": Field(str, "", doc="also write Asterisk-format queue_log lines to this file"),
    },
    "recording": {
        "asterisk_dir": Field(str, "/var/spool/asterisk/monitor", doc="folder as Asterisk sees it"),
        "local_dir": Field(str, "", doc="the same folder as the engine sees it (empty with lab = true)"),
    },
    "hotline": {
        "number": Field(str, required=True, check=_digits, doc="the hotline's dialled number"),
        "prompt": Field(str, "hello-world", doc="greeting prompt (Asterisk sound name)"),
        "digit_timeout_ms": Field(int, 5000, check=_positive),
        "agent": Field(str, required=True, doc="id of the agent who normally takes the hotline"),
        "ring_timeout": Field(int, 15, check=_positive, doc="seconds an agent's phone rings (3 rings in China)"),
        "region": Field(str, "CN", check=_region, doc="ISO 3166 country callers' numbers are read in (call backs)"),
        "service": Field(str, "hotline", doc="service hotline callers are queued in"),
        "max_misses": Field(int, 3, check=_positive, doc="unanswered offers in a row before an agent is paused"),
        "pause_reasons": Field(dict, None, check=lambda v: _pause_reasons(v), doc="codes after *23"),
        "guard_agents": Field(list, None, check=lambda v: _groups(v),
                              doc="outbound agents the guard may take off the dialer"),
        "guard_after": Field((int, float), 5, check=_positive,
                             doc="a hotline caller waiting this long with no agent free: the guard reserves one"),
        "guard_release": Field((int, float), 60, check=_positive,
                               doc="seconds with no hotline caller waiting before the agent goes back to dialing"),
    },
    "ivr": {
        "menu": Field(str, "", doc="menu file, relative to the site file (empty: greeting + one digit)"),
        "max_sessions": Field(int, 8, check=_positive, doc="IVR sessions at once; the next caller skips the menu"),
        "prompt_dir": Field(str, "/var/lib/asterisk/sounds/hotline", doc="built prompts, as Asterisk sees them"),
        "prompt_local_dir": Field(str, "", doc="the same folder as this machine sees it (empty with lab = true)"),
        "snapshot_file": Field(str, "", doc="last valid menu for the degraded AGI script (empty with lab = true)"),
        "cdr_file": Field(str, "", doc="Asterisk's cdr-csv Master.csv: degraded calls (empty with lab = true)"),
        "reload_interval": Field((int, float), 2.0, check=_positive, doc="seconds between menu file checks"),
    },
}

STRATEGIES = ("longest_idle", "least_skilled", "round_robin", "fewest_calls")


def _levels(v: Any) -> str | None:
    for k, level in v.items():
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 100:
            return f"skill {k!r}: level must be an integer 0-100"
    return None


def _pause_reasons(v: Any) -> str | None:
    for code, reason in v.items():
        if not str(code).isdigit():
            return f"code {code!r}: codes are the digits dialled after *23"
        if not isinstance(reason, str) or not reason or "|" in reason:
            return f"code {code}: the reason must be non-empty text without '|' (it goes into queue_log)"
    return None


def _strategy(v: Any) -> str | None:
    return None if v in STRATEGIES else f"must be one of {', '.join(STRATEGIES)}"


def _rules(v: Any) -> str | None:
    last = -1.0
    for i, r in enumerate(v):
        if not isinstance(r, dict):
            return f"rule {i + 1}: must be a table like {{after = 30, lower = {{sales = 20}}}}"
        unknown = set(r) - {"after", "lower", "add_groups", "raise_priority", "announce", "offer_callback",
                            "voicemail"}
        if unknown:
            return f"rule {i + 1}: unknown key(s) {', '.join(sorted(unknown))}"
        after = r.get("after")
        if not isinstance(after, int | float) or isinstance(after, bool) or after < 0:
            return f"rule {i + 1}: 'after' must be seconds >= 0"
        if after <= last:
            return f"rule {i + 1}: 'after' must grow from one rule to the next"
        last = float(after)
        if "lower" in r and (not isinstance(r["lower"], dict) or _levels(r["lower"])):
            return f"rule {i + 1}: 'lower' must map skills to levels 0-100"
        if "add_groups" in r and not (
            isinstance(r["add_groups"], list) and all(isinstance(g, str) for g in r["add_groups"])
        ):
            return f"rule {i + 1}: 'add_groups' must be a list of group names"
        if "raise_priority" in r and (
            not isinstance(r["raise_priority"], int) or isinstance(r["raise_priority"], bool)
        ):
            return f"rule {i + 1}: 'raise_priority' must be an integer"
        if "announce" in r and (not isinstance(r["announce"], str) or not r["announce"].strip()):
            return f"rule {i + 1}: 'announce' must name a prompt (a menu prompt or an Asterisk sound)"
        for flag in ("offer_callback", "voicemail"):
            if flag in r and not isinstance(r[flag], bool):
                return f"rule {i + 1}: {flag!r} must be true or false"
    return None


def _merged(*lists: list[str] | None) -> tuple[str, ...]:
    """Teams and groups are one routing concept (a set of agents); both spellings are accepted."""
    out: list[str] = []
    for names in lists:
        out += [n for n in names or () if n not in out]
    return tuple(out)


def _groups(v: Any) -> str | None:
    return None if all(isinstance(g, str) and g for g in v) else "must be a list of group names"


SERVICE_FIELDS: dict[str, Field] = {
    "name": Field(str, required=True, check=_endpoint_name),
    "skills": Field(dict, None, check=_levels, doc="skill -> minimum level 0-100"),
    "priority": Field(int, 0),
    "strategy": Field(str, "longest_idle", check=_strategy),
    "wrap_up": Field((int, float), 10, check=lambda v: None if v >= 0 else "must be >= 0", doc="seconds"),
    "sl_target": Field((int, float), 15, check=_positive, doc="service-level threshold, seconds"),
    "max_wait": Field(
        (int, float),
        0,
        check=lambda v: None if v >= 0 else "must be >= 0",
        doc="seconds in queue before the caller is sent to the apology (0 = no limit)",
    ),
    "groups": Field(list, None, check=_groups, doc="agent groups that serve it whatever their skills"),
    "teams": Field(list, None, check=_groups, doc="teams that serve it whatever their skills (same as groups)"),
    "rules": Field(list, None, check=_rules, doc="steps as the wait grows: after, lower, add_groups, raise_priority, "
                   "announce, offer_callback, voicemail"),
    "announce_every": Field((int, float), 0, check=lambda v: None if v == 0 or v >= 15 else "must be 0 (off) or >= 15",
                            doc="seconds between position / expected-wait announcements (0 = none)"),
    "announce_position": Field(bool, True),
    "announce_wait": Field(bool, True),
    "callback_attempts": Field(int, 3, check=lambda v: None if 1 <= v <= 10 else "must be 1-10"),
    "callback_retry": Field((int, float), 120, check=lambda v: None if v >= 30 else "must be >= 30 seconds"),
}

AGENT_FIELDS: dict[str, Field] = {
    "id": Field(str, required=True, check=_endpoint_name),
    "name": Field(str, ""),
    "endpoint": Field(str, "", check=lambda v: None if not v else _endpoint_name(v), doc="PJSIP endpoint"),
    "contact": Field(str, "", doc="static SIP contact (lab agents without registration)"),
    "skills": Field(dict, None, check=_levels, doc="skill -> level 0-100"),
    "groups": Field(list, None, check=_groups),
    "teams": Field(list, None, check=_groups, doc="teams the agent belongs to (routing treats them as groups)"),
    "auto_login": Field(bool, True, doc="logged in when the engine starts (else *21 on the phone)"),
    "always_on": Field(bool, False, doc="callers join an open call to the phone (no ringing); campaign agents "
                       "always work so"),
}


def _window(v: Any) -> str | None:
    m = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", v)
    if not m or int(m[1]) > 23 or int(m[2]) > 59 or int(m[4]) > 59 or (int(m[3]), int(m[4])) > (24, 0):
        return "must be HH:MM-HH:MM (the lead's local time)"
    return None if (int(m[1]), int(m[2])) < (int(m[3]), int(m[4])) else "the window must end after it starts"


def _date(v: Any) -> str | None:
    import datetime as dt

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
    "name": Field(str, required=True, check=_endpoint_name),
    "agents": Field(list, required=True, doc="ids of the agents who work it (always-on sessions)"),
    "mode": Field(str, "predictive", check=lambda v: None if v in ("predictive", "progressive", "preview")
                  else "must be predictive, progressive or preview"),  # fmt: skip
    "profile": Field(str, "us", check=lambda v: None if v in ("us", "uk", "custom") else "must be us, uk or custom",
                     doc="compliance: us (30-day rate over live answers), uk (24 h, AMD estimate added)"),
    "target": Field((int, float), 0.03, check=lambda v: None if 0 < v < 0.2 else "must be between 0 and 0.2"),
    "trunk": Field(str, "trunk", check=_endpoint_name),
    "caller_id": Field(str, "", check=lambda v: None if not v else _digits(v)),
    "window": Field(str, "08:00-21:00", check=_window, doc="calling window in the lead's local time"),
    "starts": Field(str, "", check=lambda v: None if not v else _date(v)),
    "ends": Field(str, "", check=lambda v: None if not v else _date(v), doc="last calling day; purge counts from it"),
    "retention_days": Field(int, 30, check=lambda v: None if v >= 0 else "must be >= 0"),
    "line_limit": Field(int, 0, check=lambda v: None if v >= 0 else "must be >= 0",
                        doc="most calls at once (0 = 6 per agent)"),  # fmt: skip
    "ring_timeout": Field(int, 25, check=lambda v: None if 15 <= v <= 60 else "must be 15-60 s (ring at least 15 s)"),
    "amd": Field(bool, True),
    "amd_params": Field(str, "", doc="AMD() arguments, e.g. 2500,1500,800,5000"),
    "abandon_prompt": Field(str, "hotline-abandon", doc="what a live answer with no agent hears"),
    "machine": Field(str, "hangup",
                     check=lambda v: None if v in ("hangup", "message") else "must be hangup or message"),  # fmt: skip
    "wrap_up": Field((int, float), 10, check=lambda v: None if v >= 0 else "must be >= 0"),
    "retries": Field(dict, None, check=_retries, doc="seconds until a retry, per outcome"),
    "max_attempts": Field(int, 3, check=_positive),
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

DEFAULT_DISPOSITIONS = {"1": "sale", "2": "no sale", "3": "call back", "9": "do not call"}
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

    def retry_after(self, outcome: str) -> float:
        """Seconds until a retry; an abandoned call under the UK profile is locked out for 72 hours."""
        wait = self.retries.get(outcome, DEFAULT_RETRIES.get(outcome, 3600.0))
        if outcome == "abandoned" and self.profile == "uk":
            wait = max(wait, 72 * 3600.0)
        return wait


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    endpoint: str
    contact: str
    skills: dict[str, int] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    auto_login: bool = True
    always_on: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    skills: dict[str, int]
    priority: int
    strategy: str
    wrap_up: float
    sl_target: float
    groups: tuple[str, ...]
    rules: tuple[dict[str, Any], ...]
    max_wait: float = 0.0
    announce_every: float = 0.0
    announce_position: bool = True
    announce_wait: bool = True
    callback_attempts: int = 3
    callback_retry: float = 120.0


@dataclass(frozen=True)
class Site:
    path: Path
    values: dict[str, dict[str, Any]]
    agents: list[Agent] = field(default_factory=list)
    services: list[ServiceConfig] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    def agent(self, agent_id: str) -> Agent:
        for a in self.agents:
            if a.id == agent_id:
                return a
        raise KeyError(agent_id)

    def with_values(self, **sections: dict[str, Any]) -> Site:
        """A copy with some keys changed (tests and tools); the schema has been checked already."""
        values = {k: dict(v) for k, v in self.values.items()}
        for section, updates in sections.items():
            values[section].update(updates)
        return Site(self.path, values, list(self.agents), list(self.services), list(self.campaigns))

    def menu_path(self) -> Path | None:
        menu = self.values["ivr"]["menu"]
        return (self.path.parent / menu) if menu else None

    def service_names(self) -> list[str]:
        return [sv.name for sv in self.services] or [self.values["hotline"]["service"]]

    def skill_names(self) -> set[str]:
        return {k for a in self.agents for k in a.skills}

    def summary(self) -> str:
        return (
            f"{self.path}: ok: site {self['site']['name']!r}, hotline {self['hotline']['number']}, "
            f"{len(self.agents)} agent(s), AMI {self['asterisk']['ami_host']}:{self['asterisk']['ami_port']}, "
            f"store {self['store']['url'].split(':', 1)[0]}"
        )


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def locate_keys(text: str) -> dict[str, int]:
    """Map key paths ('hotline.agent', 'agents[1].id', 'agents[1]') to 1-based line numbers."""
    lines: dict[str, int] = {}
    prefix = ""
    array_counts: dict[str, int] = {}
    in_multiline: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in raw:
                in_multiline = None
            continue
        m = _HEADER.match(raw)
        if m and not _KEY.match(raw):
            name = m.group(2).replace('"', "").replace("'", "").strip()
            if m.group(1) == "[[":
                idx = array_counts.get(name, 0)
                array_counts[name] = idx + 1
                prefix = f"{name}[{idx}]"
            else:
                prefix = name
            lines.setdefault(prefix, n)
            continue
        k = _KEY.match(raw)
        if k:
            key = k.group(1).replace('"', "").replace("'", "")
            path = f"{prefix}.{key}" if prefix else key
            lines.setdefault(path, n)
            rest = raw.split("=", 1)[1]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return lines


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if isinstance(t, tuple):
        return " or ".join(names.get(x, x.__name__) for x in t)
    return names.get(t, t.__name__)


def _check_fields(
    table: dict[str, Any], spec: dict[str, Field], path: str, report: Callable[[str, str], None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in spec:
            near = difflib.get_close_matches(key, list(spec), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            report(f"{path}.{key}", f"unknown key{hint}")
            continue
        f = spec[key]
        ok_type = isinstance(value, f.type) and not (isinstance(value, bool) and f.type in (int, (int, float)))
        if not ok_type:
            report(f"{path}.{key}", f"must be {_type_name(f.type)}, got {type(value).__name__}")
            continue
        if f.check is not None:
            msg = f.check(value)
            if msg:
                report(f"{path}.{key}", msg)
                continue
        out[key] = value
    for key, f in spec.items():
        if key in out:
            continue
        if key in table:
            # the value was wrong and is already reported; the default keeps the rest of the check going
            if not f.required:
                out[key] = f.default
            continue
        if f.required:
            report(f"{path}.{key}", "required key is missing")
        else:
            out[key] = f.default
    return out


def read_text(p: Path, what: str = "file") -> str:
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: {what} not found"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{p}: not UTF-8 text ({exc.reason})"]) from None


def parse_toml(p: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise ConfigError([f"{p}:{m.group(1) if m else 1}: syntax: {exc}"]) from None


class Problems:
    """Problems found in one TOML file, each placed on the line of its key (or of the nearest table)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.where = locate_keys(text)
        self.items: list[tuple[int, str]] = []

    def report(self, key_path: str, message: str) -> None:
        line = self.where.get(key_path)
        probe = key_path
        while line is None and "." in probe:
            probe = probe.rsplit(".", 1)[0]
            line = self.where.get(probe)
        self.items.append((line or 1, f"{self.path}:{line or 1}: {key_path}: {message}"))

    def sorted(self) -> list[str]:
        return [msg for _, msg in sorted(self.items, key=lambda x: x[0])]


def load_site(path: str | os.PathLike[str]) -> Site:
    """Parse and validate; raise ConfigError listing every problem as file:line: key: message."""
    p = Path(path)
    text = read_text(p)
    data = parse_toml(p, text)
    problems = Problems(p, text)
    report = problems.report

    values: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if name in ("agents", "services", "campaigns"):
            continue
        if name not in SECTIONS:
            near = difflib.get_close_matches(name, [*SECTIONS, "agents", "services", "campaigns"], n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            report(name, f"unknown section{hint}")
        elif not isinstance(table, dict):
            report(name, "must be a table")
    for name, spec in SECTIONS.items():
        table = data.get(name, {})
        values[name] = _check_fields(table if isinstance(table, dict) else {}, spec, name, report)

    agents: list[Agent] = []
    raw_agents = data.get("agents", [])
    if not isinstance(raw_agents, list):
        report("agents", "must be an array of tables ([[agents]])")
        raw_agents = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_agents):
        if not isinstance(raw, dict):
            report(f"agents[{i}]", "must be a table")
            continue
        a = _check_fields(raw, AGENT_FIELDS, f"agents[{i}]", report)
        if "id" not in a:
            continue
        if a["id"] in seen:
            report(f"agents[{i}].id", f"duplicate agent id {a['id']!r}")
        seen.add(a["id"])
        agents.append(Agent(a["id"], a["name"] or a["id"], a["endpoint"] or f"agent{a['id']}", a["contact"],
                            dict(a["skills"] or {}), _merged(a["groups"], a["teams"]), a["auto_login"],
                            a["always_on"]))  # fmt: skip

    services, names = _services(data.get("services", []), agents, report)

    hot = values.get("hotline", {})
    if hot.get("agent") and hot["agent"] not in seen:
        report("hotline.agent", f"no agent with id {hot['agent']!r} in [[agents]]")
    campaign_agents_of = {a for raw in data.get("campaigns", []) if isinstance(raw, dict)
                          for a in raw.get("agents", []) or [] if isinstance(a, str)}  # fmt: skip
    for g in hot.get("guard_agents") or []:
        if g not in seen:
            report("hotline.guard_agents", f"no agent with id {g!r} in [[agents]]")
        elif g not in campaign_agents_of:
            report("hotline.guard_agents", f"agent {g!r} works no campaign: the guard takes agents off the dialer")
    if services and hot.get("service") not in names:
        report("hotline.service", f"no service named {hot.get('service')!r} in [[services]]")
    ast = values["asterisk"]
    if not ast.get("lab") and not ast.get("ami_secret_file"):
        report("asterisk.ami_secret_file", "required unless lab = true (no default password)")
    if not ast.get("lab") and not values["recording"].get("local_dir"):
        report("recording.local_dir", "required unless asterisk.lab = true")
    check_store(values["store"], p.parent, report)  # a relative SQLite path is the site folder's
    menu = values["ivr"].get("menu")
    if menu and not (p.parent / menu).exists():
        report("ivr.menu", f"menu file {p.parent / menu} not found")
    campaigns = _campaigns(data.get("campaigns", []), seen, values["site"].get("timezone", "Asia/Shanghai"), report)
    if problems.items:
        raise ConfigError(problems.sorted())
    return Site(p, values, agents, services, campaigns)


def _services(raw_services: Any, agents: list[Agent],
              report: Callable[[str, str], None]) -> tuple[list[ServiceConfig], set[str]]:  # fmt: skip
    services: list[ServiceConfig] = []
    if not isinstance(raw_services, list):
        report("services", "must be an array of tables ([[services]])")
        raw_services = []
    names: set[str] = set()
    for i, raw in enumerate(raw_services):
        if not isinstance(raw, dict):
            report(f"services[{i}]", "must be a table")
            continue
        sv = _check_fields(raw, SERVICE_FIELDS, f"services[{i}]", report)
        if "name" not in sv:
            continue
        if sv["name"] in names:
            report(f"services[{i}].name", f"duplicate service {sv['name']!r}")
        names.add(sv["name"])
        services.append(ServiceConfig(sv["name"], dict(sv["skills"] or {}), sv["priority"], sv["strategy"],
                                      float(sv["wrap_up"]), float(sv["sl_target"]), _merged(sv["groups"], sv["teams"]),
                                      tuple(sv["rules"] or ()), float(sv["max_wait"]), float(sv["announce_every"]),
                                      sv["announce_position"], sv["announce_wait"], sv["callback_attempts"],
                                      float(sv["callback_retry"])))  # fmt: skip
    known_skills = {k for a in agents for k in a.skills}
    for i, sv in enumerate(services):
        for skill in sv.skills:
            if skill not in known_skills:
                report(f"services[{i}].skills", f"no agent has skill {skill!r}")
    return services, names


def load_rules(path: str | os.PathLike[str], site: Site) -> Site:
    """The site with its ``[[services]]`` (and their rule steps) replaced by a rules file's: the what-if of
    ``hotline replay``. Problems as ``file:line: key: message``, like the site file's."""
    import dataclasses

    p = Path(path)
    text = read_text(p, "rules file")
    data = parse_toml(p, text)
    problems = Problems(p, text)
    for name in data:
        if name != "services":
            problems.report(name, "a rules file holds [[services]] tables only")
    services, names = _services(data.get("services", []), site.agents, problems.report)
    if not services:
        problems.report("services", "no [[services]]: nothing to replay with")
    elif site["hotline"]["service"] not in names:
        problems.report("services", f"the hotline's service {site['hotline']['service']!r} is missing")
    if problems.items:
        raise ConfigError(problems.sorted())
    return dataclasses.replace(site, services=services)


def _campaigns(raw_list: Any, agent_ids: set[str], tz: str, report: Callable[[str, str], None]) -> list[Campaign]:
    import datetime as dt
    from zoneinfo import ZoneInfo

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
        c = _check_fields(raw, CAMPAIGN_FIELDS, f"campaigns[{i}]", report)
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
        ))  # fmt: skip
    return out
