"""Leads of outbound campaigns: lead files in, leads handed to the dialer, personal data out when the time comes.

* Lead files are read in dialer/lead_file.py (``parse_lead_text``), phones in the campaign's ``region``.
* ``LeadStore`` keeps leads and do-not-call lists. The do-not-call check happens when a lead is handed out
  for dialing (``claim``), so a number added to a list after the import is still never called.
* ``purge`` replaces a campaign's personal data with aggregate counts once its end plus retention has
  passed; the ``*_command`` functions are what `hotline leads` runs.

Phones reach logs and messages only through ``mask_number``; the bad-row report is the exception, since it
quotes the user's own file back so the line can be fixed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dialer.lead_file import BadRow, LeadFileError, LeadRow, parse_lead_file
from dialer.lead_file import parse_lead_text as parse_lead_text  # the lead file's reader, where it always was
from dialer.phone import DEFAULT_REGION, normalise, time_zone
from engine.privacy import mask_number
from engine.store.tables import dnc, lead_aggregates, leads

log = logging.getLogger("hotline.leads")

NEW, DIALING, RETRY, DONE, DNC, PURGED = "new", "dialing", "retry", "done", "dnc", "purged"
STATUSES = (NEW, DIALING, RETRY, DONE, DNC, PURGED)
DAY = 86400.0
OUTCOME_MAX = 32
_BATCH = 500  # rows per INSERT: well under SQLite's limit of bound parameters per statement


# ---- the store ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lead:
    id: int
    campaign: str
    phone: str
    name: str
    team: str | None
    tz: str
    extra: dict[str, Any]
    status: str
    attempts: int
    last_outcome: str | None
    next_attempt_at: float | None
    agent: str | None = None  # a call back this agent promised: dialed only for them


@dataclass(frozen=True)
class Totals:
    """A campaign's leads, purged ones included (they count under the status they had when purged)."""

    status: dict[str, int]
    outcome: dict[str, int]
    attempts: int
    purged: int


def _lead(r: Any) -> Lead:
    # a lead without its own tz lives where its number's plan puts it (one zone only; else the site's applies)
    tz = r["tz"] or (time_zone(r["phone"]) if r["phone"] else "")
    return Lead(r["id"], r["campaign"], r["phone"], r["name"], r["team"], tz, dict(r["extra"] or {}),
                r["status"], r["attempts"], r["last_outcome"], r["next_attempt_at"], r.get("agent"))  # fmt: skip


def _due(t: Table, campaign: str, team: str | None, now: float, agent: str | None = None) -> ColumnElement[bool]:
    """Leads of the campaign that may be dialed now: new, or a retry whose time has come; the team's own
    leads and those of no team. A call back an agent promised is due only for that agent."""
    cond = and_(
        t.c.campaign == campaign,
        or_(t.c.status == NEW, and_(t.c.status == RETRY, t.c.next_attempt_at <= now)),
        t.c.agent.is_(None) if agent is None else t.c.agent == agent,
    )
    if team is not None:
        cond = and_(cond, or_(t.c.team == team, t.c.team.is_(None)))
    return cond


def _listed(t: Table, campaign: str) -> ColumnElement[bool]:
    return exists().where(dnc.c.phone == t.c.phone, dnc.c.campaign.in_(("", campaign)))


async def _sums(conn: AsyncConnection, which: ColumnElement[bool]) -> dict[str, int]:
    """leads, attempts, status:S and outcome:O counts of the leads selected (empty when there are none)."""
    n, attempts = (await conn.execute(select(func.count(), func.coalesce(func.sum(leads.c.attempts), 0))
                                      .where(which))).one()  # fmt: skip
    if not n:
        return {}
    out = {"leads": int(n), "attempts": int(attempts)}
    by_status = select(leads.c.status, func.count()).where(which).group_by(leads.c.status)
    for status, count in await conn.execute(by_status):
        out[f"status:{status}"] = int(count)
    by_outcome = (
        select(leads.c.last_outcome, func.count())
        .where(which, leads.c.last_outcome.is_not(None))
        .group_by(leads.c.last_outcome)
    )
    for outcome, count in await conn.execute(by_outcome):
        out[f"outcome:{outcome}"] = int(count)
    return out


async def _aggregates(conn: AsyncConnection, campaign: str) -> dict[str, int]:
    q = select(lead_aggregates.c.key, lead_aggregates.c.value).where(lead_aggregates.c.campaign == campaign)
    return {k: int(v) for k, v in await conn.execute(q)}


Forget = Callable[[AsyncConnection, list[str], float], Awaitable[Any]]


class LeadStore:
    def __init__(self, engine: AsyncEngine, forget: Forget | None = None) -> None:
        self.engine = engine
        # told, in a wipe's transaction, of the numbers wiped: the customers' records forget their dials
        # (customers.store.forget_dialed; the command line's wipes pass it)
        self.forget = forget

    def _insert(self):  # type: ignore[no-untyped-def]
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    async def import_leads(self, campaign: str, rows: Iterable[LeadRow], now: float,
                           batch: int | None = None) -> tuple[int, int]:  # fmt: skip
        """Add leads as ``new`` (of ``batch``, the file they came in); a phone the campaign already has is left as
        it is. Returns (imported, already present)."""
        values = [
            {"campaign": campaign, "phone": r.phone, "name": r.name, "team": r.team, "tz": r.tz,
             "extra": r.extra, "status": NEW, "attempts": 0, "imported_at": now, "batch": batch}
            for r in rows
        ]  # fmt: skip
        if not values:
            return 0, 0
        stmt = (
            self._insert()(leads)
            .on_conflict_do_nothing(index_elements=["campaign", "phone"])
            .returning(leads.c.id)  # only the rows really inserted come back
        )
        imported = 0
        async with self.engine.begin() as conn:
            for i in range(0, len(values), _BATCH):
                imported += len((await conn.execute(stmt, values[i : i + _BATCH])).all())
        log.info("campaign %s: %d lead(s) imported, %d already there", campaign, imported, len(values) - imported)
        return imported, len(values) - imported

    async def add_dnc(self, numbers: Iterable[str], campaign: str | None, now: float, source: str,
                      region: str = DEFAULT_REGION) -> tuple[int, int]:  # fmt: skip
        """Put numbers (read in ``region``) on the campaign's do-not-call list, or the global one (campaign
        None). Returns (added, already present). PhoneError for a number that cannot be normalised."""
        values = [{"campaign": campaign or "", "phone": normalise(n, region), "added_at": now, "source": source[:200]}
                  for n in numbers]  # fmt: skip
        if not values:
            return 0, 0
        stmt = self._insert()(dnc).on_conflict_do_nothing(index_elements=["campaign", "phone"]).returning(dnc.c.id)
        added = 0
        async with self.engine.begin() as conn:
            for i in range(0, len(values), _BATCH):
                added += len((await conn.execute(stmt, values[i : i + _BATCH])).all())
        log.info("do-not-call list %s: %d number(s) added from %s", campaign or "(global)", added, source)
        return added, len(values) - added

    async def is_dnc(self, phone: str, campaign: str, region: str = DEFAULT_REGION) -> bool:
        q = select(dnc.c.id).where(dnc.c.phone == normalise(phone, region), dnc.c.campaign.in_(("", campaign))).limit(1)
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).first() is not None

    async def claim(self, campaign: str, team: str | None, n: int, now: float, agent: str | None = None) -> list[Lead]:
        """Hand out up to n leads for dialing (they become ``dialing``), longest waiting first. A lead whose
        number is on a do-not-call list now is marked ``dnc`` instead: lists grow after leads are imported."""
        if n <= 0:
            return []
        pick = leads.alias("pick")
        async with self.engine.begin() as conn:
            blocked = await conn.execute(
                update(leads)
                .where(_due(leads, campaign, team, now, agent), _listed(leads, campaign))
                .values(status=DNC)
                .returning(leads.c.phone)
            )
            for (phone,) in blocked:
                log.info("campaign %s: %s is on a do-not-call list: not dialed", campaign, mask_number(phone))
            # a CTE computed once (MATERIALIZED): as an IN (...) subquery, PostgreSQL may re-run the locking
            # SELECT while updating, skip the rows just updated and hand out more than n
            chosen = (
                select(pick.c.id)
                .where(_due(pick, campaign, team, now, agent), ~_listed(pick, campaign))
                .order_by(func.coalesce(pick.c.next_attempt_at, pick.c.imported_at), pick.c.id)
                .limit(n)
                .with_for_update(skip_locked=True)  # PostgreSQL: two dialers never get the same lead
                .cte("chosen")
                .prefix_with("MATERIALIZED")
            )
            taken = await conn.execute(
                update(leads)
                .where(leads.c.id == chosen.c.id, _due(leads, campaign, team, now, agent))
                .values(status=DIALING)
                .returning(*leads.c)
            )
            rows = taken.mappings().all()
        order = sorted(rows, key=lambda r: (r["imported_at"] if r["next_attempt_at"] is None else r["next_attempt_at"],
                                            r["id"]))  # fmt: skip
        return [_lead(r) for r in order]

    async def finish(self, lead_id: int, outcome: str, now: float, next_attempt_at: float | None,
                     attempted: bool = True) -> bool:  # fmt: skip
        """Record an attempt: ``done`` when there is no next attempt, else ``retry`` due at next_attempt_at.
        ``attempted`` False hands a lead back undialed (outside its calling window): no attempt is counted.
        False when the lead is not being dialed (finished already, or purged meanwhile)."""
        if len(outcome) > OUTCOME_MAX:
            raise ValueError(f"outcome {outcome!r} is longer than {OUTCOME_MAX} characters")
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(leads)
                .where(leads.c.id == lead_id, leads.c.status == DIALING)
                .values(
                    status=DONE if next_attempt_at is None else RETRY,
                    attempts=leads.c.attempts + (1 if attempted else 0),
                    last_outcome=outcome if attempted else leads.c.last_outcome,
                    last_attempt_at=now if attempted else leads.c.last_attempt_at,
                    next_attempt_at=next_attempt_at,
                )
            )
        if not res.rowcount:
            log.warning("lead %d: finished while not being dialed: ignored", lead_id)
        return bool(res.rowcount)

    async def schedule(self, lead_id: int, at: float, agent: str | None) -> bool:
        """A call back: dial the lead again at ``at`` (an agent's disposition), for that agent or for anyone.
        No attempt is counted and the attempt limit does not apply: the customer asked for it."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(leads)
                .where(leads.c.id == lead_id, leads.c.status.in_((NEW, RETRY, DONE, DIALING)))
                .values(status=RETRY, next_attempt_at=at, agent=agent)
            )
        return bool(res.rowcount)

    async def purge(self, campaign: str, now: float) -> int:
        """Destroy the personal data of every lead of the campaign (phone, name, extra columns), keeping
        what they add up to in lead_aggregates. Returns how many leads were purged. The do-not-call
        entries stay: they record an objection, which a later campaign of the same name must honour."""
        n = await self.wipe(campaign, and_(leads.c.campaign == campaign, leads.c.status != PURGED), now)
        if n:
            log.info("campaign %s: personal data of %d lead(s) purged", campaign, n)
        return n

    async def wipe(self, campaign: str, live: ColumnElement[bool], now: float,
                   then: Callable[[AsyncConnection], Awaitable[None]] | None = None) -> int:  # fmt: skip
        """Destroy the personal data of the campaign's leads ``live`` selects (not yet purged), adding what they
        add up to into lead_aggregates; how many there were. ``then`` runs last in the same transaction: what it
        writes is kept only with the wipe, and its exception undoes both."""
        lite = self.engine.dialect.name == "sqlite"
        async with self.engine.begin() as conn:
            add = await _sums(conn, live)
            if add:
                old = await _aggregates(conn, campaign)
                await conn.execute(delete(lead_aggregates).where(lead_aggregates.c.campaign == campaign,
                                                                 lead_aggregates.c.key.in_(add)))  # fmt: skip
                merged = [{"campaign": campaign, "key": k, "value": old.get(k, 0) + v, "purged_at": now}
                          for k, v in add.items()]  # fmt: skip
                await conn.execute(lead_aggregates.insert(), merged)
                numbers = [str(p) for p in (await conn.execute(select(leads.c.phone).where(live))).scalars() if p]
                if lite:
                    # overwrite the freed row and index space with zeros instead of leaving the old bytes in the file
                    await conn.exec_driver_sql("PRAGMA secure_delete = ON")
                await conn.execute(update(leads).where(live).values(phone=None, name="", extra=null(), status=PURGED,
                                                                    next_attempt_at=None))  # fmt: skip
                if lite:
                    await conn.exec_driver_sql("PRAGMA secure_delete = OFF")
                if self.forget is not None:
                    await self.forget(conn, numbers, now)
            if then is not None:
                await then(conn)
        if lite and add:
            # pages from before the purge may still sit in the write-ahead log: fold it in and empty it
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # PostgreSQL keeps the old row versions until VACUUM reclaims them (autovacuum, or VACUUM FULL leads)
        return add.get("leads", 0)

    async def totals(self, campaign: str) -> Totals:
        async with self.engine.connect() as conn:
            sums = await _sums(conn, and_(leads.c.campaign == campaign, leads.c.status != PURGED))
            agg = await _aggregates(conn, campaign)
        for k, v in agg.items():
            sums[k] = sums.get(k, 0) + v
        status = {k.partition(":")[2]: v for k, v in sums.items() if k.startswith("status:")}
        outcome = {k.partition(":")[2]: v for k, v in sums.items() if k.startswith("outcome:")}
        return Totals(status, outcome, sums.get("attempts", 0), agg.get("leads", 0))

    async def counts(self, campaign: str) -> dict[str, int]:
        """Leads per status, purged leads counted under the status they had when purged."""
        return (await self.totals(campaign)).status

    async def campaigns(self) -> list[str]:
        """Campaigns the store has leads or aggregates of."""
        async with self.engine.connect() as conn:
            names = set((await conn.execute(select(leads.c.campaign).distinct())).scalars())
            names |= set((await conn.execute(select(lead_aggregates.c.campaign).distinct())).scalars())
        return sorted(names)


# ---- `hotline leads` ---------------------------------------------------------------------------------------
class Campaign(Protocol):
    """What a site file says about a campaign (engine.config's campaign entries)."""

    @property
    def name(self) -> str: ...
    @property
    def ends(self) -> float | None: ...  # epoch seconds; None: never ends
    @property
    def retention_days(self) -> int: ...
    @property
    def region(self) -> str: ...  # ISO 3166 code its leads' numbers are read in


def purge_after(c: Campaign) -> float | None:
    """When the campaign's personal data must go: its end plus the retention; None if it never ends."""
    return None if c.ends is None else c.ends + c.retention_days * DAY


def find_campaign(campaigns: Sequence[Campaign], name: str) -> Campaign | None:
    return next((c for c in campaigns if c.name == name), None)


def parse_when(text: str, tz: ZoneInfo) -> float:
    """ISO 8601 date or date-time as epoch seconds; without an offset it is the site's local time."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def _local(t: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")


def _unknown(name: str, campaigns: Sequence[Campaign]) -> str:
    known = ", ".join(c.name for c in campaigns) or "none"
    return f"unknown campaign {name!r} (the site file has: {known})"


@asynccontextmanager
async def _lead_store(url: str, region: str = "") -> AsyncIterator[LeadStore]:
    """The store's leads; with the site's ``region``, a wipe also makes the customers' records forget the dials."""
    from engine.store.store import Store, migrate

    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        yield LeadStore(store.engine, forgetting(region) if region else None)
    finally:
        await store.close()


def _report(path: str, counts: str, bad: list[BadRow]) -> int:
    print(f"{counts}, bad {len(bad)}")
    for b in bad:
        print(b.format(path))
    return 1 if bad else 0


async def import_command(url: str, campaigns: Sequence[Campaign], campaign: str, path: str, now: float, *,
                         source: str = "", cost: int = 0, team: str | None = None) -> int:  # fmt: skip
    """`hotline leads import`: 0 all rows imported (or already there), 1 some rows bad (the good ones are
    imported), 2 unknown or ended campaign, or a file that cannot be used. The file is a batch (``source``,
    ``cost`` in hundredths, ``team`` for the rows that name none)."""
    c = find_campaign(campaigns, campaign)
    if c is None:
        print(f"leads import: {_unknown(campaign, campaigns)}", file=sys.stderr)
        return 2
    if c.ends is not None and c.ends <= now:
        # leads for a campaign that can no longer call them would only be personal data kept for nothing
        print(f"leads import: campaign {campaign!r} has ended: not importing", file=sys.stderr)
        return 2
    try:
        good, bad = parse_lead_file(path, c.region)
    except LeadFileError as exc:
        print(f"leads import: {exc}", file=sys.stderr)
        return 2
    from dialer.batch_store import BatchStore

    if team is not None:
        good = [r if r.team else replace(r, team=team) for r in good]
    async with _lead_store(url) as store:
        batches = BatchStore(store.engine)
        # a number repeated in the file is a bad row of its own (lead_file.py), but a valid number all the same
        repeated = sum(1 for r in bad if r.reason.startswith("duplicate phone"))
        batch = await batches.create(campaign, source=source or Path(path).name, cost=cost, team=team,
                                     file=Path(path).name, now=now, file_rows=len(good) + len(bad),
                                     valid=len(good) + repeated, repeated=repeated)  # fmt: skip
        imported, present = await store.import_leads(campaign, good, now, batch)
        await batches.counted(batch, imported, present)
    # stdout keeps its one line of counts (scripts read it); the batch the file became is said on stderr
    print(f"leads import: batch {batch} of campaign {campaign} (see hotline leads batches)", file=sys.stderr)
    return _report(path, f"imported {imported}, already present {present}", bad)


async def dnc_command(url: str, campaigns: Sequence[Campaign], path: str, campaign: str | None, now: float) -> int:
    """`hotline leads dnc`: numbers from the file's ``phone`` column onto the global list or a campaign's,
    read in the campaign's region (the global list: China's, or '+' and the country code). Exit status as
    for import."""
    c = None if campaign is None else find_campaign(campaigns, campaign)
    if campaign is not None and c is None:
        print(f"leads dnc: {_unknown(campaign, campaigns)}", file=sys.stderr)
        return 2
    try:
        good, bad = parse_lead_file(path, DEFAULT_REGION if c is None else c.region)
    except LeadFileError as exc:
        print(f"leads dnc: {exc}", file=sys.stderr)
        return 2
    async with _lead_store(url) as store:
        added, present = await store.add_dnc([r.phone for r in good], campaign, now, f"file {Path(path).name}")
    return _report(path, f"added {added}, already present {present}", bad)


def forgetting(region: str) -> Forget:
    """A wipe's hook telling the customers' records (customers.store.forget_dialed) which numbers were wiped."""

    async def forget(conn: AsyncConnection, numbers: list[str], now: float) -> None:
        # the customers' side, imported where wipes happen; the wipe's WAL checkpoint after it covers its tables
        from customers.store import forget_dialed

        await forget_dialed(conn, numbers, region, now)

    return forget


async def purge_command(url: str, campaigns: Sequence[Campaign], campaign: str | None, now: float, tz: ZoneInfo,
                        region: str = "") -> int:  # fmt: skip
    """`hotline leads purge`: every campaign past its end plus retention, or the one named (exit 2 if it is
    not past it yet)."""
    if campaign is not None:
        c = find_campaign(campaigns, campaign)
        if c is None:
            print(f"leads purge: {_unknown(campaign, campaigns)}", file=sys.stderr)
            return 2
        due = purge_after(c)
        if due is None or now < due:
            when = "it never ends" if due is None else f"its leads are kept until {_local(due, tz)}"
            print(f"leads purge: campaign {campaign!r} has not ended plus {c.retention_days} day(s) of retention: "
                  f"{when}; nothing purged", file=sys.stderr)  # fmt: skip
            return 2
        chosen: Sequence[Campaign] = [c]
    else:
        chosen = campaigns
    async with _lead_store(url, region) as store:
        for c in chosen:
            due = purge_after(c)
            if due is None:
                print(f"{c.name}: never ends: kept")
            elif now < due:
                print(f"{c.name}: kept until {_local(due, tz)}")
            else:
                n = await store.purge(c.name, now)
                print(f"{c.name}: ended {_local(c.ends or 0.0, tz)}, retention {c.retention_days} day(s): "
                      f"personal data of {n} lead(s) purged")  # fmt: skip
        if campaign is None:
            for name in sorted(set(await store.campaigns()) - {c.name for c in campaigns}):
                print(f"{name}: not in the site file, so its end is unknown: kept")
    return 0


async def status_command(url: str, campaigns: Sequence[Campaign], campaign: str | None, as_json: bool) -> int:
    """`hotline leads status`: leads per status, per campaign."""
    async with _lead_store(url) as store:
        stored = await store.campaigns()
        if campaign is not None and campaign not in stored and find_campaign(campaigns, campaign) is None:
            print(f"leads status: {_unknown(campaign, campaigns)}", file=sys.stderr)
            return 2
        names = [campaign] if campaign is not None else sorted({c.name for c in campaigns} | set(stored))
        totals = {name: await store.totals(name) for name in names}
    if as_json:
        print(json.dumps({name: asdict(t) for name, t in totals.items()}, indent=1))
        return 0
    for name, t in totals.items():
        parts = ", ".join(f"{s} {t.status.get(s, 0)}" for s in STATUSES if s != PURGED)
        others = ", ".join(f"{s} {v}" for s, v in sorted(t.status.items()) if s not in STATUSES)
        print(f"{name}: {parts}{', ' + others if others else ''}; attempts {t.attempts}; "
              f"personal data purged for {t.purged}")  # fmt: skip
    return 0
