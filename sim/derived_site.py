"""A site file derived from another: the same values with a few changed, written where a run keeps its files.

The copy lives in another folder, so what the original resolves against its own folder (``ivr.menu`` and
a relative SQLite path) is made absolute first; the other paths of a site are the current folder's, the
same for both. Written as TOML again (tables, arrays of tables, inline tables for nested ones).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

from engine.store.url import resolve


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dumps(data: dict[str, Any]) -> str:
    out: list[str] = []
    for name, table in data.items():
        if isinstance(table, list):
            for item in table:
                out.append(f"\n[[{name}]]")
                out += [f"{json.dumps(k)} = {_value(v)}" for k, v in item.items()]
        elif isinstance(table, dict):
            out.append(f"\n[{name}]")
            out += [f"{json.dumps(k)} = {_value(v)}" for k, v in table.items()]
        else:
            out.insert(0, f"{json.dumps(name)} = {_value(table)}")
    return "\n".join(out).lstrip("\n") + "\n"


def derive(original: Path, target: Path, **changes: dict[str, Any]) -> Path:
    """Write ``target``: the original site file with ``changes`` (section -> keys) applied."""
    base = original.resolve().parent
    data = tomllib.loads(original.read_text())
    ivr = data.get("ivr", {})
    if ivr.get("menu"):
        ivr["menu"] = str(base / ivr["menu"])
    store = data.get("store", {})
    if store.get("url"):
        store["url"] = resolve(store["url"], base)
    for section, values in changes.items():
        data.setdefault(section, {}).update(values)
    target.write_text(f"# derived from {original.resolve()}\n" + dumps(data))
    return target
