"""`hotline cases list|show|assign|resolve|close|reopen|rebuild`: complaints, follow-ups and low survey scores, from the
command line. Numbers are masked unless ``--numbers`` is given (the person at the console calls back)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

from cases.calendar import due_label
from engine.cli import sitefile
from engine.cli.recordings import StoreLedger
from engine.privacy import mask_number

WHEN = ("opened_at", "due_at", "resolved_at", "closed_at", "overdue_at", "purged_at", "updated_at")


def _when(t: float | None, tz: ZoneInfo) -> str:
    return "-" if t is None else dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")


def _shown(row: dict[str, Any], numbers: bool) -> dict[str, Any]:
    return {**row, "number": row["number"] if numbers else mask_number(row["number"])}


def _line(r: dict[str, Any], tz: ZoneInfo, now: float) -> str:
    late = "  OVERDUE" if r["status"] in ("open", "in_progress") and now > r["due_at"] else ""
    return (f"{r['id']}  {r['kind']:<10} {r['status']:<11} {_when(r['opened_at'], tz)}  "
            f"due {due_label(r['due_at'], tz)}  "
            f"{r['source']:<17} owner={r['owner'] or '-'} team={r['team'] or '-'} {r['number'] or '-'}{late}")


async def _run(args: argparse.Namespace) -> int:
    from cases.model import BadMove
    from cases.plugin import cases_of
    from engine.store.store import Store, migrate

    site = sitefile.load(args.site)
    tz = ZoneInfo(site["site"]["timezone"])
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    now = time.time()
    try:
        svc = cases_of(site, StoreLedger(store), store.engine)
        cmd = args.cases_command
        if cmd == "list":
            rows = [_shown(r, args.numbers) for r in await svc.store.rows(status=args.status or "",
                                                                        kind=args.kind or "", owner=args.owner or "")]
            if args.json:
                print(json.dumps(rows, indent=1))
            else:
                for r in rows:
                    print(_line(r, tz, now))
                print(f"{len(rows)} case(s)", file=sys.stderr)
            return 0
        if cmd == "rebuild":
            n = await svc.rebuild()
            print(json.dumps({"cases": n}) if args.json else f"{n} case(s) rebuilt from the ledger")
            return 0
        try:
            if cmd == "show":
                row = await svc.store.get(args.id)
                if row is None:
                    raise KeyError(args.id)
            elif cmd == "assign":
                row = (await svc.assign(args.id, args.agent, args.by, now)).as_row()
            elif cmd in ("close", "reopen"):
                was = await svc.store.get(args.id)
                to = "closed" if cmd == "close" else "open" if was and was["status"] == "closed" else "in_progress"
                row = (await svc.move(args.id, to, args.by, now, args.why)).as_row()
            else:
                row = (await svc.resolve(args.id, args.resolution, args.by, now, close=args.close)).as_row()
        except KeyError:
            sitefile.fail(f"cases {cmd}: no case {args.id!r} (hotline cases list shows them)")
        except (BadMove, ValueError) as exc:
            sitefile.fail(f"cases {cmd}: {exc}")
        facts = [{"fact": f.kind, "at": f.at, **{k: v for k, v in f.data.items() if k not in ("case", "number")}}
                 for f in await store.facts(args.id)]  # fmt: skip
        row = _shown(row, args.numbers)
        if args.json:
            print(json.dumps({**row, "facts": facts}, indent=1))
        else:
            for k, v in row.items():
                print(f"{k:<11} {_when(v, tz) if k in WHEN else v}")
            for f in facts:
                print(f"{'fact':<11} {_when(f['at'], tz)} {f['fact']}")
        return 0
    finally:
        await store.close()


def cmd_cases(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def add_parser(sub: argparse._SubParsersAction) -> None:
    cp = sub.add_parser("cases", help="complaints, follow-ups and low survey cases: list, show, assign, resolve")
    csub = cp.add_subparsers(dest="cases_command", required=True)
    cl = csub.add_parser("list", help="cases, oldest first")
    cl.add_argument("--status", choices=["open", "in_progress", "resolved", "closed"])
    cl.add_argument("--kind", choices=["complaint", "follow_up", "low_survey"])
    cl.add_argument("--owner", help="only this agent's")
    cs = csub.add_parser("show", help="one case: its row and its facts")
    cs.add_argument("id")
    ca = csub.add_parser("assign", help="give a case to an agent (an open case becomes in_progress)")
    ca.add_argument("id")
    ca.add_argument("agent", help="agent id from the site file")
    cr = csub.add_parser("resolve", help="resolve a case with what was done")
    cr.add_argument("id")
    cr.add_argument("resolution", help="what was done, in words")
    cr.add_argument("--close", action="store_true", help="close it as well")
    cc = csub.add_parser("close", help="close a resolved case")
    co = csub.add_parser("reopen", help="reopen a case: a resolved one goes back to in_progress, a closed one to open")
    for p in (cc, co):
        p.add_argument("id")
        p.add_argument("--why", default="", help="why, in words (recorded in the fact)")
    cb = csub.add_parser("rebuild", help="the cases table again from the ledger's case facts")
    for p in (ca, cr, cc, co):
        p.add_argument("--by", default="cli", help="who did it (recorded in the fact; default cli)")
    for p in (cl, cs, ca, cr, cc, co, cb):
        sitefile.add_site_option(p)
        p.add_argument("--json", action="store_true")
    for p in (cl, cs, ca, cr, cc, co):
        p.add_argument("--numbers", action="store_true", help="customers' numbers in full (default: masked)")
    cp.set_defaults(func=cmd_cases)
