"""Reports as a service: a query (report, days, interval, filters) checked against the site, the store's rows of
the range turned into buckets (``reports.buckets``) and folded into the report asked for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from engine.config import Site
from engine.store.stats import targets_of
from reports.agent_report import agents_report
from reports.buckets import Bucket, SiteRules, buckets, call_time
from reports.campaign_report import campaigns_report
from reports.fold import INTERVALS, Filter, Periods, day_range
from reports.gc_pause import gc_paused
from reports.hotline_report import hotline_report
from reports.service_report import abandoned_calls, services_report
from reports.store import ReportStore

# the report names and the filters each takes
REPORTS: dict[str, tuple[str, ...]] = {
    "agents": ("team", "agent", "service"),
    "services": ("service",),
    "hotline": (),
    "campaigns": ("team",),
    "cases": ("team", "agent"),  # the case's team; the agent who owns it
    "sales": ("team", "agent"),  # the order's team; the agent who sold
}
DEFAULT_INTERVAL = {"agents": "1d", "services": "1h", "hotline": "1d", "campaigns": "1d", "cases": "1d", "sales": "1d"}
Cases = Callable[[float, float], Awaitable[list[dict[str, Any]]]]  # the cases table's rows a range needs
SalesFacts = Callable[[float], Awaitable[list[Any]]]  # the ledger's sale.* facts since a time
# the buckets of [start, end) a report with this filter reads (it may leave out what the filter leaves out)
Source = Callable[[float, float, Filter], Awaitable[list[Bucket]]]


class QueryError(ValueError):
    """A query the site cannot answer: one line naming the option and what is known."""


@dataclass(frozen=True)
class Query:
    name: str
    first: dt.date
    last: dt.date
    interval: str = ""
    team: str | None = None
    agent: str | None = None
    service: str | None = None


def rules_of(site: Site) -> SiteRules:
    return SiteRules(sl_targets=targets_of(site))


def teams_of(site: Site) -> dict[str, set[str]]:
    """Team -> agent ids: the agents' groups, and each campaign's team with the campaign's agents."""
    out: dict[str, set[str]] = {}
    for a in site.agents:
        for g in a.groups:
            out.setdefault(g, set()).add(a.id)
    for c in site.campaigns:
        if c.team:
            out.setdefault(c.team, set()).update(c.agents)
    return out


def check(site: Site, q: Query) -> None:
    """Raise QueryError for a filter the report does not take or a name the site does not know."""
    if q.name not in REPORTS:
        raise QueryError(f"unknown report {q.name!r} (known: {', '.join(REPORTS)})")
    if q.interval and q.interval not in INTERVALS:
        raise QueryError(f"--interval {q.interval}: not one of {', '.join(INTERVALS)}")
    if q.name in ("cases", "sales") and q.interval not in ("", "1d"):
        raise QueryError(f"--interval {q.interval}: the {q.name} report is by day")
    if q.last < q.first:
        raise QueryError(f"--to {q.last} is before --from {q.first}")
    for option in ("team", "agent", "service"):
        if getattr(q, option) is not None and option not in REPORTS[q.name]:
            takes = ", ".join(f"--{o}" for o in REPORTS[q.name]) or "none"
            raise QueryError(f"--{option} does not apply to the {q.name} report (its filters: {takes})")
    known = {"team": sorted(teams_of(site)), "agent": [a.id for a in site.agents], "service": site.service_names()}
    for option, names in known.items():
        value = getattr(q, option)
        if value is not None and value not in names:
            raise QueryError(f"--{option} {value}: no such {option} in the site (known: {', '.join(names) or 'none'})")


def _filter(site: Site, q: Query) -> Filter:
    agents: set[str] | None = None
    campaigns = None
    if q.team is not None:
        agents = set(teams_of(site)[q.team])
        campaigns = frozenset(c.name for c in site.campaigns if c.team == q.team or set(c.agents) & agents)
    if q.agent is not None:
        agents = {q.agent} if agents is None else agents & {q.agent}
    return Filter(agents=None if agents is None else frozenset(agents),
                  services=None if q.service is None else frozenset({q.service}), campaigns=campaigns)  # fmt: skip


class Reports:
    """``source(start, end, filter)`` gives the buckets of a range; by default they are counted from the store's
    rows (the rollups table can give them instead, with the same rows, narrowed to the filter in SQL)."""

    def __init__(self, site: Site, store: ReportStore,
                 source: Source | None = None,
                 cases: Cases | None = None, sales: SalesFacts | None = None) -> None:  # fmt: skip
        self.site = site
        self.cases = cases
        self.sales = sales
        self.store = store
        self.tz = ZoneInfo(site["site"]["timezone"])
        self.rules = rules_of(site)
        self.source = source or self.from_ledger

    async def from_ledger(self, start: float, end: float, flt: Filter | None = None) -> list[Bucket]:
        # every bucket of the range, whatever ``flt``: the count needs all facts anyway, the folds filter
        records = await self.store.records(start, end)
        facts = await self.store.facts(start, end)
        # a grade of a call recorded before the range counts in that call's interval, not in this range (as the
        # rollups, counting the whole ledger, count it)
        known = {str(r["call_id"]) for r in records if start <= call_time(r) < end}
        graded = [g for g in await self.store.grades(start) if not g["recorded"] or str(g["call_id"]) in known]
        return buckets(records, facts, self.rules, start, end, graded)

    async def report(self, q: Query) -> dict[str, Any]:
        check(self.site, q)
        start, end = day_range(q.first, q.last, self.tz)
        interval = q.interval or DEFAULT_INTERVAL[q.name]
        periods = Periods(interval, self.tz)
        flt = _filter(self.site, q)
        # time after the ledger's newest fact is not counted: nobody knows yet (or the engine was not running)
        # whether the agents still logged in then stayed so
        newest = await self.store.newest(end)
        stop = start if newest is None else min(end, max(start, newest + 0.001))
        with gc_paused():  # the rows and the figures of a year's report: objects that live until it returns
            body = await self._body(q, start, end, stop, periods, flt)
        if q.name in ("cases", "sales"):
            stop = end  # cases and orders are counted by their own times, up to the range's end
        filters = {k: v for k, v in (("team", q.team), ("agent", q.agent), ("service", q.service)) if v}
        head = {"report": q.name, "site": self.site["site"]["name"], "from": q.first.isoformat(),
                "to": q.last.isoformat(), "timezone": self.site["site"]["timezone"], "interval": interval,
                "filters": filters, "counted_until": dt.datetime.fromtimestamp(stop, self.tz).isoformat(
                    timespec="seconds")}  # fmt: skip
        return head | body

    async def _body(self, q: Query, start: float, end: float, stop: float, periods: Periods, flt: Filter
                    ) -> dict[str, Any]:  # fmt: skip
        if q.name == "cases":  # the cases report reads the cases table, not bucket rows
            return await self._cases(q, start, end)
        rows = await self.source(start, stop, flt) if stop > start else []
        if q.name == "sales":
            return await self._sales(rows, start, end, flt, q.team)
        if q.name == "agents":
            cases = await self.cases(start, end) if self.cases is not None else []
            return agents_report(rows, periods, flt, {a.id: a.name for a in self.site.agents}, cases)
        if q.name == "services":
            records = await self.store.abandoned(start, stop)
            return services_report(rows, periods, flt, abandoned_calls(records, self.rules, periods, start, stop,
                                                                       flt.services))  # fmt: skip
        if q.name == "hotline":
            return hotline_report(rows, periods, self.site["hotline"]["service"])
        return campaigns_report(rows, periods, flt, {c.name: c.team for c in self.site.campaigns})

    async def _sales(self, rows: list[Bucket], start: float, end: float, flt: Filter,
                     team: str | None) -> dict[str, Any]:  # fmt: skip
        """Sales against the daily target and the commission split (sales/report.py): the orders from the ledger,
        the days each agent worked from the buckets' logged-in time."""
        from sales.model import KINDS, fold
        from sales.report import sales_report
        from sales.settings import SalesSettings

        facts = await self.sales(start) if self.sales is not None else []
        orders = [o for o in fold(f for f in facts if f.kind in KINDS).values() if start <= o.placed_at < end]
        # the target is a seller's: an agent of a campaign, on each day it was logged in (an inbound agent
        # appears only on the days it sold)
        sellers = {a for c in self.site.campaigns for a in c.agents}
        worked = {(dt.datetime.fromtimestamp(b.start, self.tz).date().isoformat(), b.agent) for b in rows
                  if b.agent in sellers and b.logged_in_s > 0}  # fmt: skip
        teams = {a.id: (a.groups[0] if a.groups else "") for a in self.site.agents}
        return sales_report(orders, worked, SalesSettings.of(self.site["sales"]), self.tz, teams=teams,
                            names={a.id: a.name for a in self.site.agents}, agents=flt.agents, team=team)  # fmt: skip

    async def _cases(self, q: Query, start: float, end: float) -> dict[str, Any]:
        """The complaint daily report and the follow-up report (cases/report.py) of the cases of a team or owner."""
        from cases.report import cases_report
        from cases.settings import CasesSettings

        rows = await self.cases(start, end) if self.cases is not None else []
        rows = [r for r in rows
                if (q.team is None or r["team"] == q.team) and (q.agent is None or r["owner"] == q.agent)]
        goal = CasesSettings.of(self.site["cases"], self.site["site"]["timezone"]).follow_up_goal
        body = cases_report(rows, start, end, self.tz, goal=goal)
        return {k: v for k, v in body.items() if k not in ("report", "from", "to", "timezone")}
