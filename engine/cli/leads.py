"""`hotline leads`: outbound leads: import, do-not-call lists, purge, status."""

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
        return asyncio.run(leads.import_command(url, campaigns, args.campaign, args.file, time.time()))
    if args.leads_command == "dnc":
        return asyncio.run(leads.dnc_command(url, campaigns, args.file, args.campaign, time.time()))
    if args.leads_command == "purge":
        try:
            now = leads.parse_when(args.now, tz) if args.now else time.time()
        except ValueError:
            print(f"leads purge: --now {args.now!r} is not an ISO date or date-time", file=sys.stderr)
            return 2
        return asyncio.run(leads.purge_command(url, campaigns, args.campaign, now, tz))
    return asyncio.run(leads.status_command(url, campaigns, args.campaign, args.json))


def add_parser(sub: argparse._SubParsersAction) -> None:
    le = sub.add_parser("leads", help="outbound leads: import, do-not-call lists, purge, status")
    lesub = le.add_subparsers(dest="leads_command", required=True)
    li = lesub.add_parser("import", help="import a lead CSV (column phone; name, team, tz optional) into a campaign")
    li.add_argument("campaign", help="campaign name, as in the site file")
    li.add_argument("file", help="CSV file, UTF-8, header row first")
    ldn = lesub.add_parser("dnc", help="add a CSV's phone column to the do-not-call list")
    ldn.add_argument("file", help="CSV file with a phone column")
    ldn.add_argument("--campaign", help="the campaign's list (default: the global list)")
    lp = lesub.add_parser("purge", help="destroy the personal data of campaigns past their end plus retention")
    lp.add_argument("--campaign", help="only this campaign (exit 2 if it is not past end plus retention)")
    lp.add_argument("--now", help="ISO date-time to judge by (default now; without offset: site time)")
    ls = lesub.add_parser("status", help="leads per status, per campaign")
    ls.add_argument("campaign", nargs="?", help="only this campaign")
    ls.add_argument("--json", action="store_true")
    for lx in (li, ldn, lp, ls):
        lx.add_argument("--site", help="site file")
    le.set_defaults(func=cmd_leads)
