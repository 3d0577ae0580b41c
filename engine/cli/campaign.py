"""`hotline campaign report`: outbound campaigns from the compliance ledger."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from engine.cli import sitefile


def cmd_campaign(args: argparse.Namespace) -> int:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from dialer.definitions import CampaignVersions
    from dialer.report import add_definitions, campaign_report
    from engine.store.store import Store, migrate

    site = sitefile.load(args.site)

    async def go() -> dict[str, dict[str, object]]:
        await asyncio.to_thread(migrate, site["store"]["url"])
        store = Store(site["store"]["url"])
        try:
            report = campaign_report(await store.facts())
            return add_definitions(report, await CampaignVersions(store.engine).versions())
        finally:
            await store.close()

    report = asyncio.run(go())
    known = sorted({c.name for c in site.campaigns} | set(report))
    if args.campaign and args.campaign not in known:
        print(f"campaign report: unknown campaign {args.campaign!r} (known: {', '.join(known) or 'none'})",
              file=sys.stderr)  # fmt: skip
        return 2
    names = [args.campaign] if args.campaign else known
    out = {n: report.get(n, {}) for n in names}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0

    def pct(x: object) -> str:
        return "-" if x is None else f"{float(x):.2%}"  # type: ignore[arg-type]

    zone = ZoneInfo(site["site"]["timezone"])
    for name, r in out.items():
        # the definition version(s) the figures were produced under, each in force until the next one
        for v in r.get("definitions", []):  # type: ignore[attr-defined]
            since = dt.datetime.fromtimestamp(float(v["first_seen"]), zone).strftime("%Y-%m-%d %H:%M:%S")
            print(f"{name}: definition {v['hash'][:12]} in force from {since}")
        if "dials" not in r:
            print(f"{name}: no dials yet")
            continue
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))  # type: ignore[union-attr]
        print(f"{name}: {r['dials']} dials ({outcomes}); {r['machines']} machines; {r['connected']} conversations, "
              f"{r['abandoned']} abandoned of {r['live']} live answers")  # fmt: skip
        print(f"  rule {r['rule']}; abandon rate US {pct(r['abandon_rate_us'])} (abandoned / live answers; last 30 "
              f"days {pct(r['abandon_rate_us_30d'])}), UK {pct(r['abandon_rate_uk'])} (AMD false positives "
              f"estimated at {float(r['fp_share']):.1%} of machine verdicts from {r['qa_labels']} QA label(s); last "
              f"24 h {pct(r['abandon_rate_uk_24h'])}); connect after the greeting p50 "
              f"{r['connect_after_greeting_p50']} s, max {r['connect_after_greeting_max']} s, "
              f"{r['late_connects']} later than the rule's window")  # fmt: skip
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    cp = sub.add_parser("campaign", help="outbound campaigns: the report from the compliance ledger")
    cpsub = cp.add_subparsers(dest="campaign_command", required=True)
    cr = cpsub.add_parser("report", help="dials, outcomes, conversations and both abandon rates per campaign")
    cr.add_argument("campaign", nargs="?", help="only this campaign")
    cr.add_argument("--site", help="site file")
    cr.add_argument("--json", action="store_true")
    cr.set_defaults(func=cmd_campaign)
