"""A fact: one thing that happened, as written to the append-only ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fact:
    kind: str
    at: float
    call_id: str
    uniqueid: str
    key: str  # idempotency key: the same fact learned twice is stored once
    data: dict[str, Any] = field(default_factory=dict)
