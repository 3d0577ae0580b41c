"""Count the calls that took the degraded menu while the engine was away.

When the engine's FastAGI server is unreachable the dialplan runs the classic AGI script
(``ivr/classic.py``) and tags the call's CDR with ``userfield = hotline-degraded``. Asterisk's cdr_csv
keeps those rows on disk whether or not anyone listens, so the engine reads them when it comes back
and writes one ``ivr.degraded`` fact per call (keyed by Uniqueid: reading the file again adds nothing).

The CDR file is Asterisk's, not the store's: it holds calls from before this ledger existed (another site
file's earlier runs, an old database). Only calls created at or after the store's ``store.created`` fact
(written by its migration) are imported; a store without one (the in-memory store of simulations) gets an
``ivr.degraded_since`` fact at its first scan instead. A Uniqueid starts with its channel's creation in
epoch seconds, free of the time zone that the CDR's date columns are written in.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from engine.asterisk.call_logs import CDR_COLUMNS
from engine.clock import Clock
from engine.dialplan import DEGRADED_CDR_TAG
from engine.model.facts import Fact, fact_key
from engine.ports import Ledger, Records

log = logging.getLogger("hotline.ivr.degraded")

CREATED = "store.created"  # the store's own first fact (migration 0009)
SINCE = "ivr.degraded_since"  # the watermark of a store without one
COLUMNS = CDR_COLUMNS
_UID = re.compile(r"^\d+\.\d+$")


@dataclass(frozen=True)
class DegradedCall:
    uniqueid: str
    caller: str
    start: str
    answer: str
    end: str
    disposition: str
    agent_channel: str
    billsec: int


def created_at(uniqueid: str) -> int:
    """The channel's creation, epoch seconds, from an Asterisk Uniqueid ``<epoch>.<sequence>``."""
    return int(uniqueid.split(".", 1)[0])


def parse_cdr(text: str) -> list[DegradedCall]:
    """The degraded calls in a cdr-csv text (rows tagged by the dialplan; one per Uniqueid)."""
    out: dict[str, DegradedCall] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < len(COLUMNS) or DEGRADED_CDR_TAG not in row:
            continue
        r = dict(zip(COLUMNS, row, strict=False))
        if r["userfield"] != DEGRADED_CDR_TAG or not _UID.match(r["uniqueid"]):
            continue
        prev = out.get(r["uniqueid"])
        # the row of the Dial to the agent's phone says more than the row of the menu alone
        if prev is None or (r["dstchannel"] and not prev.agent_channel):
            out[r["uniqueid"]] = DegradedCall(r["uniqueid"], r["src"], r["start"], r["answer"], r["end"],
                                              r["disposition"], r["dstchannel"],
                                              int(r["billsec"]) if r["billsec"].isdigit() else 0)  # fmt: skip
    return list(out.values())


class DegradedCounter:
    def __init__(self, ledger: Ledger, records: Records, clock: Clock, cdr_file: Path | None,
                 interval: float = 10.0) -> None:  # fmt: skip
        self.ledger = ledger
        self.records = records
        self.clock = clock
        self.cdr_file = cdr_file
        self.interval = interval
        self.counted = 0
        self._since: float | None = None

    async def since(self) -> float:
        """The ledger's watermark: the store's creation, else when it first watched the CDR file."""
        if self._since is None:
            marks = await self.ledger.facts(None, (CREATED, SINCE))
            if not marks:
                await self.ledger.fact(SINCE, "", "", fact_key(SINCE))
                marks = await self.ledger.facts(None, (CREATED, SINCE))
            self._since = min(f.at for f in marks)
        return self._since

    async def scan(self) -> int:
        """Read the CDR file; return how many degraded calls were new to the ledger."""
        if self.cdr_file is None:
            return 0
        since = int(await self.since())  # a Uniqueid has whole seconds: the call of the same second counts
        if not self.cdr_file.exists():
            return 0
        text = await asyncio.to_thread(self.cdr_file.read_text, "utf-8", "replace")
        calls = [c for c in parse_cdr(text) if created_at(c.uniqueid) >= since]
        known = {f.call_id for f in await self.ledger.facts(None, ("ivr.degraded",))}
        now = self.clock.now()
        facts = [Fact("ivr.degraded", now, c.uniqueid, c.uniqueid, fact_key("ivr.degraded", c.uniqueid),
                      {"caller": c.caller, "start": c.start, "answer": c.answer, "end": c.end,
                       "disposition": c.disposition, "agent_channel": c.agent_channel, "billsec": c.billsec})
                 for c in calls]  # fmt: skip
        if facts:
            await self.ledger.record(facts)  # keyed by Uniqueid: the known ones add nothing
        new = 0
        for c in calls:
            if c.uniqueid not in known:
                new += 1
                # a caller the engine had seen (in its menu when it went away) is a degraded call, not a record
                await self.records.update_record(c.uniqueid)
        if new:
            self.counted += new
            log.warning("%d call(s) took the degraded menu while the engine was unreachable", new)
        return new

    async def run(self) -> None:
        """Named task: count at start (the calls made while the engine was down), then keep watching."""
        while True:
            try:
                await self.scan()
            except OSError as exc:
                log.warning("could not read %s: %s", self.cdr_file, exc)
            await asyncio.sleep(self.interval)
