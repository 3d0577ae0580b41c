"""`hotline leads`: outbound leads: import (each file a batch), do-not-call lists, purge, status, the batches'
quality and a batch's destruction."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from engine.cli import sitefile


def cmd_leads(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from dialer import leads

    site = sitefile.load(args.site)
    url, campaigns, tz = site["store"]["url"], site.campaigns, ZoneInfo(site["site"]["timezone"])
    if args.leads_command == "import":
        from sales.model import OrderError, money

        try:
            cost = money(args.cost) if args.cost else 0
        except OrderError:
            print(f"leads import: --cost {args.cost!r}: a sum with at most two decimals, e.g. 1500.00", file=sys.stderr)
            return 2
        return asyncio.run(leads.import_command(url, campaigns, args.campaign, args.file, time.time(),
                                                source=args.source or "", cost=cost, team=args.team))  # fmt: skip
    if args.leads_command in ("batches", "destroy"):
        from dialer import batch_commands

        if args.leads_command == "batches":
            return asyncio.run(batch_commands.batches_command(url, args.campaign, tz, args.json))
        return asyncio.run(batch_commands.destroy_command(url, args.batch, time.time(), tz, args.json,
                                                          site["hotline"]["region"]))  # fmt: skip
    if args.leads_command == "dnc":
        return asyncio.run(leads.dnc_command(url, campaigns, args.file, args.campaign, time.time()))
    if args.leads_command == "purge":
        try:
            now = leads.parse_when(args.now, tz) if args.now else time.time()
        except ValueError:
            print(f"leads purge: --now {args.now!r} is not an ISO date or date-time", file=sys.stderr)
            return 2
        return asyncio.run(leads.purge_command(url, campaigns, args.campaign, now, tz, site["hotline"]["region"]))
    return asyncio.run(leads.status_command(url, campaigns, args.campaign, args.json))


def add_parser(sub: argparse._SubParsersAction) -> None:
    le = sub.add_parser("leads", help="outbound leads: import, do-not-call lists, purge, status, batches, destroy")
    lesub = le.add_subparsers(dest="leads_command", required=True)
    li = lesub.add_parser("import", help="import a lead CSV (column phone; name, team, tz optional) into a campaign")
    li.add_argument("campaign", help="campaign name, as in the site file")
    li.add_argument("file", help="CSV file, UTF-8, header row first")
    li.add_argument("--source", help="where the file was bought (default: its name)")
    li.add_argument("--cost", help="what the file cost, in the site's currency (e.g. 1500.00)")
    li.add_argument("--team", help="the team the batch is for: rows naming no team get it")
    ldn = lesub.add_parser("dnc", help="add a CSV's phone column to the do-not-call list")
    ldn.add_argument("file", help="CSV file with a phone column")
    ldn.add_argument("--campaign", help="the campaign's list (default: the global list)")
    lp = lesub.add_parser("purge", help="destroy the personal data of campaigns past their end plus retention")
    lp.add_argument("--campaign", help="only this campaign (exit 2 if it is not past end plus retention)")
    lp.add_argument("--now", help="ISO date-time to judge by (default now; without offset: site time)")
    ls = lesub.add_parser("status", help="leads per status, per campaign")
    ls.add_argument("campaign", nargs="?", help="only this campaign")
    ls.add_argument("--json", action="store_true")
    lb = lesub.add_parser("batches", help="each imported file's quality: valid, duplicates, do-not-call, connect "
                          "rate, conversations and sales per 1000 leads, cost per sale")
    lb.add_argument("--campaign", help="only this campaign's batches")
    lb.add_argument("--json", action="store_true")
    ld = lesub.add_parser("destroy", help="destroy the personal data of one batch's leads, keeping its figures")
    ld.add_argument("batch", type=int, help="the batch's number (hotline leads batches)")
    ld.add_argument("--json", action="store_true")
    for lx in (li, ldn, lp, ls, lb, ld):
        lx.add_argument("--site", help="site file")
    le.set_defaults(func=cmd_leads)
