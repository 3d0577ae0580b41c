"""The site file's ``[mqtt]`` section: the broker's URL and the topic prefix, checked with file and line.

Pure: parsing and checking only, so ``hotline check``, ``hotline demo --mqtt`` and the engine read a URL the
same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from engine.config_fields import Field, parsed_by

SCHEMES = {"mqtt": 1883, "mqtts": 8883}  # mqtts: TLS with the system's certificate authorities


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:  # for logs: never the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_url(url: str) -> Broker:
    """``mqtt://[user[:password]@]host[:port]`` (or ``mqtts://``); ValueError says what is wrong, in one line."""
    example = "e.g. mqtt://127.0.0.1:1883"
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a broker URL ({exc}; {example})") from None
    if u.scheme not in SCHEMES:
        raise ValueError(f"{url!r}: the scheme must be mqtt:// or mqtts:// ({example})")
    if not u.hostname:
        raise ValueError(f"{url!r}: no broker host ({example})")
    if u.path not in ("", "/") or u.query or u.fragment:
        raise ValueError(f"{url!r}: a broker URL has no path, query or fragment ({example})")
    return Broker(u.hostname, port or SCHEMES[u.scheme], u.scheme == "mqtts",
                  unquote(u.username) if u.username else None,
                  unquote(u.password) if u.password is not None else None)  # fmt: skip


def url_problem(url: str) -> str | None:
    return parsed_by(parse_url)(url)  # empty: MQTT off


def prefix_problem(prefix: str) -> str | None:
    if not prefix:
        return None  # empty: hotline/<site name>
    if re.search(r"[+#\x00]", prefix):
        return "no '+', '#' or NUL: they are MQTT wildcards, not topic characters"
    if prefix.startswith("$"):
        return "must not start with '$' (the broker's own topics)"
    if prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
        return "levels separated by single '/', none empty, no '/' at either end (e.g. hotline/site-a)"
    return None


MQTT_FIELDS: dict[str, Field] = {
    "url": Field(str, "", check=url_problem, doc="broker, mqtt://host[:port] or mqtts:// (empty: no MQTT)"),
    "topic_prefix": Field(str, "", check=prefix_problem, doc="topics start with this (empty: hotline/<site name>)"),
}


def topic_prefix(mqtt: dict[str, Any], site_name: str) -> str:
    return str(mqtt.get("topic_prefix") or f"hotline/{site_name}")
