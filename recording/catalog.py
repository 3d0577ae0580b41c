"""The recordings index's rows, derived from a call's facts (pure: no file, no database).

One row per stored file: the call's recording (``recording.saved``) under the call id, and each message the
menu recorded (``ivr.message``) under its case name. Direction, service or campaign and agent come from the
call's own facts, the team from the site's agents; what only the file can tell (its size and checksum, for a
recording saved before they were on the fact) the caller fills in from the disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.model.facts import Fact
from engine.model.records import derive_one

KINDS = ("inbound", "outbound", "complaint", "voicemail")
INDEXED = ("recording.saved", "ivr.message", "recording.purged")  # the facts that add or change a row


def local_path(asterisk_path: str, asterisk_dir: str, local_dir: Path) -> Path:
    """A file Asterisk named, as this machine sees it (the two see one folder under two names)."""
    root = asterisk_dir.rstrip("/") + "/"
    if asterisk_path.startswith(root):
        return local_dir / asterisk_path[len(root):]
    return Path(asterisk_path)


def _first(facts: Sequence[Fact], kind: str) -> Fact | None:
    return next((f for f in facts if f.kind == kind), None)


def rows_of(call_id: str, facts: Sequence[Fact], teams: Mapping[str, str], asterisk_dir: str,
            local_dir: Path) -> list[dict[str, Any]]:  # fmt: skip
    """The index rows of one call: its recording if saved, its messages if any were recorded."""
    rows: list[dict[str, Any]] = []
    placed = _first(facts, "outbound.placed")
    connect = _first(facts, "outbound.connect")
    if placed is not None:
        direction, service = "outbound", ""
        campaign = str(placed.data.get("campaign", ""))
        agent = str(connect.data.get("agent", "")) if connect else str(placed.data.get("agent", ""))
    else:
        direction, campaign = "inbound", ""
        record = derive_one(call_id, list(facts))
        queued = _first(facts, "call.queued")
        service = (record.service if record is not None else "") or (str(queued.data.get("service", "")) if queued
                                                                      else "")  # fmt: skip
        agent = (record.agent_id if record is not None else "") or ""
    purged = {f.data.get("id", f.call_id): f for f in facts if f.kind == "recording.purged"}
    saved = _first(facts, "recording.saved")
    if saved is not None:
        started = _first(facts, "recording.started")
        d = saved.data
        path = Path(str(d["path"]))
        rows.append({
            "id": call_id, "call_id": call_id, "kind": direction, "direction": direction, "service": service,
            "campaign": campaign, "agent": agent, "team": teams.get(agent, ""),
            "started_at": (started or saved).at, "seconds": float(d.get("seconds") or 0.0),
            "channels": int(d.get("channels") or 2), "format": str(d.get("format") or path.suffix.lstrip(".")),
            "bytes": d.get("bytes"), "sha256": d.get("sha256"), "path": str(path), "talk": d.get("talk"),
        })  # fmt: skip
    for m in (f for f in facts if f.kind == "ivr.message" and f.data.get("ok")):
        d = m.data
        kind = str(d.get("kind", "voicemail"))
        rows.append({
            "id": str(d.get("case") or f"message-{call_id}"), "call_id": call_id, "kind": kind,
            "direction": "inbound", "service": service, "campaign": "", "agent": "", "team": "",
            "started_at": m.at - float(d.get("seconds") or 0.0), "seconds": float(d.get("seconds") or 0.0),
            "channels": 1, "format": "wav", "bytes": None, "sha256": None, "talk": None,
            "path": str(local_path(str(d["file"]), asterisk_dir, local_dir)),
        })  # fmt: skip
    for row in rows:
        p = purged.get(row["id"])
        row["purged_at"] = p.at if p is not None else None
        row["purge_rule"] = str(p.data.get("rule", "")) if p is not None else ""
    return rows
