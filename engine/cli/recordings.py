"""`hotline recordings list|show|verify|purge`: the recordings index, checked against the disk, kept by rule."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialer.leads import parse_when
from engine.cli import sitefile
from engine.model.facts import Fact


class StoreLedger:
    """The store as a ledger for a command run without the engine: the facts it writes carry the command's time."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def record(self, facts: list[Fact]) -> None:
        await self.store.append(facts, time.time())

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        await self.record([Fact(kind, time.time(), call_id, uniqueid, key, data)])

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]:  # fmt: skip
        return await self.store.facts(call_id, kinds, since)


def local_dir_of(site: Any) -> Path:
    """The recordings folder as this machine sees it (the lab's, with ``asterisk.lab``)."""
    rec = site["recording"]
    if site["asterisk"]["lab"]:
        from engine.lab import Lab, default_lab_dir

        return Lab(default_lab_dir()).monitor_dir(rec["asterisk_dir"])
    return Path(rec["local_dir"]).expanduser()


def _when(t: float | None, tz: ZoneInfo) -> str:
    return "-" if t is None else dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")


def _line(r: dict[str, Any], tz: ZoneInfo) -> str:
    scope = r["service"] or r["campaign"] or "-"
    state = f"purged {_when(r['purged_at'], tz)} ({r['purge_rule']})" if r["purged_at"] is not None else r["path"]
    return (f"{r['id']}  {r['kind']:<9} {_when(r['started_at'], tz)}  {r['seconds']:7.1f} s  {r['format']:<4} "
            f"{r['bytes']:>9} B  agent={r['agent'] or '-'} {scope}  sha256={r['sha256'][:12]}  {state}")  # fmt: skip


async def _run(args: argparse.Namespace) -> int:
    from engine.store.store import Store, migrate
    from recording.plugin import recordings_of

    site = sitefile.load(args.site)
    tz = ZoneInfo(site["site"]["timezone"])
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        svc = recordings_of(site, StoreLedger(store), store.engine, local_dir_of(site))
        await svc.catch_up()  # a store the engine left mid-way, or one older than the index
        if args.recordings_command == "list":
            since = parse_when(args.since, tz) if args.since else None
            rows = await svc.index.rows(since=since, kind=args.kind or "", agent=args.agent or "",
                                        purged=None if args.all else False)  # fmt: skip
            if args.json:
                print(json.dumps(rows, indent=1))
            else:
                for r in rows:
                    print(_line(r, tz))
                print(f"{len(rows)} recording(s), {sum(r['seconds'] for r in rows) / 60:.1f} min, "
                      f"{sum(r['bytes'] for r in rows) / 1e6:.2f} MB", file=sys.stderr)  # fmt: skip
            return 0
        if args.recordings_command == "show":
            row = await svc.index.get(args.id)
            if row is None:
                rows = await svc.index.rows(call_id=args.id)
                row = rows[0] if rows else None
            if row is None:
                print(f"recordings show: no recording {args.id!r} in the index", file=sys.stderr)
                return 1
            facts = [{"kind": f.kind, "at": f.at, **f.data} for f in await store.facts(row["call_id"])
                     if f.kind.startswith("recording.")]  # fmt: skip
            if args.json:
                print(json.dumps({**row, "facts": facts}, indent=1))
            else:
                for k, v in row.items():
                    print(f"{k:<11} {_when(v, tz) if k in ('started_at', 'purged_at') else v}")
                for f in facts:
                    print(f"{'fact':<11} {_when(f['at'], tz)} {f['kind']}")
            return 0
        if args.recordings_command == "verify":
            check = await svc.verify()
            if args.json:
                print(json.dumps({"checked": check.checked, "problems": check.problems}, indent=1))
            else:
                for p in check.problems:
                    print(f"{p['id'] or '-'}  {p['path']}: {p['problem']}")
                print(f"{check.checked} indexed recording(s) checked, {len(check.problems)} problem(s)")
            return 1 if check.problems else 0
        # purge
        now = parse_when(args.now, tz) if args.now else time.time()
        if args.dry_run:
            todo = [{**r, "purge_rule": why} for r, why in await svc.due(now)]
        else:
            def progress(i: int, n: int) -> None:
                if i == n or i % 100 == 0:
                    print(f"purge: {i}/{n}", file=sys.stderr, flush=True)

            todo = await svc.purge(now, progress)
        if args.json:
            print(json.dumps(todo, indent=1))
        else:
            for r in todo:
                print(f"{'would remove' if args.dry_run else 'removed'} {r['id']} ({r['kind']}, "
                      f"{_when(r['started_at'], tz)}): {r['purge_rule']}")  # fmt: skip
            print(f"{len(todo)} recording(s) {'due' if args.dry_run else 'removed'}")
        return 0
    finally:
        await store.close()


def cmd_recordings(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except ValueError as exc:  # a date that does not parse
        print(f"recordings {args.recordings_command}: {exc}", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("recordings", help="the recordings index: list, show, verify against the disk, purge by rule")
    rsub = rp.add_subparsers(dest="recordings_command", required=True)
    rl = rsub.add_parser("list", help="recordings in the index, oldest first (purged ones with --all)")
    rl.add_argument("--since", help="ISO date or date-time (site time without offset)")
    rl.add_argument("--kind", choices=["inbound", "outbound", "complaint", "voicemail"])
    rl.add_argument("--agent", help="only this agent's")
    rl.add_argument("--all", action="store_true", help="purged recordings too")
    rs = rsub.add_parser("show", help="one recording: its index row and its recording facts")
    rs.add_argument("id", help="recording id (the call id; a message's case name)")
    rv = rsub.add_parser("verify", help="every indexed file present with its size and SHA-256, nothing unindexed; "
                                        "exit 1 on any problem")  # fmt: skip
    rpu = rsub.add_parser("purge", help="remove the recordings the retention rules say are due")
    rpu.add_argument("--now", help="ISO date-time to judge by (default now; without offset: site time)")
    rpu.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    for p in (rl, rs, rv, rpu):
        sitefile.add_site_option(p)
        p.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_recordings)
