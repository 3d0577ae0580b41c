"""Asterisk's own records of calls, as files it writes whether or not the engine listens: CEL and CDR.

Sans-I/O: these functions take the files' text. CEL (cel_custom, ``asterisk-conf/cel_custom.conf``) has
one row per channel event with epoch times to the microsecond; cdr_csv (``asterisk-conf/cdr.conf``) has one
or more rows per channel with UTC date-times to the second. The engine reads them to close calls that ended
while it was away (``engine/recovery.py``), and the degraded menu's calls are counted from the CDR.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

# asterisk-conf/cel_custom.conf, in order
CEL_COLUMNS = ("event", "at", "uniqueid", "linkedid", "channel", "context", "exten", "caller", "peer", "extra")
# cdr_csv columns (cdr.conf: loguniqueid = yes, loguserfield = yes)
CDR_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
               "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid",
               "userfield")  # fmt: skip


@dataclass(frozen=True)
class CelEvent:
    event: str  # CHAN_START, ANSWER, BRIDGE_ENTER, BRIDGE_EXIT, HANGUP, CHAN_END
    at: float
    uniqueid: str
    linkedid: str
    channel: str
    context: str = ""
    exten: str = ""
    caller: str = ""
    peer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def parse_cel(text: str) -> list[CelEvent]:
    """CEL rows in file order; a row cut short (Asterisk writing it as we read) or malformed is skipped."""
    out = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) < len(CEL_COLUMNS):
            continue
        r = dict(zip(CEL_COLUMNS, row, strict=False))
        try:
            at = float(r["at"])
        except ValueError:
            continue
        extra: dict[str, Any] = {}
        if r["extra"].startswith("{"):
            try:
                extra = json.loads(r["extra"])
            except ValueError:
                continue  # cut inside its JSON: kept, a HANGUP would lose who hung up for good
        out.append(CelEvent(r["event"], at, r["uniqueid"], r["linkedid"], r["channel"], r["context"], r["exten"],
                            r["caller"], r["peer"], extra))  # fmt: skip
    return out


def cel_at(line: str) -> float | None:
    """The event time of one CEL line (to find where to start reading a long file), None if it has none."""
    row = next(csv.reader([line]), [])
    try:
        return float(row[1])
    except (IndexError, ValueError):
        return None


def cdr_time(value: str) -> float | None:
    """A cdr_csv date-time (UTC, ``usegmtime = yes``) as epoch seconds; None when empty."""
    if not value:
        return None
    try:
        return float(calendar.timegm(time.strptime(value, "%Y-%m-%d %H:%M:%S")))
    except ValueError:
        return None


@dataclass(frozen=True)
class CdrCall:
    uniqueid: str
    answer: float | None  # the earliest answer among the channel's rows
    end: float | None  # the latest end


def parse_cdr_calls(text: str) -> dict[str, CdrCall]:
    """Per channel Uniqueid, its answer and end as the CDR rows say (a channel has a row per bridge it was in)."""
    out: dict[str, CdrCall] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < len(CDR_COLUMNS):
            continue
        r = dict(zip(CDR_COLUMNS, row, strict=False))
        uid = r["uniqueid"]
        answer, end = cdr_time(r["answer"]), cdr_time(r["end"])
        prev = out.get(uid)
        if prev is not None:
            answer = min((t for t in (prev.answer, answer) if t is not None), default=None)
            end = max((t for t in (prev.end, end) if t is not None), default=None)
        out[uid] = CdrCall(uid, answer, end)
    return out
