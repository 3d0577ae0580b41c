"""Problems in a TOML file, each as ``file:line: key.path: message``.

tomllib gives no positions, so a small locator scans the text for table headers and keys to
map every key path to its line. The site file, rules files and menu files all report this way.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
