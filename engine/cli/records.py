"""`hotline records` and `hotline why`: call records and routing decisions from the ledger."""

from __future__ import annotations

import argparse
import asyncio

from engine.cli import sitefile


def cmd_records(args: argparse.Namespace) -> int:
    from engine.app import records_command

    site = sitefile.load(args.site)
    return asyncio.run(records_command(site, args.action, args.json))


def cmd_why(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from acd.why import explain_call
    from engine.store.store import Store, migrate

    site = sitefile.load(args.site)

    async def go() -> list[str]:
        await asyncio.to_thread(migrate, site["store"]["url"])
        store = Store(site["store"]["url"])
        try:
            return explain_call(await store.facts(args.call_id), ZoneInfo(site["site"]["timezone"]))
        finally:
            await store.close()

    for line in asyncio.run(go()):
        print(line)
    return 0


def add_records_parser(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("records", help="call records derived from the ledger")
    rec.add_argument("action", choices=["list", "rebuild"])
    rec.add_argument("--site", help="site file")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=cmd_records)


def add_why_parser(sub: argparse._SubParsersAction) -> None:
    why = sub.add_parser("why", help="why a call went to the agent it went to: every decision and its candidates")
    why.add_argument("call_id", help="the call's id (its Linkedid, as in `hotline records list`)")
    why.add_argument("--site", help="site file")
    why.set_defaults(func=cmd_why)
