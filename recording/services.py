"""Recordings as a service: keep the index in step with the ledger, check it against the disk, purge by rule.

Every change is a fact first (``recording.saved``, ``recording.purged``) and the index row is derived from the
call's facts after it, so a row lost or half-written is rebuilt by deriving it again (``catch_up`` at start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.model.facts import fact_key
from engine.ports import Ledger, Records
from engine.store.tables import call_records, lead_aggregates
from recording.catalog import INDEXED, rows_of
from recording.encode import sha256_of
from recording.index import RecordingIndex
from recording.retention import Rule, due

log = logging.getLogger("hotline.recording")
STORED = (".opus", ".wav")
WORK_SUFFIXES = ("-in.wav", "-out.wav", "-mix.wav")  # MixMonitor's legs, merged and removed at the call's end
AMD_SAMPLE_DAYS = 7.0  # an AMD sample nobody labelled goes after this


@dataclass
class Check:
    """``recordings verify``: the index against the disk."""

    checked: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    def add(self, rec_id: str, path: str, problem: str) -> None:
        self.problems.append({"id": rec_id, "path": path, "problem": problem})


class Recordings:
    def __init__(self, *, ledger: Ledger, index: RecordingIndex, store: AsyncEngine, teams: dict[str, str],
                 asterisk_dir: str, local_dir: Path, rules: list[Rule],
                 records: Records | None = None) -> None:  # fmt: skip
        self.ledger = ledger
        self.index = index
        self.store = store
        self.teams = teams  # agent id -> team
        self.asterisk_dir = asterisk_dir
        self.local_dir = local_dir
        self.rules = rules
        self.records = records  # the store's records, derived again at start when a saved recording is missing

    # ---- the index ---------------------------------------------------------------------------------------------
    async def note(self, call_id: str) -> list[dict[str, Any]]:
        """Derive the call's index rows from its facts and write them."""
        rows = rows_of(call_id, await self.ledger.facts(call_id), self.teams, self.asterisk_dir, self.local_dir)
        for row in rows:
            if row["bytes"] is None or row["sha256"] is None:
                # saved before the fact carried them (or a menu's message): the file says, while it is there
                p = Path(row["path"])
                if p.exists():
                    row["bytes"] = p.stat().st_size
                    row["sha256"] = await asyncio.to_thread(sha256_of, p)
                else:
                    row["bytes"], row["sha256"] = 0, ""
        await self.index.put(rows)
        return rows

    async def catch_up(self) -> int:
        """Index every call the ledger has a recording fact of and the index lacks (the engine stopped between
        the fact and the row, or the store predates the index). Returns how many calls were indexed."""
        known = await self.index.call_ids()  # by call: a call's messages are indexed under their case names
        calls = {f.call_id for f in await self.ledger.facts(None, INDEXED)}
        missing = sorted(c for c in calls if c not in known)
        for call_id in missing:
            await self.note(call_id)
        if missing:
            log.info("recordings index: %d call(s) indexed from the ledger", len(missing))
        await self._records_catch_up({f.call_id for f in await self.ledger.facts(None, ("recording.saved",))})
        return len(missing)

    async def _records_catch_up(self, saved: set[str]) -> None:
        """Derive again the call records that lack the path of a recording the ledger says was saved: the engine
        stopped between ``recording.saved`` and the record's new derivation."""
        if self.records is None or not saved:
            return
        q = select(call_records.c.call_id).where(call_records.c.recording == "", call_records.c.call_id.in_(saved))
        async with self.store.connect() as conn:
            stale = list((await conn.execute(q)).scalars())
        for call_id in stale:
            await self.records.update_record(call_id)
        if stale:
            log.info("%d call record(s) given the recording saved after them", len(stale))

    def on_facts(self, spawn: Callable[[Any, str], object]) -> Callable[[list[Any]], None]:
        """An engine fact hook: index a call again when one of its recording facts is written."""

        def hook(facts: list[Any]) -> None:
            for call_id in dict.fromkeys(f.call_id for f in facts if f.kind in INDEXED):
                spawn(self.note(call_id), f"index-recording:{call_id}")

        return hook

    # ---- the disk ----------------------------------------------------------------------------------------------
    async def verify(self) -> Check:
        return await asyncio.to_thread(self._verify, await self.index.rows())

    def _verify(self, rows: list[dict[str, Any]]) -> Check:
        check = Check()
        indexed = set()
        for row in rows:
            p = Path(row["path"])
            indexed.add(p.resolve())
            check.checked += 1
            if row["purged_at"] is not None:
                if p.exists():
                    check.add(row["id"], str(p), f"purged ({row['purge_rule']}) but still on disk")
                continue
            if not p.exists():
                check.add(row["id"], str(p), "missing from disk")
            elif p.stat().st_size != row["bytes"]:
                check.add(row["id"], str(p), f"{p.stat().st_size} bytes on disk, {row['bytes']} in the index")
            elif sha256_of(p) != row["sha256"]:
                check.add(row["id"], str(p), "checksum differs from the index")
        for folder in (self.local_dir, self.local_dir / "messages"):
            if not folder.is_dir():
                continue
            for p in sorted(folder.iterdir()):
                if p.suffix in STORED and not p.name.endswith(WORK_SUFFIXES) and p.resolve() not in indexed:
                    check.add("", str(p), "on disk but not in the index")
        return check

    # ---- retention ---------------------------------------------------------------------------------------------
    async def sweep_amd_samples(self, now: float, days: float = AMD_SAMPLE_DAYS) -> int:
        """Delete the AMD samples nobody labelled within ``days`` (QA's queue shows that much): they may hold
        the voice of a person nobody spoke to. Each is an ``outbound.amd_sample_expired`` fact."""
        folder = self.local_dir / "amd"
        if not folder.is_dir():
            return 0
        old = [p for p in folder.glob("*.wav") if now - p.stat().st_mtime >= days * 86400]
        for p in old:
            await self.ledger.fact("outbound.amd_sample_expired", p.stem, "", fact_key("outbound.amd_sample_expired",
                                   p.stem), path=str(p), days=days)  # fmt: skip
            await asyncio.to_thread(p.unlink, True)
        if old:
            log.info("retention: %d AMD sample(s) nobody labelled in %g days removed", len(old), days)
        return len(old)

    async def leads_destroyed(self) -> dict[str, float]:
        """Campaign -> when its lead data was last destroyed (``hotline leads purge``)."""
        agg = lead_aggregates.c
        q = select(agg.campaign, func.max(agg.purged_at)).group_by(agg.campaign)
        async with self.store.connect() as conn:
            return {c: float(t) for c, t in (await conn.execute(q)).all()}

    async def due(self, now: float) -> list[tuple[dict[str, Any], str]]:
        rows = await self.index.rows(purged=False)
        return [(dict(r), why) for r, why in due(rows, self.rules, now, await self.leads_destroyed())]

    async def purge(self, now: float, progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Remove every recording the rules say is due: the fact first (who may ask later why it is gone), then the
        file, then the index row derived again. Returns what was removed."""
        gone: list[dict[str, Any]] = []
        todo = await self.due(now)
        for i, (row, why) in enumerate(todo, 1):
            await self.ledger.fact("recording.purged", row["call_id"], "", fact_key("recording.purged", row["id"]),
                                   id=row["id"], rule=why, path=row["path"], sha256=row["sha256"])  # fmt: skip
            await asyncio.to_thread(Path(row["path"]).unlink, True)
            await self.note(row["call_id"])
            gone.append({**row, "purge_rule": why})
            if progress is not None:
                progress(i, len(todo))
        if gone:
            log.info("retention: %d recording(s) removed", len(gone))
        return gone
