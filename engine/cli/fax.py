"""`hotline fax send|list|show`: a PDF queued for the site's fax lines, and the faxes sent and received.

`send` renders the PDF to a fax TIFF (fine resolution, A4) beside the engine's fax folder and writes the job to
the store; the running engine's fax lines dial it, in order, and dial again by the site's rule. With `--wait` it
follows the job until it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.cli import sitefile

FOLLOW_EVERY = 1.0


def _when(t: float | None, tz: ZoneInfo) -> str:
    return "-" if t is None else dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")


@asynccontextmanager
async def _opened(site: Any) -> AsyncIterator[Any]:
    """The site's store, migrated, for one command."""
    from engine.store.store import Store, migrate

    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        yield store
    finally:
        await store.close()


async def _rows(store: Any, since: float | None, fax_id: str | None = None) -> list[Any]:
    from fax.facts import KINDS
    from fax.report import fold

    facts = await store.facts(fax_id, KINDS, since)
    return sorted(fold(facts).values(), key=lambda r: r.at)


async def _send(args: argparse.Namespace, site: Any) -> int:
    from engine.cli.recordings import StoreLedger
    from engine.privacy import mask_number
    from fax.images import ImageError
    from fax.plugin import settings_of
    from fax.queue import number_problem, queue_pdf

    if problem := number_problem(args.number):
        return sitefile.fail(f"fax send: {problem}")
    pdf = Path(args.file)
    if not pdf.is_file():
        return sitefile.fail(f"fax send: {pdf}: no such file")
    if not site["fax"]["numbers"]:
        return sitefile.fail(f"fax send: {site.path}: fax.numbers is empty: the site has no fax line")
    async with _opened(site) as store:
        if args.case and not await _case_exists(store, args.case):
            return sitefile.fail(f"fax send: no case {args.case!r} in the store")
        try:
            job, pages = await queue_pdf(settings_of(site), StoreLedger(store), pdf, str(pdf), args.number,
                                         case=args.case or "", by="cli")  # fmt: skip
        except ImageError as exc:
            return sitefile.fail(f"fax send: {exc}")
        print(f"fax {job} queued: {pages} page(s) to {mask_number(args.number)}")
        if args.wait <= 0:
            return 0
        return await _follow(store, job, args.wait)


async def _case_exists(store: Any, case_id: str) -> bool:
    from sqlalchemy import select

    from engine.store.tables import cases

    async with store.engine.connect() as conn:
        return (await conn.execute(select(cases.c.id).where(cases.c.id == case_id))).first() is not None


async def _follow(store: Any, job: str, wait: float) -> int:
    """Print each change of the job until it ends (exit 0 when sent, 1 when not) or ``wait`` seconds pass (3)."""
    deadline = time.monotonic() + wait
    said = ""
    while time.monotonic() < deadline:
        rows = await _rows(store, None, job)
        if rows:
            r = rows[0]
            now = r.status + (f" (dial {r.attempts})" if r.attempts else "") + (f": {r.reason}" if r.reason else "")
            if now != said:
                print(f"fax {job}: {now}", flush=True)
                said = now
            if r.ended_at is not None:
                return 0 if r.status == "sent" else 1
        await asyncio.sleep(FOLLOW_EVERY)
    print(f"fax {job}: still {said or 'queued'} after {wait:g} s (is the engine running?)", file=sys.stderr)
    return 3


async def _list(args: argparse.Namespace, site: Any) -> int:
    from engine.privacy import mask_number
    from fax.report import summary

    async with _opened(site) as store:
        rows = await _rows(store, time.time() - args.days * 86400 if args.days else None)
    if args.json:
        print(json.dumps({"faxes": [_public(r) for r in rows], "summary": summary(rows)}, indent=1))
        return 0
    tz = ZoneInfo(site["site"]["timezone"])
    print(f"{'id':<22} {'way':<3} {'at':<19} {'number':<14} {'status':<10} {'pages':>5} {'dials':>5}  reason")
    for r in rows:
        print(f"{r.id:<22} {r.way:<3} {_when(r.at, tz):<19} {mask_number(r.number):<14} {r.status:<10} "
              f"{r.pages:>5} {r.attempts:>5}  {r.reason}")  # fmt: skip
    print("  ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary(rows).items()))
    return 0


def _public(r: Any) -> dict[str, Any]:
    from engine.privacy import mask_number

    d = r.as_dict()
    d["number"] = mask_number(r.number)
    d.pop("history")
    return d


async def _show(args: argparse.Namespace, site: Any) -> int:

    async with _opened(site) as store:
        rows = await _rows(store, None, args.id)
    if not rows:
        print(f"fax show: no fax {args.id!r}", file=sys.stderr)
        return 1
    r = rows[0]
    if args.json:
        print(json.dumps(r.as_dict(), indent=1))
        return 0
    tz = ZoneInfo(site["site"]["timezone"])
    print(f"fax {r.id} ({'sent' if r.way == 'out' else 'received'} way), {r.status}")
    for label, value in (("number", r.number), ("at", _when(r.at, tz)), ("ended", _when(r.ended_at, tz)),
                         ("pages", r.pages), ("station", r.station or "-"), ("dials", r.attempts),
                         ("waited for a line", f"{r.waited:g} s" if r.waited is not None else "-"),
                         ("reason", r.reason or "-"), ("case", r.case or "-"), ("pdf", r.pdf or "-")):  # fmt: skip
        print(f"  {label:<18} {value}")
    for h in r.history:
        print(f"  {_when(h['at'], tz)}  dial {h.get('attempt')}: {h.get('event')}"
              + (f" ({h['reason']})" if h.get("reason") else ""))  # fmt: skip
    return 0


def cmd_fax(args: argparse.Namespace) -> int:
    site = sitefile.load(args.site)
    run = {"send": _send, "list": _list, "show": _show}[args.fax_command]
    return asyncio.run(run(args, site))


def add_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("fax", help="send a PDF by fax; list and show the faxes sent and received")
    fsub = f.add_subparsers(dest="fax_command", required=True)
    se = fsub.add_parser("send", help="queue a PDF for the fax lines (the running engine dials it)")
    se.add_argument("number", help="the far end's fax number")
    se.add_argument("file", help="the PDF to send")
    se.add_argument("--case", help="the case the fax belongs to")
    se.add_argument("--wait", type=float, default=0, help="follow the job up to this many seconds [0: do not]")
    ls = fsub.add_parser("list", help="faxes sent and received, with a summary")
    ls.add_argument("--days", type=float, default=0, help="only the last N days [all]")
    ls.add_argument("--json", action="store_true")
    sh = fsub.add_parser("show", help="one fax: its pages, station, dials and result")
    sh.add_argument("id", help="a fax's id (fx… for one sent, the call's id for one received)")
    sh.add_argument("--json", action="store_true")
    for x in (se, ls, sh):
        sitefile.add_site_option(x)
    f.set_defaults(func=cmd_fax)
