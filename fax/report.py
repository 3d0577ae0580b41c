"""Faxes as people read them, folded from the fax facts (pure): one row per fax, sent or received, with where
it stands; and the day's summary `hotline fax list` prints under the rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from fax.facts import ATTEMPT, ATTEMPT_END, DONE, QUEUED, RECEIVING, REFUSED


@dataclass
class FaxRow:
    id: str
    way: str  # "out" or "in"
    number: str  # the far end's
    at: float  # queued, or when the call came in
    status: str  # queued, dialing, waiting (to dial again), sent, received, failed, refused, receiving, uncertain
    pages: int = 0
    station: str = ""  # the far end's station id
    reason: str = ""  # Asterisk's words for a failure, or why a call was refused
    attempts: int = 0
    next_at: float | None = None
    case: str = ""
    pdf: str = ""  # the PDF sent, or received (as this machine sees it)
    tiff: str = ""  # the image a job sends, as Asterisk sees it
    ended_at: float | None = None
    waited: float | None = None  # seconds from queued to its first dial: the wait for a free line
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fold(facts: list[Any]) -> dict[str, FaxRow]:
    rows: dict[str, FaxRow] = {}
    for f in sorted(facts, key=lambda f: f.at):
        d = f.data
        if f.kind == QUEUED:
            rows[f.call_id] = FaxRow(f.call_id, "out", str(d.get("number", "")), f.at, "queued",
                                     pages=int(d.get("pages", 0)), case=str(d.get("case", "")),
                                     pdf=str(d.get("pdf", "")), tiff=str(d.get("tiff", "")))  # fmt: skip
        elif f.kind in (RECEIVING, REFUSED):
            rows[f.call_id] = FaxRow(f.call_id, "in", str(d.get("number", "")), f.at,
                                     "receiving" if f.kind == RECEIVING else "refused",
                                     reason=str(d.get("reason", "")))  # fmt: skip
        row = rows.get(f.call_id)
        if row is None:
            continue
        if f.kind == ATTEMPT:
            row.attempts = max(row.attempts, int(d.get("attempt", 0)))
            row.status = "dialing"
            if row.waited is None:
                row.waited = round(f.at - row.at, 1)
            row.history.append({"at": f.at, "attempt": d.get("attempt"), "event": "dialed"})
        elif f.kind == ATTEMPT_END:
            row.status = "waiting" if d.get("retry_at") else row.status
            row.next_at = d.get("retry_at")
            row.reason = str(d.get("reason", ""))
            row.history.append({"at": f.at, "attempt": d.get("attempt"), "event": d.get("outcome"),
                                "reason": d.get("reason", "")})  # fmt: skip
        elif f.kind == DONE:
            row.status = str(d.get("result"))
            row.pages = int(d.get("pages", row.pages) or 0)
            row.station = str(d.get("station", ""))
            row.reason = str(d.get("reason", ""))
            row.pdf = str(d.get("pdf", "")) or row.pdf
            row.case = str(d.get("case", "")) or row.case
            row.ended_at = f.at
            row.next_at = None
    return rows


def open_jobs(facts: list[Any]) -> dict[str, FaxRow]:
    """Jobs to send that have no end yet, with their attempts so far."""
    return {k: r for k, r in fold(facts).items() if r.way == "out" and r.ended_at is None}


def summary(rows: list[FaxRow]) -> dict[str, int]:
    c = Counter(f"{r.way}:{r.status}" for r in rows)
    return {"received": c["in:received"], "sent": c["out:sent"], "failed": c["in:failed"] + c["out:failed"],
            "refused_busy": c["in:refused"], "uncertain": c["in:uncertain"] + c["out:uncertain"],
            "waiting": c["out:queued"] + c["out:waiting"], "in_progress": c["out:dialing"] + c["in:receiving"],
            "pages_received": sum(r.pages for r in rows if r.way == "in" and r.status == "received"),
            "pages_sent": sum(r.pages for r in rows if r.way == "out" and r.status == "sent")}  # fmt: skip
