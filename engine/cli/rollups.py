"""`hotline report rebuild|status`: the reports' rollups counted again from the ledger, or how far they are
(reports/rollups.py; README "Reports")."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
from typing import Any

from engine.cli import sitefile

COMMANDS = ("rebuild", "status")
REPORT_OPTIONS = ("from_", "to", "team", "agent", "service", "interval", "csv", "xlsx", "plot")


async def source(site: Any, store: Any, q: Any) -> Any:
    """A report's rows from the rollups, brought up to date first (what the engine has not counted yet; all of it
    the first time)."""
    from reports.plugin import query_of, rollups_of
    from reports.rollups import Moved, ZoneChanged
    from reports.services import DEFAULT_INTERVAL

    rollups = rollups_of(site, store.engine)
    try:
        if (await rollups.status()).ledger_id == 0:
            await rollups.rebuild()
        else:
            await rollups.refresh()
    except Moved:
        pass  # the engine counted them meanwhile
    except ZoneChanged as exc:
        sitefile.fail(f"hotline report {q.name}: {exc}")
    return query_of(site, store.engine).source(q.name, q.interval or DEFAULT_INTERVAL[q.name])


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from engine.store.store import Store, migrate
    from reports.plugin import rollups_of

    site = sitefile.load(args.site)
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        rollups = rollups_of(site, store.engine)
        if args.name == "rebuild":
            rows = await rollups.rebuild(progress=lambda line: print(line, file=sys.stderr, flush=True))
        st = await rollups.status()
    finally:
        await store.close()
    out: dict[str, Any] = dataclasses.asdict(st)
    tz = ZoneInfo(site["site"]["timezone"])
    until = dt.datetime.fromtimestamp(st.horizon, tz) if st.horizon else None
    out["counted_until"] = until.isoformat(timespec="seconds") if until else None
    out["facts_behind"] = st.newest_fact - st.ledger_id
    if args.name == "rebuild":
        out["rebuilt_rows"] = rows
    return out


def cmd_rollups(args: argparse.Namespace) -> int:
    given = [o for o in REPORT_OPTIONS if getattr(args, o, None) is not None]
    if given:
        sitefile.fail(f"hotline report {args.name}: --{given[0].rstrip('_')} is a report's option, not the rollups'")
    out = asyncio.run(_run(args))
    if args.name == "rebuild":
        print(f"rollups rebuilt from the ledger: {out['rows']} quarter-hour rows, {out['days']} day rows, facts up to "
              f"#{out['ledger_id']}, counted until {out['counted_until']}")  # fmt: skip
    else:
        print(f"rollups: {out['rows']} quarter-hour rows, {out['days']} day rows; facts counted up to "
              f"#{out['ledger_id']} of #{out['newest_fact']} ({out['facts_behind']} behind), counted until "
              f"{out['counted_until']}, days in {out['timezone'] or '(none yet)'}")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0
