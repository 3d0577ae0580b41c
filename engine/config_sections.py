"""Schemas of the site file's plain tables: [site], [mqtt], [asterisk], [store], [recording], [hotline], [ivr],
[http]."""

from __future__ import annotations

from typing import Any

from engine.config_fields import Field, digits, endpoint_name, group_names, port, positive
from engine.mqtt.settings import MQTT_FIELDS
from engine.regions import region_problem as _region
from engine.regions import timezone_problem as _timezone
from engine.web.settings import HTTP_FIELDS
from ivr.settings import IVR_FIELDS


def _pause_reasons(v: Any) -> str | None:
    for code, reason in v.items():
        if not str(code).isdigit():
            return f"code {code!r}: codes are the digits dialled after *23"
        if not isinstance(reason, str) or not reason or "|" in reason:
            return f"code {code}: the reason must be non-empty text without '|' (it goes into queue_log)"
    return None


SECTIONS: dict[str, dict[str, Field]] = {
    "site": {
        "name": Field(str, required=True, check=endpoint_name, doc="short site name, used in MQTT topics"),
        "timezone": Field(str, "Asia/Shanghai", check=_timezone, doc="IANA time zone of the site"),
    },
    "mqtt": MQTT_FIELDS,  # engine/mqtt/settings.py
    "asterisk": {
        "ami_host": Field(str, "127.0.0.1", doc="AMI address"),
        "ami_port": Field(int, 5038, check=port),
        "ami_user": Field(str, "engine"),
        "ami_secret_file": Field(str, "", doc="file holding the AMI secret; empty with lab = true"),
        "lab": Field(bool, False, doc="take the AMI secret and recording folder from `hotline lab`"),
        "agi_host": Field(str, "127.0.0.1", doc="address the FastAGI server binds"),
        "agi_port": Field(int, 4573, check=port),
        "trunk": Field(str, "trunk", check=endpoint_name, doc="PJSIP endpoint of the carrier"),
        "action_timeout": Field((int, float), 10.0, check=positive, doc="seconds an AMI action may take"),
        "ping_interval": Field((int, float), 5.0, check=positive, doc="seconds between AMI pings"),
        "cel_file": Field(str, "", doc="Asterisk's cel-custom Master.csv as this machine sees it: calls that ended "
                          "while the engine was away are closed from it (empty: the lab's, else Asterisk's default)"),
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
        "number": Field(str, required=True, check=digits, doc="the hotline's dialled number"),
        "prompt": Field(str, "hello-world", doc="greeting prompt (Asterisk sound name)"),
        "digit_timeout_ms": Field(int, 5000, check=positive),
        "agent": Field(str, required=True, doc="id of the agent who normally takes the hotline"),
        "ring_timeout": Field(int, 15, check=positive, doc="seconds an agent's phone rings (3 rings in China)"),
        "region": Field(str, "CN", check=_region, doc="ISO 3166 country callers' numbers are read in (call backs)"),
        "service": Field(str, "hotline", doc="service hotline callers are queued in"),
        "max_misses": Field(int, 3, check=positive, doc="unanswered offers in a row before an agent is paused"),
        "pause_reasons": Field(dict, None, check=_pause_reasons, doc="codes after *23"),
        "guard_agents": Field(list, None, check=group_names, doc="outbound agents the guard may take off the dialer"),
        "guard_after": Field((int, float), 5, check=positive,
                             doc="a hotline caller waiting this long with no agent free: the guard reserves one"),
        "guard_release": Field((int, float), 60, check=positive,
                               doc="seconds with no hotline caller waiting before the agent goes back to dialing"),
    },
    "ivr": IVR_FIELDS,  # ivr/settings.py
    "http": HTTP_FIELDS,  # engine/web/settings.py
}
