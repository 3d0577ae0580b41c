"""Which MQTT topic and payload each bus change becomes (pure).

``<prefix>/agent/<id>``, ``<prefix>/service/<name>``, ``<prefix>/campaign/<name>``: retained JSON states;
``<prefix>/status``: the engine's own, retained, with ``"state": "online"`` (the last will says ``offline``);
``<prefix>/calls/<call id>``: a call's facts, not retained. A payload is the bus change as the wallboard
reads it (``Change.as_dict``): a consumer of either sees the same fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from engine.live.bus import Change

RETAINED_TOPICS = {"agent": "agent", "service": "service", "campaign": "campaign"}
EVENTS = "calls"
STATUS = "status"
STATE_QOS = 0  # states are published again in full after every reconnect, so none is lost for good
STATUS_QOS = 1  # online, offline and the last will: acknowledged by the broker


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    qos: int = 0


def level(key: str) -> str:
    """One topic level: '/' would split it, '+' and '#' are wildcards, NUL is forbidden."""
    return re.sub(r"[/+#\x00]", "_", key) or "_"


def encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def status_payload(state: str, **data: Any) -> bytes:
    return encode({"topic": "engine", "key": "status", "state": state, **data})


def message(prefix: str, change: Change) -> Message | None:
    """The MQTT message of a bus change; None for a topic MQTT does not carry."""
    if change.topic == "engine":
        return Message(f"{prefix}/{STATUS}", status_payload("online", **{k: v for k, v in change.as_dict().items()
                                                                          if k not in ("topic", "key")}),
                       retain=True, qos=STATUS_QOS)  # fmt: skip
    if change.topic in RETAINED_TOPICS:
        return Message(f"{prefix}/{RETAINED_TOPICS[change.topic]}/{level(change.key)}", encode(change.as_dict()),
                       retain=True, qos=STATE_QOS)  # fmt: skip
    if change.topic == "call":
        return Message(f"{prefix}/{EVENTS}/{level(change.key)}", encode(change.as_dict()), retain=False, qos=0)
    return None
