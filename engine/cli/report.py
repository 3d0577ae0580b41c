"""`hotline report NAME`: the agents, services, hotline, campaigns, cases and sales reports from the ledger and call
records, as a text table with each figure's formula, and as JSON, CSV, xlsx or a PNG plot (reports/; README
"Reports")."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from typing import Any

from engine.cli import rollups, sitefile

NAMES = ("agents", "services", "hotline", "campaigns", "cases", "sales")


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        sitefile.fail(f"hotline report: --{option} {value}: not a date (YYYY-MM-DD, site time)")


def days(today: dt.date, first: dt.date | None, last: dt.date | None) -> tuple[dt.date, dt.date]:
    """--from defaults to --to (or today); --to defaults to today, or to --from when that is later."""
    first = first or last or today
    return first, last or max(first, today)


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from cases.store import CaseStore
    from engine.store.store import Store, migrate
    from reports.services import Query, QueryError, Reports, check
    from reports.store import ReportStore
    from sales.model import KINDS as SALE_KINDS

    site = sitefile.load(args.site)
    today = dt.datetime.now(ZoneInfo(site["site"]["timezone"])).date()
    first, last = days(today, _date("from", args.from_), _date("to", args.to))
    q = Query(args.name, first, last, args.interval or "", args.team, args.agent, args.service)
    try:
        check(site, q)  # before the store: a wrong name costs nothing
    except QueryError as exc:
        sitefile.fail(f"hotline report {args.name}: {exc}")
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        cases = CaseStore(store.engine)
        return await Reports(site, ReportStore(store.engine), source=await rollups.source(site, store, q),
                             cases=lambda a, b: cases.rows(since=a, until=b),
                             sales=lambda since: store.facts(None, SALE_KINDS, since)).report(q)
    finally:
        await store.close()


def cmd_report(args: argparse.Namespace) -> int:
    from reports import export

    if args.name in rollups.COMMANDS:
        return rollups.cmd_rollups(args)
    if args.plot and args.name not in export.PLOTS:
        sitefile.fail(f"hotline report {args.name}: --plot: this report has no plot ({', '.join(export.PLOTS)} do)")
    report = asyncio.run(_run(args))
    print(export.text(report))
    if args.json:
        export.write_json(report, args.json)
    if args.csv:
        export.write_csv(report, args.csv)
    if args.xlsx:
        export.write_xlsx(report, args.xlsx)
    if args.plot:
        export.write_plot(report, args.plot)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="agents, services, hotline, campaigns, cases and sales reports, each figure "
                       "with its formula")
    p.add_argument("name", choices=NAMES + rollups.COMMANDS,
                   help="which report; `rebuild`: count the rollups again from the ledger; `status`: how far they are")
    sitefile.add_site_option(p)
    p.add_argument("--from", dest="from_", help="first day, YYYY-MM-DD, site time (default: --to, or today)")
    p.add_argument("--to", help="last day, included (default: today, or --from when later)")
    p.add_argument("--team", help="only this team's agents (agents, sales), campaigns (campaigns) or cases (cases)")
    p.add_argument("--agent", help="only this agent (agents, cases, sales)")
    p.add_argument("--service", help="only this service's calls (agents, services)")
    p.add_argument("--interval", choices=("15m", "1h", "1d"),
                   help="rows per 15 minutes, hour or day (default: 1h for services, else 1d)")  # fmt: skip
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--csv", metavar="FILE", help="write the rows as CSV")
    p.add_argument("--xlsx", metavar="FILE", help="write an xlsx workbook (rows, lists, formulas)")
    p.add_argument("--plot", metavar="FILE", help="write a PNG plot (agents, services, hotline)")
    p.set_defaults(func=cmd_report)
