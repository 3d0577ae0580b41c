"""The schema machinery: a key's ``Field`` (type, default, check, doc), checking a table against a
spec, and the value checks several tables share. Schemas are data so ``hotline check`` and the
README describe the same thing."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Validator = Callable[[Any], str | None]
Report = Callable[[str, str], None]


@dataclass(frozen=True)
class Field:
    type: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    check: Validator | None = None
    doc: str = ""


def port(v: Any) -> str | None:
    return None if 1 <= v <= 65535 else "must be a port number 1-65535"


def positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def digits(v: Any) -> str | None:
    return None if re.fullmatch(r"[0-9*#+]+", v) else "must be digits (0-9, *, #, +)"


def endpoint_name(v: Any) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9_.-]+", v) else "letters, digits, '_', '.', '-' only"


def levels(v: Any) -> str | None:
    for k, level in v.items():
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 100:
            return f"skill {k!r}: level must be an integer 0-100"
    return None


def split_listen(v: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as (host, port); ValueError says what is wrong."""
    host, sep, port_text = v.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    host = host[1:-1] if bracketed else host
    if not sep or not host or (":" in host and not bracketed) or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8080 (port 0-65535; 0 takes any free port), "
                         'or "" for none')
    return host, int(port_text)


def parsed_by(parse: Callable[[str], object]) -> Callable[[Any], str | None]:
    """A field check made of a parser: empty means off (no problem); otherwise the parser's ValueError, in its
    own words, is the problem."""

    def check(v: Any) -> str | None:
        if v == "":
            return None
        try:
            parse(v)
        except ValueError as exc:
            return str(exc)
        return None

    return check


def listen_address(v: Any) -> str | None:
    return parsed_by(split_listen)(v)


def group_names(v: Any) -> str | None:
    return None if all(isinstance(g, str) and g for g in v) else "must be a list of group names"


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if isinstance(t, tuple):
        return " or ".join(names.get(x, x.__name__) for x in t)
    return names.get(t, t.__name__)


def check_fields(table: dict[str, Any], spec: dict[str, Field], path: str, report: Report) -> dict[str, Any]:
    """The table's values with defaults filled in; every unknown key, wrong type or failed check reported."""
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


def checked_tables(raw: Any, section: str, spec: dict[str, Field], key: str, kind: str, seen: set[str],
                   report: Report) -> Iterator[tuple[int, dict[str, Any]]]:  # fmt: skip
    """Each table of an array of tables ([[section]]) checked against ``spec``, with its index in the file; a
    table without ``key`` is skipped (its problem is reported), a repeated ``key`` reported and kept in ``seen``."""
    if not isinstance(raw, list):
        report(section, f"must be an array of tables ([[{section}]])")
        return
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            report(f"{section}[{i}]", "must be a table")
            continue
        values = check_fields(item, spec, f"{section}[{i}]", report)
        if key not in values:
            continue
        if values[key] in seen:
            report(f"{section}[{i}].{key}", f"duplicate {kind} {values[key]!r}")
        seen.add(values[key])
        yield i, values
