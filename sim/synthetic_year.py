"""A synthetic year of the site for `hotline bench report`: the facts and call records the reports read, made
quickly from a seed and loaded in bulk into a SQLite file or a PostgreSQL database.

The site of the demo (sim/world.py): the 400 hotline's agent 1001 with overflow agents 1002 and 1003, and 48
outbound agents on the campaign `renewals`. Every day of 2025 (Asia/Shanghai): hotline calls from 09:00 to 18:00
(call records as the engine derives them, with their routing decisions, surveys, the guard, callers over the
menu's limit, call ends); on working days the campaign's dials from 08:00 to 17:30 (placed, result; for answers
the verdict, and for people the connect, the talk's end and the disposition; machines), the agents' logins, breaks,
lunches and logouts (``agent.status``; the campaign's agents' ``dialer.session``), and QA grades of some answered
hotline calls the next day. ``calls`` is the year's total, hotline and outbound together (2.8 % hotline)."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from engine.model.facts import fact_key
from engine.store.tables import call_records

TZ = ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2025, 1, 1)
DAYS = 365
INBOUND_SHARE = 0.028
HOTLINE_AGENTS = ("1001", "1002", "1003")
OUTBOUND_AGENTS = tuple(f"{2001 + i}" for i in range(48))
CAMPAIGN = "renewals"
LEDGER_COLUMNS = ("at", "kind", "call_id", "uniqueid", "key", "data", "recorded_at")
RECORD_COLUMNS = tuple(c.name for c in call_records.columns)
GRADE_COLUMNS = ("id", "recording", "call_id", "agent", "form", "form_hash", "grader", "grader_role", "version",
                 "supersedes", "reason", "answers", "comments", "marks", "score", "critical_failed", "blind",
                 "created_at")  # fmt: skip


@dataclass
class Day:
    facts: list[tuple[Any, ...]] = field(default_factory=list)  # LEDGER_COLUMNS, data as JSON text
    records: list[tuple[Any, ...]] = field(default_factory=list)  # RECORD_COLUMNS
    grades: list[tuple[Any, ...]] = field(default_factory=list)  # GRADE_COLUMNS, JSON as text
    calls: int = 0

    def fact(self, kind: str, when: float, call_id: str, *key: object, **data: Any) -> None:
        """A fact keyed as the engine keys it: ``fact_key(kind, *key)``."""
        t = round(when, 3)
        self.facts.append((t, kind, call_id, call_id, fact_key(kind, *key), json.dumps(data), t))


def midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), TZ).timestamp()


def _status(d: Day, agent: str, at: float, action: str, status: str, reason: str = "") -> None:
    d.fact("agent.status", at, "", agent, action, f"{at:.3f}", agent=agent, action=action, status=status,
           reason=reason, state="idle")  # fmt: skip


def _agents(d: Day, rnd: random.Random, base: float, working: bool) -> None:
    for a in HOTLINE_AGENTS:
        _status(d, a, base + 8.9 * 3600 + rnd.uniform(0, 300), "login", "available")
        _status(d, a, base + 12 * 3600 + rnd.uniform(0, 300), "pause", "paused", "lunch")
        _status(d, a, base + 13 * 3600 + rnd.uniform(0, 300), "resume", "available")
        _status(d, a, base + 18.1 * 3600 + rnd.uniform(0, 300), "logout", "logged_out")
    if not working:
        return
    for a in OUTBOUND_AGENTS:
        d.fact("dialer.session", base + 8 * 3600 - rnd.uniform(0, 300), f"as-{a}-{base:.0f}", a, "up", f"{base:.0f}",
               agent=a, campaign=CAMPAIGN, state="up")  # fmt: skip
        brk = base + 10.5 * 3600 + rnd.uniform(0, 1800)
        _status(d, a, brk, "pause", "paused", "break")
        _status(d, a, brk + rnd.uniform(600, 1200), "resume", "available")
        _status(d, a, base + 12 * 3600 + rnd.uniform(0, 600), "pause", "paused", "lunch")
        _status(d, a, base + 13 * 3600 + rnd.uniform(0, 600), "resume", "available")
        d.fact("dialer.session", base + 17.5 * 3600 + rnd.uniform(0, 600), f"as-{a}-{base:.0f}",
               a, "down", f"{base:.0f}", agent=a, campaign=CAMPAIGN, state="down")  # fmt: skip


def _hotline(d: Day, rnd: random.Random, base: float, n: int, day_no: int) -> None:
    for i in range(n):
        cid = f"in-{day_no}-{i}"
        arrived = base + 9 * 3600 + (i + rnd.random()) * 9 * 3600 / max(n, 1)
        u = rnd.random()
        queued = arrived + rnd.uniform(8, 40) if u > 0.02 else None
        row: dict[str, Any] = {c.name: None for c in call_records.columns}
        row.update(call_id=cid, caller=f"138{rnd.randrange(10**8):08d}", dialed="4001234567", arrived_at=arrived,
                   answered_at=arrived + 1, queued_at=queued, agent_id="", hold_time=0.0, hangup_side="caller",
                   outcome="ivr_hangup", digit="1", recording="", tag="", service="hotline", wrap_up_time=0.0,
                   closed="", closed_reason="")  # fmt: skip
        end = arrived + 30
        if queued is not None:
            wait = rnd.expovariate(1 / 9)
            if u < 0.87:
                agent = "1001" if rnd.random() < 0.85 else rnd.choice(("1002", "1003"))
                ring = rnd.uniform(2, 20)
                connected = queued + wait
                talk, hold, wrap = rnd.uniform(60, 600), (rnd.uniform(5, 60) if rnd.random() < 0.2 else 0.0), 10.0
                end = connected + talk + hold
                row.update(agent_id=agent, ring_started_at=connected - ring, agent_answered_at=connected,
                           connected_at=connected, ring_time=ring, queue_wait=wait, talk_time=talk, hold_time=hold,
                           handle_time=talk + hold + wrap, wrap_up_time=wrap, outcome="answered",
                           recording=f"/rec/{cid}.opus", recording_seconds=talk + hold)  # fmt: skip
                d.fact("route.decision", connected - ring, cid, cid, 1, agent=agent, step=int(agent != "1001"),
                       service="hotline")  # fmt: skip
                if rnd.random() < 0.5:
                    d.fact("ivr.survey", end + 20, cid, cid, agent=agent, score=rnd.choice((5, 5, 5, 4, 4, 3, 1)))
                if rnd.random() < 0.1:
                    gid = f"g-{cid}"
                    d.grades.append((gid, cid, cid, agent, "inbound", "h", "lead", "teamlead", 1, None, "", "{}", "",
                                     "[]", float(rnd.randint(60, 100)), "[]", False, base + 86400 + 3600 + i))
                    d.fact("qa.graded", base + 86400 + 3600 + i, cid, gid, grade=gid, score=d.grades[-1][14])
            else:
                outcome = rnd.choice(("abandoned", "abandoned", "abandoned", "callback", "voicemail"))
                end = queued + wait
                row.update(outcome=outcome, ended_at=end)
                if outcome != "abandoned":
                    row["hangup_side"] = "system"
        row["ended_at"] = end
        row = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}
        d.records.append(tuple(row[c] for c in RECORD_COLUMNS))
        d.fact("call.end", end + 0.5, cid, cid)
        d.calls += 1
    for k in range(2):
        d.fact("acd.guard", base + (10 + 4 * k) * 3600, "", k, f"{base:.0f}", agent=OUTBOUND_AGENTS[k],
               action="reserve", reason="hotline busy", service="hotline")  # fmt: skip
    if rnd.random() < 0.2:
        d.fact("ivr.overflow", base + 11 * 3600, f"over-{day_no}", day_no, active=9)


def _outbound(d: Day, rnd: random.Random, base: float, n: int, day_no: int) -> None:
    span = 9.5 * 3600
    for i in range(n):
        did = f"dl-{day_no}-{i}"
        at = base + 8 * 3600 + (i + rnd.random()) * span / max(n, 1)
        agent = OUTBOUND_AGENTS[i % len(OUTBOUND_AGENTS)]
        d.fact("outbound.placed", at, did, did, campaign=CAMPAIGN, lead=i, attempt=1, amd=True, rule="us")
        u = rnd.random()
        if u < 0.28:
            answered = at + rnd.uniform(5, 25)
            greeting = answered + rnd.uniform(1, 3)
            d.fact("outbound.verdict", greeting, did, did, campaign=CAMPAIGN, amd="HUMAN", amd_cause="HUMAN",
                   answered_at=answered, greeting_end=greeting, rule="us", deadline=greeting + 2)  # fmt: skip
            talk = rnd.uniform(30, 420)
            connect = greeting + rnd.uniform(0.1, 1.5)
            d.fact("outbound.connect", connect, did, did, campaign=CAMPAIGN, agent=agent,
                   after_greeting=round(connect - greeting, 3), at=round(connect, 3))  # fmt: skip
            d.fact("outbound.talk_end", connect + talk, did, did, campaign=CAMPAIGN, agent=agent, talk=round(talk, 3))
            d.fact("outbound.disposition", connect + talk + 5, did, did, campaign=CAMPAIGN, agent=agent, code="1",
                   label=rnd.choice(("sale", "no sale", "no sale", "call back")))  # fmt: skip
            outcome, seconds = "answered", connect + talk - at
        elif u < 0.36:
            answered = at + rnd.uniform(5, 25)
            d.fact("outbound.verdict", answered + 3, did, did, campaign=CAMPAIGN, amd="MACHINE", amd_cause="LONG",
                   answered_at=answered, greeting_end=answered + 3, rule="us", deadline=answered + 5)  # fmt: skip
            d.fact("outbound.machine", answered + 3.1, did, did, campaign=CAMPAIGN)
            outcome, seconds = "machine", 10.0
        else:
            outcome, seconds = rnd.choice(("no_answer", "no_answer", "busy")), 25.0
        d.fact("outbound.result", at + seconds, did, did, campaign=CAMPAIGN, outcome=outcome, cause=16,
               dial_status="ANSWER" if outcome != "busy" else "BUSY", reason=4, seconds=round(seconds, 3))  # fmt: skip
        d.calls += 1


def days(calls: int, seed: int, count: int = DAYS) -> Iterator[Day]:
    """The year (its first ``count`` days) day by day; ``calls`` over those days."""
    working = [k for k in range(count) if (FIRST + dt.timedelta(days=k)).weekday() < 5]
    inbound = max(1, round(calls * INBOUND_SHARE / count))
    outbound = max(0, round((calls - inbound * count) / max(len(working), 1)))
    for k in range(count):
        day = FIRST + dt.timedelta(days=k)
        base = midnight(day)
        rnd = random.Random(seed * 1000 + k)
        d = Day()
        is_working = day.weekday() < 5
        _agents(d, rnd, base, is_working)
        _hotline(d, rnd, base, inbound, k)
        if is_working:
            _outbound(d, rnd, base, outbound, k)
        d.facts.sort()
        yield d


def load_sqlite(path: str, calls: int, seed: int, progress: Callable[[str], None], count: int = DAYS
                ) -> dict[str, int]:  # fmt: skip
    """Bulk insert into a migrated SQLite file (one transaction, unsynced: a benchmark's own file)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    n = {"calls": 0, "facts": 0, "records": 0, "grades": 0}
    db.execute("BEGIN")
    for k, d in enumerate(days(calls, seed, count)):
        db.executemany(f"INSERT INTO ledger ({', '.join(LEDGER_COLUMNS)}) VALUES (?,?,?,?,?,?,?)", d.facts)
        db.executemany(f"INSERT INTO call_records ({', '.join(RECORD_COLUMNS)}) VALUES "
                       f"({','.join('?' * len(RECORD_COLUMNS))})", d.records)  # fmt: skip
        db.executemany(f"INSERT INTO grades ({', '.join(GRADE_COLUMNS)}) VALUES ({','.join('?' * len(GRADE_COLUMNS))})",
                       d.grades)  # fmt: skip
        _count(n, d)
        if k % 30 == 29:
            progress(f"sqlite: {k + 1}/{count} days loaded, {n['facts']:,} facts")
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return n


def _count(n: dict[str, int], d: Day) -> None:
    n["calls"] += d.calls
    n["facts"] += len(d.facts)
    n["records"] += len(d.records)
    n["grades"] += len(d.grades)


async def load_postgres(url: str, calls: int, seed: int, progress: Callable[[str], None], count: int = DAYS
                        ) -> dict[str, int]:  # fmt: skip
    """Bulk COPY into a migrated PostgreSQL database."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    n = {"calls": 0, "facts": 0, "records": 0, "grades": 0}
    try:
        async with conn.transaction():
            for k, d in enumerate(days(calls, seed, count)):
                await conn.copy_records_to_table("ledger", records=d.facts, columns=LEDGER_COLUMNS)
                await conn.copy_records_to_table("call_records", records=d.records, columns=RECORD_COLUMNS)
                await conn.copy_records_to_table("grades", records=d.grades, columns=GRADE_COLUMNS)
                _count(n, d)
                if k % 30 == 29:
                    progress(f"postgresql: {k + 1}/{count} days loaded, {n['facts']:,} facts")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return n
