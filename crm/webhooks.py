"""Webhooks to an external CRM, without I/O: which facts make which events, each event's JSON and signature, and
what a receiver's answer means (delivered, try again later, refused). ``sender.py`` reads the ledger, POSTs and
waits; everything it decides is decided here.

An event is sent once its fact is in the ledger, in the ledger's order, and its ``id`` is the fact's ledger id:
a receiver that got an id already (the engine stopped after the POST, before it wrote down the delivery) knows
the event again by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from engine.model.facts import Fact, fact_key

CALL_END = "call.end"
DIAL_RESULT = "outbound.result"
DISPOSITION = "outbound.disposition"
CASE_KINDS = ("case.opened", "case.assigned", "case.status", "case.resolved", "case.linked", "case.overdue",
              "case.purged")  # fmt: skip
SALE_KINDS = ("sale.order", "sale.corrected")  # an order and each correction of it (sales/model.py)
SOURCES = {"call": (CALL_END, DIAL_RESULT), "disposition": (DISPOSITION,), "case": CASE_KINDS, "sale": SALE_KINDS}

# the sender's own facts: where it has got to in the ledger, under one call id of their own
STATE_CALL = "crm:webhook"
FROM, SENT, REFUSED = "crm.webhook.from", "crm.webhook.sent", "crm.webhook.refused"
STATE_KINDS = (FROM, SENT, REFUSED)
# answers that refuse this one event (its content); anything else but 2xx is tried again: a wrong address, a
# rejected signature or a receiver down is the receiver's to fix, and no event may be lost meanwhile
REFUSING = frozenset({400, 409, 413, 415, 422})
SIGNATURE_HEADER = "X-Hotline-Signature"


def source_kinds(groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(k for g in sorted(groups) for k in SOURCES[g])


def event_name(kind: str) -> str:
    return {CALL_END: "call.ended", DIAL_RESULT: "dial.result", DISPOSITION: "disposition"}.get(kind, kind)


def wanted(fact: Fact, record: Mapping[str, Any] | None) -> bool:
    """Whether a fact is an event: a call's end only with the caller's record (the engine derives it in the same
    step as the end, so it is there once the end is); an agent's own call, a session or a fax machine has none,
    and a dial's end is its ``dial.result``."""
    return fact.kind != CALL_END or record is not None


def event(delivery: int, fact: Fact, record: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON object of one event. A caller's call's is its record as the engine keeps it (numbers in full: the
    CRM matches customers by them); a dial's result, a disposition, an order's version and a case's change are
    their facts' data."""
    if fact.kind == CALL_END:
        data = {**(record or {}), "closed_by": fact.data.get("closed", "")}
    elif fact.kind in (DIAL_RESULT, DISPOSITION, *SALE_KINDS):
        data = {"call_id": fact.call_id, **fact.data}
    else:
        data = {"case": fact.call_id, **fact.data}
    return {"id": delivery, "event": event_name(fact.kind), "at": fact.at, "data": data}


def body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def sign(secret: bytes, timestamp: int, raw: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``: the time is signed with the body, so a
    captured request cannot be replayed later as new."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: bytes, header: str, raw: bytes, now: float, tolerance: float = 300.0) -> bool:
    """A receiver's check of ``header`` (what ``sign`` wrote) against the body it got."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - t) > tolerance:
        return False
    want = hmac.new(secret, f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    # as bytes: a forged header may hold any characters, and compare_digest refuses non-ASCII text
    return hmac.compare_digest(want.encode(), parts.get("v1", "").encode())


class Answer(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


def judge(status: int | None) -> Answer:
    """``status``: the receiver's HTTP status, None when it did not answer (refused connection, timeout)."""
    if status is not None and 200 <= status < 300:
        return Answer.DELIVERED
    if status in REFUSING:
        return Answer.REFUSED
    return Answer.RETRY


@dataclass
class Tries:
    """The waits between tries of one event: 1 s, then doubling, never over ``longest``."""

    longest: float
    first: float = 1.0
    failed: int = 0

    def wait(self) -> float:
        self.failed += 1
        return min(self.longest, self.first * 2 ** (self.failed - 1))


def mark_of(fact: Fact | None, newest: int, now: float) -> tuple[int, Fact | None]:
    """Where the sender starts: after the event its newest own fact is about, or, on a first start (no such fact),
    after the ledger's ``newest`` fact (events from before the webhook existed are not sent), with the ``FROM``
    fact to write down that choice."""
    if fact is None:
        return newest, Fact(FROM, now, STATE_CALL, "", fact_key(FROM), {"after": newest})
    return int(fact.data["after"] if fact.kind == FROM else fact.data["id"]), None


def outcome(kind: str, delivery: int, name: str, at: float, status: int | None, tries: int, detail: str = "") -> Fact:
    """The fact that an event was delivered (``SENT``) or refused (``REFUSED``): the sender's place in the ledger."""
    return Fact(kind, at, STATE_CALL, "", fact_key(kind, delivery),
                {"id": delivery, "event": name, "status": status, "tries": tries, "detail": detail[:200]})  # fmt: skip
