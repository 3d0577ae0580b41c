"""A customer's record (pure): what the ledger's contact facts project to, one timeline of every contact newest
first, and the rules for merging and for destroying a record's personal data.

A customer is one person known by one or more E.164 numbers. Its timeline is read where each contact is kept:
inbound calls in the call records (by the caller's number as the network gave it), outbound dials, SMS and
faxes in ``customer_contacts`` (projected here from the ledger), cases and leads by number, notes by record; the
facts about a call (its call back, the agent's disposition) by the call's id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from crm.customers import customer_number

DAY = 86_400.0
TIMELINE_SHOWN = 200  # the newest entries: a customer with more is shown its newest
NOTE_MAX = 2000
REASON_MAX = 300

# the ledger's facts a customer's contacts are projected from, and the contact kind each is
CONTACT_KINDS = {"sms.sent": "sms_out", "sms.in": "sms_in", "fax.done": "fax", "outbound.placed": "dial"}
# the facts about a call the timeline reads by the call's id
CALL_FACT_KINDS = ("acd.callback", "acd.callback_done", "outbound.result", "outbound.connect",
                   "outbound.disposition", "outbound.callback", "sale.order")  # fmt: skip


class CustomerError(ValueError):
    """What a customer's form got wrong, in words the page shows."""


def contact_of(kind: str, data: Mapping[str, Any], call_id: str, region: str,
               lead_phone: str | None = None) -> tuple[str, str, dict[str, Any]] | None:  # fmt: skip
    """(number in E.164, contact kind, what the timeline shows of it) for a ledger fact of CONTACT_KINDS, None for
    one with no customer's number in it (a fax refused before its caller was known; a dial whose lead was
    purged). ``lead_phone``: the lead's number, for a dial (its fact names the lead, not the number)."""
    short = CONTACT_KINDS.get(kind)
    if short is None:
        return None
    if short == "dial":
        raw, shown = lead_phone or "", {"lead": data.get("lead"), "campaign": data.get("campaign", ""),
                                        "attempt": data.get("attempt")}  # fmt: skip
    elif short == "fax":
        raw, shown = str(data.get("number", "")), {"way": data.get("way", ""), "result": data.get("result", ""),
                                                   "pages": data.get("pages")}  # fmt: skip
    else:
        campaign = call_id.split(":", 1)[1] if call_id.startswith("sms:") and short == "sms_out" else ""
        raw, shown = str(data.get("phone", "")), {"campaign": campaign, "parts": data.get("parts")}
    number = customer_number(raw, region) if raw else None
    return None if number is None else (number, short, shown)


def note_text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise CustomerError("note: write something")
    if len(text) > NOTE_MAX:
        raise CustomerError(f"note: {len(text)} characters, at most {NOTE_MAX}")
    return text


def merge_problem(keep: Mapping[str, Any] | None, other: Mapping[str, Any] | None, reason: str) -> str | None:
    """Why customer ``other`` cannot be merged into ``keep`` (rows of the customers table), None when it can."""
    if keep is None or other is None:
        return f"customer {(other or {}).get('id') if keep is not None else '(kept)'}: no such customer"
    if keep["id"] == other["id"]:
        return f"customer {keep['id']} cannot be merged into itself"
    for row in (keep, other):
        if row.get("merged_into") is not None:
            return f"customer {row['id']} was merged into {row['merged_into']} already: merge that one"
        if row.get("purged_at") is not None:
            return f"customer {row['id']}: its personal data was destroyed, there is nothing to merge"
    if not reason.strip():
        return "reason: say why the two records are one person (the merge is audited)"
    if len(reason) > REASON_MAX:
        return f"reason: {len(reason)} characters, at most {REASON_MAX}"
    return None


def purge_due(newest_contact: float, keep_days: int, now: float) -> bool:
    """Whether a customer's personal data goes now: ``keep_days`` after its newest contact (a record a lead or an
    open case still holds is kept apart from this: those go by their own rules first)."""
    return now - newest_contact >= keep_days * DAY


def timeline(*, calls: Iterable[Mapping[str, Any]], call_facts: Iterable[Mapping[str, Any]],
             recordings: Iterable[Mapping[str, Any]], grades: Iterable[Mapping[str, Any]],
             contacts: Iterable[Mapping[str, Any]], leads: Iterable[Mapping[str, Any]],
             cases: Iterable[Mapping[str, Any]], notes: Iterable[Mapping[str, Any]],
             merges: Iterable[Mapping[str, Any]],
             may_read: Callable[[Mapping[str, Any]], bool] = lambda case: True) -> list[dict[str, Any]]:  # fmt: skip
    """Every contact, newest first (at most TIMELINE_SHOWN). Rows as the store reads them: ``call_facts`` are
    ledger rows (kind, call_id, data, at) about the calls and dials; ``recordings`` and ``grades`` by call id;
    ``merges``: the records merged into this one (``customer_merges``). A case the viewer may not read
    (``may_read``) shows its kind, status and time only."""
    rec_of: dict[str, list[str]] = {}
    for r in recordings:
        if r.get("purged_at") is None:
            rec_of.setdefault(str(r["call_id"]), []).append(str(r["id"]))
    score_of: dict[str, float] = {}
    for g in sorted(grades, key=lambda g: (g["created_at"], g["version"])):
        score_of[str(g["call_id"])] = float(g["score"])  # the newest grade of the call
    about: dict[str, list[Mapping[str, Any]]] = {}
    for f in sorted(call_facts, key=lambda f: f["at"]):
        about.setdefault(str(f["call_id"]), []).append(f)
    out: list[dict[str, Any]] = []
    for r in calls:
        cid = str(r["call_id"])
        entry = {"at": r["arrived_at"], "kind": "call", "call": cid, "service": r.get("service") or "",
                 "outcome": r["outcome"], "agent": r.get("agent_id") or "", "talk": r.get("talk_time"),
                 "recordings": rec_of.get(cid, []), "score": score_of.get(cid)}  # fmt: skip
        for f in about.get(cid, []):
            if f["kind"] == "acd.callback":
                entry["callback"] = "asked"
            elif f["kind"] == "acd.callback_done":
                entry["callback"] = str(f["data"].get("outcome", "done"))
        out.append(entry)
    for c in contacts:
        data = dict(c["data"] or {})
        entry = {"at": c["at"], "kind": c["kind"], **data}
        if c["kind"] == "dial":
            cid = str(c["call_id"])
            entry.update(call=cid, recordings=rec_of.get(cid, []), score=score_of.get(cid))
            for f in about.get(cid, []):
                d = f["data"]
                if f["kind"] == "outbound.result":
                    entry["outcome"] = d.get("outcome", "")
                elif f["kind"] == "outbound.connect":
                    entry["agent"] = d.get("agent", "")
                elif f["kind"] == "outbound.disposition":
                    entry["disposition"] = d.get("label") or d.get("code", "")
                elif f["kind"] == "outbound.callback":
                    entry["callback_at"] = d.get("at")
                elif f["kind"] == "sale.order":
                    entry["sale"] = d.get("amount")
        out.append(entry)
    for r in leads:
        out.append({"at": r.get("imported_at") or 0.0, "kind": "lead", "lead": r["id"], "campaign": r["campaign"],
                    "status": r["status"], "attempts": r.get("attempts") or 0,
                    "last_outcome": r.get("last_outcome") or ""})  # fmt: skip
    for r in cases:
        readable = may_read(r)
        out.append({"at": r["opened_at"], "kind": "case", "case": r["id"], "case_kind": r["kind"],
                    "status": r["status"], "note": (r.get("note") or "") if readable else "",
                    "resolution": (r.get("resolution") or "") if readable else ""})  # fmt: skip
    for n in notes:
        out.append({"at": n["at"], "kind": "note", "note": n["id"], "by": n["by"], "text": n["text"]})
    for m in merges:
        out.append({"at": m["at"], "kind": "merge", "merged": m["merged"], "by": m["by"], "reason": m["reason"]})
    out.sort(key=lambda e: (-float(e["at"]), e["kind"]))
    return out[:TIMELINE_SHOWN]


def newest_contact(created_at: float, entries: Iterable[Mapping[str, Any]]) -> float:
    """When the customer was last in touch (or written about): the newest entry, else when the record began."""
    return max([created_at, *(float(e["at"]) for e in entries)])
