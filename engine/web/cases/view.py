"""What the cases pages show (pure): which cases a reader sees, each case as a table row, and its facts as lines
in time order. Nothing here reads a store or a clock: the routes hand in the rows, the facts and ``now``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from cases.calendar import due_label
from cases.model import CLOSED, IN_PROGRESS, OPEN, RESOLVED, is_overdue
from engine.policy import Actor, Policy
from engine.privacy import mask_number

LIMIT = 100  # rows on the list page: the newest; filters narrow the rest


def when(t: float | None, tz: ZoneInfo) -> str:
    return "–" if t is None else dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")


def seen(rows: Iterable[Mapping[str, Any]], actor: Actor, policy: Policy, team: str = "") -> list[Mapping[str, Any]]:
    """The rows ``actor`` may read (of ``team`` when one is given), newest first."""
    kept = [r for r in rows if (not team or r["team"] == team) and policy.case_refusal(actor, "read", r) is None]
    return sorted(kept, key=lambda r: (-float(r["opened_at"]), str(r["id"])))


def calls_of(row: Mapping[str, Any]) -> list[str]:
    """The calls of a case, in order, once each: the one it came from, then those linked to it."""
    out = [str(row["call_id"])] if row["call_id"] else []
    for link in row["links"] or []:
        if link["call"] and link["call"] not in out:
            out.append(str(link["call"]))
    return out


_KB_REF = re.compile(r"\bKB-(\d{1,9})\b")


def kb_parts(text: str) -> list[tuple[str, str]]:
    """A resolution's text in pieces, each (words, article id or ""): a knowledge-base article cited as KB-12 is
    linked to the article that answered the case."""
    out, at = [], 0
    for m in _KB_REF.finditer(text):
        if m.start() > at:
            out.append((text[at : m.start()], ""))
        out.append((m.group(0), m.group(1)))
        at = m.end()
    if at < len(text):
        out.append((text[at:], ""))
    return out


def row_view(row: Mapping[str, Any], now: float, tz: ZoneInfo, replays: Mapping[str, str]) -> dict[str, Any]:
    """A case as the pages show it: times in the site's zone, the number masked, the calls with a recording
    (``replays``: call id -> recording id)."""
    return {"id": row["id"], "kind": row["kind"], "source": row["source"], "status": row["status"],
            "owner": row["owner"], "team": row["team"], "number": mask_number(str(row["number"] or "")),
            "opened": when(row["opened_at"], tz), "due": due_label(row["due_at"], tz),
            "resolved": when(row["resolved_at"], tz), "overdue": is_overdue(row, now), "note": row["note"],
            "resolution": row["resolution"], "resolution_parts": kb_parts(str(row["resolution"] or "")),
            "call_id": row["call_id"],
            "replays": [(c, replays[c]) for c in calls_of(row) if c in replays]}  # fmt: skip


def fact_lines(facts: Iterable[Any], tz: ZoneInfo, t: Mapping[str, str],
               replays: Mapping[str, str]) -> list[dict[str, str]]:  # fmt: skip
    """A case's ``case.*`` facts as lines, oldest first: when, what (in the page's words), by whom, and the
    recording of a linked call. The customer's number in ``case.opened`` is not shown."""
    out = []
    for f in sorted(facts, key=lambda f: f.at):
        d = f.data
        if f.kind == "case.opened":
            what = t["f_opened"].format(source=d.get("source", ""))
        elif f.kind == "case.assigned":
            what = t["f_assigned"].format(owner=d.get("owner", "") or t["nobody"])
        elif f.kind == "case.status":
            what = t["f_status"].format(status=t.get(str(d.get("status")), str(d.get("status"))))
            what += f" ({d['why']})" if d.get("why") else ""
        elif f.kind == "case.linked":
            link = str(d.get("what", "call"))
            what = t["f_linked"].format(call=d.get("call", ""), what=t.get(f"link_{link}", link))
        elif f.kind == "case.resolved":
            what = t["f_resolved"].format(resolution=d.get("resolution", ""))
            what += f" ({t['on_time'] if d.get('on_time') else t['late']})"
        elif f.kind == "case.overdue":
            what = t["f_overdue"]
        elif f.kind == "case.purged":
            what = t["f_purged"].format(days=d.get("keep_days", ""))
        else:
            continue
        call = str(d.get("call", "")) if f.kind == "case.linked" else ""
        out.append({"kind": f.kind, "when": when(f.at, tz), "what": what, "by": str(d.get("by", "")),
                    "replay": replays.get(call, "") if call else ""})  # fmt: skip
    return out


def fitting(status: str) -> list[str]:
    """The forms that fit a case's status (the service still decides, and says why not)."""
    return {OPEN: ["assign", "resolve"], IN_PROGRESS: ["assign", "resolve"], RESOLVED: ["close", "reopen"],
            CLOSED: ["reopen"]}.get(status, [])  # fmt: skip
