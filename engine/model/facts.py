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
    key: str  # idempotency key (``fact_key``): the same fact learned twice is stored once
    data: dict[str, Any] = field(default_factory=dict)


def fact_key(kind: str, *parts: object) -> str:
    """The idempotency key of a fact: its kind, then the parts that tell it from other facts of that kind,
    joined with ``:`` (``fact_key("channel.up", uid)`` is ``channel.up:<uid>``).

    The kind comes first, so facts of two kinds can never share a key. Parts are written with ``str()``, as an
    f-string writes them (a float in full: pass ``f"{t:.3f}"`` where a fixed precision is meant); a part's own
    ``%`` and ``:`` are written ``%25`` and ``%3A``, so two different lists of parts never join to the same
    key. The identifiers keys are made of (Asterisk Uniqueids, bridge ids, agent ids, epoch seconds) hold
    neither, so their keys read plainly and a key rebuilt from Asterisk's records after a crash is the one
    written live. Ledgers written before keys began with the kind were rewritten by migration 0011."""
    if not kind or ":" in kind:
        raise ValueError(f"a fact kind must be non-empty and without ':': {kind!r}")
    return ":".join([kind, *(str(p).replace("%", "%25").replace(":", "%3A") for p in parts)])
