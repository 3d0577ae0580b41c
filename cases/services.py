"""Cases as a service: open them from the engine's facts, link the customer's later calls, close a follow-up
when its call connects, raise an overdue case to its team's lead once, and purge closed cases' personal data.

Every change is a ``case.*`` fact first; the case's row is then its facts folded again (``refresh``), so a row
lost or half-written is right again the next time anything touches the case, and ``rebuild`` makes the whole
table from the ledger. One lock orders the work: a fact hook's batches and the commands never interleave.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cases.model import CLOSED, IN_PROGRESS, KIND_OF_FACT, OPEN, RESOLVED, BadMove, Case, can_move, fold
from cases.notifier import CaseNotifier
from cases.settings import CasesSettings
from cases.sources import WATCHED, Contact, Join, Opening, agent_complaint, caller_of, read
from cases.store import CaseStore
from dialer.phone import callback_number
from engine.live.bus import Change
from engine.ports import Ledger
from engine.privacy import mask_number

log = logging.getLogger("hotline.cases")
DAY = 86400.0
COMPLAINT_LOOKBACK = DAY  # an agent's complaint is about its latest call within this


class Cases:
    def __init__(self, *, ledger: Ledger, store: CaseStore, rules: CasesSettings, teams: dict[str, str],
                 lead_phone: Callable[[str], Awaitable[str]] | None = None,
                 publish: Callable[[Change], Any] | None = None, region: str = "CN") -> None:  # fmt: skip
        self.ledger = ledger
        self.store = store
        self.rules = rules
        self.teams = teams  # agent id -> its team (the first group named)
        self.default_team = rules.default_team or next(iter(sorted(set(teams.values()) - {""})), "")
        self.lead_phone = lead_phone  # a campaign lead's number (the leads table), for the dialer's follow-ups
        self.publish = publish  # the live bus: an overdue case to the team page's stream
        self.region = region  # callers' numbers are read in it: one customer, one number, however it was written
        self.notify = CaseNotifier(ledger)
        self.lock = asyncio.Lock()
        self.leads_of_dials: dict[str, str] = {}
        self.fax_numbers: frozenset[str] = frozenset()  # calls to these are faxes, not contacts (cases/plugin.py)

    # ---- the projection ----------------------------------------------------------------------------------------
    async def refresh(self, case_id: str) -> Case | None:
        case = fold(await self.ledger.facts(case_id, KIND_OF_FACT)).get(case_id)
        if case is not None:
            await self.store.put([case])
        return case

    async def rebuild(self) -> int:
        """The whole table again from the ledger's case facts; how many cases."""
        cases = fold(await self.ledger.facts(None, KIND_OF_FACT))
        await self.store.replace_all(cases.values())
        return len(cases)

    # ---- facts in ----------------------------------------------------------------------------------------------
    def on_facts(self, spawn: Callable[[Any, str], object]) -> Callable[[list[Any]], None]:
        """An engine fact hook: the facts cases are made of, taken in order by one task per batch."""

        def hook(facts: list[Any]) -> None:
            mine = [f for f in facts if f.kind in WATCHED]
            if mine:
                spawn(self.take(mine), f"cases:{mine[0].key}")

        return hook

    async def take(self, facts: list[Any]) -> None:
        async with self.lock:
            for f in facts:
                got = read(f, self.rules, self.leads_of_dials, self.fax_numbers)
                if isinstance(got, Opening):
                    await self._open(got)
                elif isinstance(got, Contact):
                    await self._contact(got)
                elif isinstance(got, Join):
                    await self._join(got)

    async def catch_up(self, since: float) -> None:
        """Read again the facts since ``since`` (the engine stopped between a fact and its case): cases already
        opened or linked stay as they are; a case the projection lacks is folded from the ledger. Calls with
        nobody owed anything are passed over without asking the store (a week's calls, at every start)."""
        facts = sorted(await self.ledger.facts(None, WATCHED, since), key=lambda f: f.at)
        async with self.lock:
            settled = since - self.rules.repeat_days * DAY
            owed = {v for r in await self.store.live(settled_since=settled) for v in (r["number"], r["lead"],
                                                                                       r["call_id"])}  # fmt: skip
            for f in facts:
                got = read(f, self.rules, self.leads_of_dials, self.fax_numbers)
                if isinstance(got, Opening):
                    case = await self._open(got)
                    owed |= {case.number, case.lead, case.call_id} if case is not None else set()
                elif isinstance(got, Contact) and {self._e164(got.number), got.lead, got.callback_of} & (owed - {""}):
                    await self._contact(got)
                elif isinstance(got, Join):
                    await self._join(got)
        known = {r["id"] for r in await self.store.rows()}
        missing = {f.call_id for f in await self.ledger.facts(None, ("case.opened",), since)} - known
        for case_id in sorted(missing):
            await self.refresh(case_id)

    async def _open(self, o: Opening) -> Case | None:
        if await self.store.get(o.case_id) is not None:
            return None
        number = o.number
        if not number and o.call_id and not o.lead:
            number = caller_of(await self.ledger.facts(o.call_id, ("channel.new",)))
        if not number and o.lead and self.lead_phone is not None:
            number = await self.lead_phone(o.lead)
        number = self._e164(number)
        due = o.due_at if o.due_at is not None else self.rules.calendar.due(o.at, self.rules.days_for(o.kind,
                                                                                                       o.source))
        team = self.teams.get(o.owner, "") or self.default_team
        await self.notify.opened(o.case_id, o.at, kind=o.kind, source=o.source, number=number, call=o.call_id,
                                 lead=o.lead, owner=o.owner, team=team, due_at=due, note=o.note)  # fmt: skip
        if o.call_id:
            what = "message" if o.kind == "complaint" and o.source == "menu" else "call"
            await self.notify.linked(o.case_id, o.at, o.call_id, what)
        log.info("case %s opened: %s from %s, %s, due %s", o.case_id, o.kind, o.source, mask_number(number) or "-",
                 dt.datetime.fromtimestamp(due, self.rules.calendar.tz).strftime("%Y-%m-%d %H:%M"))  # fmt: skip
        return await self.refresh(o.case_id)

    async def latest_live(self, number: str) -> str:
        """The number's most recent case still owed ("" for none): the case a fax from it joins."""
        rows = await self.store.live(number=self._e164(number)) if number else []
        return str(rows[-1]["id"]) if rows else ""

    async def _join(self, j: Join) -> None:
        if await self.store.get(j.case_id) is not None:
            await self.notify.linked(j.case_id, j.at, j.call_id, j.what)
            await self.refresh(j.case_id)

    async def _contact(self, c: Contact) -> None:
        """A call with the customer: linked to its live cases (closing a follow-up it is the call of), and to
        those resolved within ``repeat_days`` as a repeat contact."""
        found: dict[str, dict[str, Any]] = {}
        settled = c.at - self.rules.repeat_days * DAY
        for q in ({"number": self._e164(c.number)}, {"lead": c.lead}, {"call_id": c.callback_of}):
            if any(q.values()):
                found.update((r["id"], r) for r in await self.store.live(**q, settled_since=settled))
        for case_id, row in found.items():
            live = row["status"] in (OPEN, IN_PROGRESS)
            closes = (live and c.connects_follow_up and row["kind"] == "follow_up"
                      and ((c.callback_of and row["call_id"] == c.callback_of) or (c.lead and row["lead"] == c.lead)))
            if row["call_id"] == c.call_id and not closes:
                continue  # its own source call
            if not live and not c.at > float(row["resolved_at"]):
                continue  # settled after this call began: not a call about it again
            what = "follow_up_call" if closes else "call" if live else "repeat"
            await self.notify.linked(case_id, c.at, c.call_id, what)
            if closes:
                on_time = c.at <= float(row["due_at"])
                await self.notify.resolved(case_id, c.at, "follow-up call connected", "engine", on_time, c.call_id)
                await self.notify.status(case_id, c.at, CLOSED, "engine", "follow-up call connected")
                log.info("case %s closed: the follow-up call %s connected", case_id, c.call_id)
            case = await self.refresh(case_id)
            if closes and case is not None and case.overdue_at is not None:
                self._tell(case, c.at)

    # ---- people's actions --------------------------------------------------------------------------------------
    async def complaint(self, agent: str, via: str, note: str, now: float) -> str:
        """An agent files a complaint about its latest call (the agent page's button, a feature code)."""
        async with self.lock:
            got = agent_complaint(agent, await self.ledger.facts(None, ("agent.offer", "outbound.connect"),
                                                                 now - COMPLAINT_LOOKBACK))  # fmt: skip
            if got is None:
                raise ValueError(f"{agent} has had no call in the last day to file a complaint about")
            call_id, _ = got
            source = "feature_code" if via == "phone" else "agent_page"
            o = Opening(f"complaint:{agent}:{call_id}", "complaint", source, call_id, now, owner=agent, note=note)
            if await self.store.get(o.case_id) is not None:
                raise ValueError(f"a complaint about call {call_id} is already case {o.case_id}")
            case = await self._open(o)
        assert case is not None
        return f"complaint case {case.id} opened, due {self._day(case.due_at)}"

    async def assign(self, case_id: str, owner: str, by: str, now: float) -> Case:
        async with self.lock:
            row = await self._row(case_id)
            if owner not in self.teams:
                raise ValueError(f"no agent {owner!r} in the site file")
            if row["status"] == CLOSED:
                raise BadMove(f"case {case_id} is closed: reopen it first")
            await self.notify.assigned(case_id, now, owner, self.teams[owner] or row["team"], by)
            if row["status"] == OPEN:
                await self.notify.status(case_id, now, IN_PROGRESS, by, f"assigned to {owner}")
            return await self._refreshed(case_id)

    async def resolve(self, case_id: str, resolution: str, by: str, now: float, close: bool = False) -> Case:
        async with self.lock:
            row = await self._row(case_id)
            self._may(row, RESOLVED)
            if not resolution.strip():
                raise ValueError("a resolution says what was done: give one")
            await self.notify.resolved(case_id, now, resolution, by, now <= row["due_at"], f"{now:.3f}")
            if close:
                await self.notify.status(case_id, now, CLOSED, by)
            case = await self._refreshed(case_id)
            if case.overdue_at is not None:
                self._tell(case, now)
            return case

    async def move(self, case_id: str, to: str, by: str, now: float, why: str = "") -> Case:
        """Close a resolved case, or reopen one (resolved: back to in_progress; closed: back to open)."""
        async with self.lock:
            self._may(await self._row(case_id), to)
            await self.notify.status(case_id, now, to, by, why)
            return await self._refreshed(case_id)

    # ---- the engine's clock ------------------------------------------------------------------------------------
    async def check_overdue(self, now: float) -> list[Case]:
        """Cases past their due time not yet said to be: a ``case.overdue`` fact each (once, ever) and an alert
        to their team's lead on the live bus."""
        out = []
        async with self.lock:
            for row in await self.store.live():
                if row["overdue_at"] is None and now > row["due_at"]:
                    await self.notify.overdue(row["id"], now, row["due_at"], row["team"], row["owner"])
                    case = await self._refreshed(row["id"])
                    self._tell(case, now)
                    log.warning("case %s (%s, team %s) is overdue: it was due %s", case.id, case.kind,
                                case.team or "-", self._day(case.due_at))  # fmt: skip
                    out.append(case)
        return out

    async def announce(self, now: float) -> int:
        """At start: the overdue cases still owed, back on the bus (its states do not outlive the process)."""
        rows = [r for r in await self.store.live() if r["overdue_at"] is not None]
        for r in rows:
            self._tell(Case(**r), now)
        return len(rows)

    async def purge(self, now: float) -> list[str]:
        """Closed cases kept ``keep_days`` lose the customer's number and notes (``case.purged``); the case and its
        times stay for the counts."""
        gone = []
        async with self.lock:
            for row in await self.store.closed_before(now - self.rules.keep_days * DAY):
                await self.notify.purged(row["id"], now, self.rules.keep_days)
                await self.refresh(row["id"])
                gone.append(row["id"])
        if gone:
            log.info("retention: %d closed case(s) lost their personal data", len(gone))
        return gone

    # ---- helpers -----------------------------------------------------------------------------------------------
    def _tell(self, case: Case, now: float) -> None:
        if self.publish is None:
            return
        self.publish(Change("case", case.id, now, {
            "kind": case.kind, "team": case.team, "owner": case.owner, "status": case.status,
            "due_at": case.due_at, "overdue": case.live and case.overdue_at is not None,
            "number": mask_number(case.number)}))  # fmt: skip

    def _e164(self, number: str) -> str:
        """The number in E.164 when it reads as one of the region's (or an international one), else as given."""
        return (callback_number(number, self.region) or number) if number else ""

    def _day(self, t: float) -> str:
        return dt.datetime.fromtimestamp(t - 1, self.rules.calendar.tz).strftime("%Y-%m-%d")  # the day it ends

    async def _row(self, case_id: str) -> dict[str, Any]:
        row = await self.store.get(case_id)
        if row is None:
            raise KeyError(case_id)
        return row

    async def _refreshed(self, case_id: str) -> Case:
        case = await self.refresh(case_id)
        assert case is not None
        return case

    @staticmethod
    def _may(row: dict[str, Any], to: str) -> None:
        why = can_move(Case(**row), to)
        if why is not None:
            raise BadMove(why)
