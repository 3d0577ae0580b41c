"""Menu files: load, check and compile a TOML menu into ``ivr.model.Menu``.

Every problem is reported as ``file:line: message`` (unknown keys and types, links to unknown nodes,
unreachable nodes, menus with no exit, duplicate digits, routes to unknown services or skills, missing
prompt files, bad hours). The format is documented in the README and in ``menus/hotline.toml``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.config_problems import ConfigError, Problems, parse_toml, read_text
from ivr.model import DAYS, DIGITS, NODE_KEYS, PROMPT_KEYS, RECORD_KINDS, TERMINAL, Hours, Menu, Node

SECTIONS = ("menu", "hours", "prompts", "nodes", "survey")
MENU_KEYS = ("start", "languages", "default_service", "overflow_prompt", "studio_dir")
SURVEY_KEYS = ("prompt", "thanks", "invalid", "timeout", "retries")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class MenuError(ConfigError):
    """Problems in a menu file (each ``file:line: key: message``)."""


def _duplicates(text: str) -> list[tuple[int, str]]:
    """Duplicate keys (and duplicate digits in inline option tables), found before TOML refuses the file."""
    found: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    prefix = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0] if not re.search(r"[\"'][^\"']*#", raw) else raw
        h = re.match(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*$", line)
        if h:
            prefix = h.group(1).replace('"', "").replace("'", "")
            if prefix in seen:
                found.append((n, f"table [{prefix}] defined twice (first on line {seen[prefix]})"))
            seen.setdefault(prefix, n)
            continue
        k = re.match(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)\s*=\s*(.*)$", line)
        if not k:
            continue
        key = k.group(1).strip("\"'")
        path = f"{prefix}.{key}" if prefix else key
        is_digit = prefix.endswith(".options")
        if path in seen:
            what = f"duplicate digit {key!r} in {prefix}" if is_digit else f"duplicate key {path}"
            found.append((n, f"{what} (first on line {seen[path]})"))
        seen.setdefault(path, n)
        inline = re.match(r"^\{(.*)\}\s*$", k.group(2).strip())
        if inline:
            keys = re.findall(r"(?:^|,)\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)\s*=", inline.group(1))
            dup = sorted({x.strip("\"'") for x in keys if [y.strip("\"'") for y in keys].count(x.strip("\"'")) > 1})
            for d in dup:
                what = f"duplicate digit {d!r}" if key == "options" else f"duplicate key {d!r}"
                found.append((n, f"{path}: {what}"))
    return found


def _parse_ranges(spec: str) -> list[tuple[int, int]] | str:
    if spec.strip().lower() in ("", "closed"):
        return []
    out: list[tuple[int, int]] = []
    for part in spec.split(","):
        m = _RANGE.match(part.strip())
        if not m:
            return f"{part.strip()!r} is not HH:MM-HH:MM"
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            return f"{part.strip()!r} is not a time of day"
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            return f"{part.strip()!r} ends before it starts"
        out.append((start, end))
    out.sort()
    for (_, e1), (s2, _) in zip(out, out[1:], strict=False):
        if s2 < e1:
            return "ranges overlap"
    return out


def _offset_minutes(tz: str) -> int:
    from zoneinfo import ZoneInfo

    off = dt.datetime.now(ZoneInfo(tz)).utcoffset()
    return int(off.total_seconds() // 60) if off else 0


def load_menu(
    path: str | Path,
    *,
    services: Iterable[str],
    skills: Iterable[str],
    timezone: str = "Asia/Shanghai",
    agent_endpoint: str = "",
    check_files: bool = True,
) -> Menu:
    """Parse and check a menu file; raise MenuError with every problem."""
    p = Path(path)
    try:
        text = read_text(p, "menu file")
        dups = _duplicates(text)
        if dups:
            raise MenuError([f"{p}:{n}: {msg}" for n, msg in sorted(dups)])
        data = parse_toml(p, text)
    except MenuError:
        raise
    except ConfigError as exc:
        raise MenuError(exc.problems) from None
    problems = Problems(p, text)
    report = problems.report

    def table(name: str) -> dict[str, Any]:
        """A top-level table, or {} with a problem when the file has something else under that name."""
        got = data.get(name, {})
        if not isinstance(got, dict):
            report(name, f"[{name}] must be a table")
            return {}
        return got

    services = set(services)
    skills = set(skills)
    for name in data:
        if name not in SECTIONS:
            near = difflib.get_close_matches(name, SECTIONS, n=1)
            report(name, "unknown section" + (f" (did you mean '{near[0]}'?)" if near else ""))

    # ---- [menu] ----
    head = table("menu")
    for k in head:
        if k not in MENU_KEYS:
            report(f"menu.{k}", "unknown key")
    languages = head.get("languages", ["zh", "en"])
    if not (isinstance(languages, list) and languages and all(isinstance(x, str) and x for x in languages)):
        report("menu.languages", "must be a non-empty list of language codes, the default first")
        languages = ["zh"]
    default_service = head.get("default_service", "")
    if not isinstance(default_service, str) or not default_service:
        report("menu.default_service" if "default_service" in head else "menu", "default_service is required")
    elif default_service not in services:
        report("menu.default_service", f"unknown service {default_service!r}")
    start = head.get("start", "")
    studio = head.get("studio_dir", "")
    studio_dir = (p.parent / studio) if studio else None

    # ---- [prompts] ----
    prompts: dict[str, dict[str, str]] = {}
    for pid, texts in table("prompts").items():
        if not isinstance(texts, dict):
            report(f"prompts.{pid}", "must be a table of language = text")
            continue
        for lang, t in texts.items():
            if lang not in languages:
                report(f"prompts.{pid}.{lang}", f"language {lang!r} is not in menu.languages")
            elif not isinstance(t, str) or not t.strip():
                report(f"prompts.{pid}.{lang}", "must be non-empty text")
        prompts[pid] = {k: v for k, v in texts.items() if isinstance(v, str)}
    used_prompts: dict[str, str] = {}  # prompt id -> key path that uses it first

    def use_prompt(pid: Any, key_path: str) -> None:
        if not isinstance(pid, str) or not pid:
            report(key_path, "must name a prompt")
            return
        if pid not in prompts:
            near = difflib.get_close_matches(pid, list(prompts), n=1)
            report(key_path, f"prompt {pid!r} is not defined in [prompts]" + (f" (did you mean '{near[0]}'?)"
                                                                                   if near else ""))  # fmt: skip
            return
        used_prompts.setdefault(pid, key_path)

    overflow = head.get("overflow_prompt", "")
    if overflow:
        use_prompt(overflow, "menu.overflow_prompt")

    # ---- [hours] ----
    hours_raw = table("hours") if "hours" in data else None
    hours = Hours(timezone, _offset_minutes(timezone))
    if hours_raw is not None:
        tz = hours_raw.get("timezone", timezone)
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(tz)
        except Exception:  # noqa: BLE001
            report("hours.timezone", f"unknown time zone {tz!r}")
            tz = timezone
        week: dict[str, list[tuple[int, int]]] = {}
        for k, v in hours_raw.items():
            if k in ("timezone", "holidays"):
                continue
            if k not in DAYS:
                report(f"hours.{k}", f"unknown day (use {', '.join(DAYS)})")
                continue
            if not isinstance(v, str):
                report(f"hours.{k}", 'must be text like "09:00-18:00" or "09:00-12:00,13:00-18:00" or "closed"')
                continue
            r = _parse_ranges(v)
            if isinstance(r, str):
                report(f"hours.{k}", r)
            else:
                week[k] = r
        holidays: set[str] = set()
        listed = hours_raw.get("holidays", [])
        if not isinstance(listed, list):
            report("hours.holidays", 'must be a list of dates, like ["2026-10-01"]')
            listed = []
        for d in listed:
            try:
                holidays.add((d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))).isoformat())
            except ValueError:
                report("hours.holidays", f"{d!r} is not a date (YYYY-MM-DD)")
        hours = Hours(tz, _offset_minutes(tz), week, frozenset(holidays), always_open=False)

    # ---- [survey] ----
    survey = dict(table("survey"))
    for k in survey:
        if k not in SURVEY_KEYS:
            report(f"survey.{k}", "unknown key")
    for k in ("prompt", "thanks", "invalid"):
        if survey.get(k):
            use_prompt(survey[k], f"survey.{k}")
    if survey and not survey.get("prompt"):
        report("survey", "a survey needs a prompt")
    if "timeout" in survey and (not _num(survey["timeout"]) or not 0 < survey["timeout"] <= 60):
        report("survey.timeout", "must be seconds, more than 0 and at most 60")
    if "retries" in survey and (not isinstance(survey["retries"], int) or isinstance(survey["retries"], bool)
                                or not 0 <= survey["retries"] <= 9):  # fmt: skip
        report("survey.retries", "must be an integer 0-9")

    # ---- [nodes.*] ----
    nodes: dict[str, Node] = {}
    raw_nodes = table("nodes")
    if not raw_nodes:
        report("nodes", "the menu has no [nodes.NAME] tables")
    for name, raw in raw_nodes.items():
        base = f"nodes.{name}"
        if not isinstance(raw, dict):
            report(base, "must be a table")
            continue
        t = raw.get("type")
        if t not in NODE_KEYS:
            report(f"{base}.type" if "type" in raw else base,
                   f"type must be one of {', '.join(NODE_KEYS)}" + (f", got {t!r}" if t else ""))  # fmt: skip
            continue
        spec = NODE_KEYS[t]
        values: dict[str, Any] = {}
        for k, v in raw.items():
            if k == "type":
                continue
            if k not in spec:
                near = difflib.get_close_matches(k, list(spec), n=1)
                report(f"{base}.{k}", f"unknown key for a {t} node" + (f" (did you mean '{near[0]}'?)" if near else ""))
                continue
            values[k] = v
        for k, (default, required) in spec.items():
            if k not in values:
                if required:
                    report(base, f"a {t} node needs {k!r}")
                values[k] = default
        ok = _check_node(t, values, base, report, languages, services, skills)
        for k in PROMPT_KEYS:
            if k in spec and values.get(k):
                use_prompt(values[k], f"{base}.{k}")
        if ok:
            nodes[name] = Node(name, t, values)

    if not isinstance(start, str) or not start:
        report("menu", "start is required (the first node)")
    elif start not in raw_nodes:
        report("menu.start", f"no node named {start!r}")

    # links, reachability, exits
    for n in nodes.values():
        for how, target in n.links():
            if target not in raw_nodes:
                near = difflib.get_close_matches(str(target), list(raw_nodes), n=1)
                key = f"nodes.{n.name}.options" if how.startswith("option") else f"nodes.{n.name}.{how}"
                report(key, f"{how} leads to unknown node {target!r}" + (f" (did you mean '{near[0]}'?)"
                                                                         if near else ""))  # fmt: skip
    if start in nodes:
        seen = {start}
        todo = [start]
        while todo:
            for _, t in nodes[todo.pop()].links():
                if t in nodes and t not in seen:
                    seen.add(t)
                    todo.append(t)
        for name in nodes:
            if name not in seen:
                report(f"nodes.{name}", f"node {name!r} is unreachable from menu.start")
        exits = _exits(nodes)
        for name in sorted(seen):
            if name not in exits:
                report(f"nodes.{name}", f"node {name!r} has no exit: every path from it loops back without "
                                        "reaching a route, transfer or hangup")  # fmt: skip

    # prompt files: generated from text for each language, or a studio recording
    for pid, key_path in used_prompts.items():
        for lang in languages:
            has_text = bool(prompts.get(pid, {}).get(lang))
            has_studio = bool(studio_dir and (studio_dir / lang / f"{pid}.wav").exists())
            if not has_text and not has_studio:
                where_ = f" and no studio file {studio_dir / lang / (pid + '.wav')}" if studio_dir else ""
                report(f"prompts.{pid}" if pid in prompts else key_path,
                       f"missing prompt file: {pid!r} has no {lang} text{where_}")  # fmt: skip
    if studio and check_files and studio_dir is not None and not studio_dir.is_dir():
        report("menu.studio_dir", f"folder {studio_dir} does not exist")

    if problems.items:
        raise MenuError(problems.sorted())
    return Menu(start, tuple(languages), default_service, nodes, prompts, hours, overflow, survey,
                agent_endpoint, str(p), str(studio_dir) if studio_dir else "")  # fmt: skip


def _exits(nodes: dict[str, Node]) -> set[str]:
    """Nodes from which some path reaches a terminal node (route, transfer, hangup; record and
    callback end the call themselves when they have no next; menus and collections fall back to the
    default service after their retries)."""
    ok = {n.name for n in nodes.values() if n.type in TERMINAL}
    ok |= {n.name for n in nodes.values() if n.type in ("record", "callback") and not n.values.get("next")}
    ok |= {n.name for n in nodes.values() if n.type in ("menu", "collect", "callback") and not n.values.get("default")}
    changed = True
    while changed:
        changed = False
        for n in nodes.values():
            if n.name not in ok and any(t in ok for _, t in n.links()):
                ok.add(n.name)
                changed = True
    return ok


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_node(t: str, v: dict[str, Any], base: str, report: Any, languages: list[str], services: set[str],
                skills: set[str]) -> bool:  # fmt: skip
    ok = True

    def bad(key: str, msg: str) -> None:
        nonlocal ok
        ok = False
        report(f"{base}.{key}", msg)

    for k in ("next", "default", "open", "closed", "holiday"):
        if k in v and v[k] is not None and not isinstance(v[k], str):
            bad(k, "must name a node")
    for k in ("timeout", "first_timeout", "inter_timeout"):
        if k in v and (not _num(v[k]) or v[k] <= 0 or v[k] > 60):
            bad(k, "must be seconds, more than 0 and at most 60")
    for k in ("retries",):
        if k in v and (not isinstance(v[k], int) or isinstance(v[k], bool) or not 0 <= v[k] <= 9):
            bad(k, "must be an integer 0-9")
    if t == "menu":
        opts = v["options"]
        if not isinstance(opts, dict) or not opts:
            bad("options", 'must be a table of digit = node, like { "1" = "sales" }')
        else:
            for d, target in opts.items():
                if len(str(d)) != 1 or str(d) not in DIGITS:
                    bad("options", f"{d!r} is not a single key (0-9, * or #)")
                if not isinstance(target, str):
                    bad("options", f"digit {d}: must name a node")
    if t in ("collect", "callback"):
        lo, hi = v["min"], v["max"]
        if not isinstance(hi, int) or isinstance(hi, bool) or not 1 <= hi <= 32:
            bad("max", "must be an integer 1-32")
        elif not isinstance(lo, int) or isinstance(lo, bool) or not 1 <= lo <= hi:
            bad("min", "must be an integer from 1 to max")
    if t == "collect":
        if v["terminator"] not in ("", "#", "*"):
            bad("terminator", 'must be "#", "*" or ""')
        if not isinstance(v["variable"], str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v["variable"] or ""):
            bad("variable", "must be a channel variable name (letters, digits, '_')")
    if t == "language" and v["language"] not in languages:
        bad("language", f"{v['language']!r} is not one of menu.languages ({', '.join(languages)})")
    if t == "set":
        if not isinstance(v["tags"], list) or not all(isinstance(x, str) and x for x in v["tags"]):
            bad("tags", "must be a list of words")
        if not isinstance(v["variables"], dict) or not all(
            re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) for k in v["variables"]
        ):
            bad("variables", "must be a table of NAME = value")
    if t in ("route", "callback") and v.get("service"):
        if v["service"] not in services:
            near = difflib.get_close_matches(str(v["service"]), list(services), n=1)
            bad("service", f"route to unknown service {v['service']!r}" + (f" (did you mean '{near[0]}'?)"
                                                                          if near else ""))  # fmt: skip
    if t == "route":
        if not isinstance(v["priority"], int) or isinstance(v["priority"], bool) or not -9 <= v["priority"] <= 9:
            bad("priority", "must be an integer -9..9")
        if not isinstance(v["skills"], dict):
            bad("skills", "must be a table of skill = minimum level")
        else:
            for s, lvl in v["skills"].items():
                if s not in skills:
                    bad("skills", f"unknown skill {s!r} (no agent has it)")
                elif not isinstance(lvl, int) or isinstance(lvl, bool) or not 0 <= lvl <= 100:
                    bad("skills", f"skill {s!r}: level must be an integer 0-100")
        if not isinstance(v["survey"], bool):
            bad("survey", "must be true or false")
    if t == "record":
        if v["kind"] not in RECORD_KINDS:
            bad("kind", f"must be one of {', '.join(RECORD_KINDS)}")
        if not isinstance(v["max_seconds"], int) or not 1 <= v["max_seconds"] <= 600:
            bad("max_seconds", "must be an integer 1-600")
    if t == "transfer" and not (isinstance(v["number"], str) and re.fullmatch(r"\+?[0-9]{3,20}", v["number"])):
        bad("number", "must be a phone number (digits, optional leading +)")
    return ok
