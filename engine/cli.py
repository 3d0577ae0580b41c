"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

from engine.config import ConfigError, Site, load_site

DEFAULT_SITE = "hotline.toml"


def _site_path(arg: str | None) -> str:
    return arg or os.environ.get("HOTLINE_SITE") or DEFAULT_SITE


def _load(arg: str | None) -> Site:
    try:
        return load_site(_site_path(arg))
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check(args: argparse.Namespace) -> int:
    try:
        site = load_site(_site_path(args.file))
    except ConfigError as exc:
        for p in exc.problems:
            print(p)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    print(site.summary())
    if site.menu_path() is not None:
        from ivr.menu import MenuError

        try:
            menu = _menu(site)
        except MenuError as exc:
            for p in exc.problems:
                print(p)
            print(f"{len(exc.problems)} problem(s) in the menu", file=sys.stderr)
            return 1
        print(f"{menu.source}: ok: {len(menu.nodes)} node(s), {len(menu.prompts)} prompt(s), "
              f"languages {', '.join(menu.languages)}")  # fmt: skip
    return 0


def _menu(site: Site):  # noqa: ANN202 - ivr.model.Menu, imported lazily
    from ivr.menu import load_menu

    path = site.menu_path()
    assert path is not None
    return load_menu(
        path,
        services=site.service_names(),
        skills=site.skill_names(),
        timezone=site["site"]["timezone"],
        agent_endpoint=site.agent(site["hotline"]["agent"]).endpoint,
    )


def cmd_prompts(args: argparse.Namespace) -> int:
    from ivr.menu import MenuError
    from ivr.places import ivr_places
    from ivr.prompts import PromptError, build_prompts

    site = _load(args.site)
    if site.menu_path() is None:
        print(f"{site.path}: [ivr] menu is not set: nothing to build", file=sys.stderr)
        return 1
    try:
        menu = _menu(site)
    except MenuError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else ivr_places(site).prompt_local
    if out is None:
        print("no output folder: give --out or set [ivr] prompt_local_dir", file=sys.stderr)
        return 1
    studio = Path(menu.studio_dir) if menu.studio_dir else None
    t0 = time.monotonic()
    try:
        built = build_prompts(menu, out, studio, progress=print)
    except PromptError as exc:
        print(f"prompts build: {exc}", file=sys.stderr)
        return 1
    made = sum(1 for b in built if not b.skipped)
    print(
        f"{len(built)} prompt file set(s) in {out} ({made} built, {len(built) - made} unchanged, "
        f"{sum(1 for b in built if b.source == 'studio')} from studio recordings) in {time.monotonic() - t0:.1f} s"
    )
    return 0


def cmd_ivr(args: argparse.Namespace) -> int:
    site = _load(args.site)
    if args.action == "bundle":
        from ivr.bundle import write_bundle

        if not args.dir:
            print("hotline ivr bundle: give the folder to write (DIR)", file=sys.stderr)
            return 2
        dest = Path(args.dir)
        write_bundle(dest)
        print(f"degraded-mode bundle written to {dest} (copy it to <astagidir>/hotline)")
        return 0
    from engine.store.store import Store, migrate
    from ivr.report import format_report, ivr_report

    async def go() -> dict:
        await asyncio.to_thread(migrate, site["store"]["url"])
        store = Store(site["store"]["url"])
        try:
            return ivr_report(await store.facts())
        finally:
            await store.close()

    report = asyncio.run(go())
    print(json.dumps(report, indent=1, ensure_ascii=False) if args.json else format_report(report))
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from engine import lab as labmod

    site = _load(args.site)
    lab = labmod.Lab(Path(args.dir).expanduser() if args.dir else labmod.default_lab_dir())
    try:
        if args.action == "up":
            t0 = time.monotonic()
            labmod.provision(lab)
            t1 = time.monotonic()
            banner = labmod.start(lab, site)
            t2 = time.monotonic()
            if site.menu_path() is not None:
                # the site's menu speaks from the first call: its prompts go into the lab's sound folder
                prompts = argparse.Namespace(site=str(site.path), out=None)
                if cmd_prompts(prompts) != 0:
                    return 1
            print(
                f"lab up: {banner} on {site['asterisk']['ami_host']}:{site['asterisk']['ami_port']} "
                f"(provision {t1 - t0:.1f} s, start {t2 - t1:.1f} s, root {lab.root})"
            )
        elif args.action == "down":
            print("lab down: stopped" if labmod.stop(lab) else "lab down: was not running")
        else:
            st = labmod.status(lab, site)
            if args.json:
                print(json.dumps(st))
            else:
                for k, v in st.items():
                    print(f"{k}: {v}")
            return 0 if st["running"] else 3
    except labmod.LabError as exc:
        print(f"lab {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from composition import run_engine

    site = _load(args.file)
    if site.menu_path() is not None:
        from ivr.menu import MenuError

        try:
            _menu(site)
        except MenuError as exc:
            # refuse to start on a bad menu, naming file and line (a running engine keeps its last good one)
            for p in exc.problems:
                print(p, file=sys.stderr)
            return 2
    try:
        asyncio.run(run_engine(site, duration=args.seconds))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    from engine.app import records_command

    site = _load(args.site)
    return asyncio.run(records_command(site, args.action, args.json))


def cmd_leads(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from dialer import leads

    site = _load(args.site)
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


def cmd_sim_fidelity(args: argparse.Namespace) -> int:
    from sim import fidelity

    site = Path(_site_path(args.site))
    names = args.flow or None
    if args.record:
        counts = asyncio.run(fidelity.record_all(site, names, runs=args.runs))
        for name, n in counts.items():
            print(f"recorded {name}: {n} events per run -> {fidelity.FIXTURES / name}")
        return 0
    scores = asyncio.run(fidelity.score_all(site, names, show_diff=args.diff))
    print(fidelity.table(scores))
    return 0 if fidelity.overall(scores) >= args.min else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from sim.demo import print_report, run_demo

    logging.getLogger("hotline").setLevel(logging.WARNING)  # the live view speaks; logs only for trouble
    report = asyncio.run(
        run_demo(
            hours=args.hours,
            speed=args.speed,
            seed=args.seed,
            start_hour=args.start,
            workdir=Path(args.workdir) if args.workdir else None,
            live=not args.no_live,
            outbound_agents=args.outbound_agents,
        )
    )
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"report written to {args.json}")
    return 0


def cmd_sim_load(args: argparse.Namespace) -> int:
    from sim.load import LoadPlan, main_async

    plan = LoadPlan(calls=args.calls, concurrency=args.concurrency, rate=args.rate, seconds=args.seconds,
                    seed=args.seed, target=args.target)  # fmt: skip
    site = _site_path(args.site)
    logging.getLogger("hotline").setLevel(logging.WARNING)
    return asyncio.run(main_async(site, plan, args.json, args.external_engine, args.workdir))


def cmd_why(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from acd.why import explain_call
    from engine.store.store import Store, migrate

    site = _load(args.site)

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


def cmd_replay(args: argparse.Namespace) -> int:
    from sim.replay import main as replay_main

    logging.getLogger("hotline").setLevel(logging.WARNING)
    args.site = str(_site_path(args.site))
    return replay_main(args)


def cmd_campaign(args: argparse.Namespace) -> int:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from dialer.definitions import CampaignVersions
    from dialer.report import add_definitions, campaign_report
    from engine.store.store import Store, migrate

    site = _load(args.site)

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
        print(f"  rule {r['rule']}; abandon rate US {pct(r['abandon_rate_us'])} (abandoned / live answers), UK "
              f"{pct(r['abandon_rate_uk'])} (AMD false positives estimated at 1 % of machine verdicts); "
              f"connect after the greeting p50 {r['connect_after_greeting_p50']} s, "
              f"max {r['connect_after_greeting_max']} s, {r['late_connects']} later than 2 s")  # fmt: skip
    return 0


def cmd_bench_reaction(args: argparse.Namespace) -> int:
    from sim.bench_reaction import main as bench_main

    if not Path(args.site).is_file():
        print(f"hotline bench reaction: site file {args.site} not found (the lab's site, e.g. --site "
              "examples/lab-site.toml from the repository)", file=sys.stderr)  # fmt: skip
        return 2
    return bench_main(args)


def cmd_bench_day(args: argparse.Namespace) -> int:
    from sim.day import main as bench_main

    return bench_main(args)


def cmd_bench_pace(args: argparse.Namespace) -> int:
    from sim.pacebench.suite import main as bench_main

    return bench_main(args)


def cmd_bench_route(args: argparse.Namespace) -> int:
    from acd.bench import main as bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hotline", description="call-center engine for Asterisk 22")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate a site file; problems as file:line: key: message")
    c.add_argument("file", nargs="?", help=f"site file (default ${{HOTLINE_SITE}} or {DEFAULT_SITE})")
    c.set_defaults(func=cmd_check)

    pr = sub.add_parser("prompts", help="the menu's prompts as 8 kHz files (espeak-ng + sox; studio files win)")
    pr.add_argument("action", choices=["build"])
    pr.add_argument("--site", help="site file naming the menu")
    pr.add_argument("--out", help="output folder (default: [ivr] prompt_local_dir, or the lab's)")
    pr.set_defaults(func=cmd_prompts)

    iv = sub.add_parser("ivr", help="IVR report from the ledger; the degraded-mode AGI bundle")
    iv.add_argument("action", choices=["report", "bundle"])
    iv.add_argument("dir", nargs="?", help="bundle: folder to write")
    iv.add_argument("--site", help="site file")
    iv.add_argument("--json", action="store_true", help="report as JSON")
    iv.set_defaults(func=cmd_ivr)

    lab = sub.add_parser("lab", help="a real Asterisk 22 in a cached Debian-unstable chroot")
    lab.add_argument("action", choices=["up", "down", "status"])
    lab.add_argument("--site", help="site file (agents become PJSIP endpoints)")
    lab.add_argument("--dir", help="cache folder (default $HOTLINE_LAB_DIR or ~/.cache/hotline/lab)")
    lab.add_argument("--json", action="store_true", help="status as JSON")
    lab.set_defaults(func=cmd_lab)

    r = sub.add_parser("run", help="run the engine against a real Asterisk")
    r.add_argument("file", nargs="?", help="site file")
    r.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    r.set_defaults(func=cmd_run)

    rec = sub.add_parser("records", help="call records derived from the ledger")
    rec.add_argument("action", choices=["list", "rebuild"])
    rec.add_argument("--site", help="site file")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=cmd_records)

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

    cp = sub.add_parser("campaign", help="outbound campaigns: the report from the compliance ledger")
    cpsub = cp.add_subparsers(dest="campaign_command", required=True)
    cr = cpsub.add_parser("report", help="dials, outcomes, conversations and both abandon rates per campaign")
    cr.add_argument("campaign", nargs="?", help="only this campaign")
    cr.add_argument("--site", help="site file")
    cr.add_argument("--json", action="store_true")
    cr.set_defaults(func=cmd_campaign)

    d = sub.add_parser("demo", help="the engine with the virtual PBX and simulated callers (no Asterisk needed)")
    d.add_argument("--hours", type=float, default=1.0, help="simulated hours (default 1)")
    d.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    d.add_argument("--seed", type=int, default=1, help="traffic seed: the same seed gives the same callers")
    d.add_argument("--start", type=float, default=9.0, help="simulated start hour, site time (default 9)")
    d.add_argument("--json", help="write the report to this file")
    d.add_argument("--workdir", help="keep the database, recordings and site file here")
    d.add_argument("--no-live", action="store_true", help="progress lines instead of the live view")
    d.add_argument("--outbound-agents", type=int, default=8, help="agents on the outbound campaign (default 8)")
    d.set_defaults(func=cmd_demo)

    rp = sub.add_parser("replay", help="what if: recorded arrivals through the virtual-time PBX with other rules")
    rp.add_argument("--rules", required=True, help="TOML file with the [[services]] (and rule steps) to try")
    rp.add_argument("--from", dest="from_", required=True, help="first day (YYYY-MM-DD, site time) or date-time")
    rp.add_argument("--to", required=True, help="last day (included) or date-time (excluded)")
    rp.add_argument("--site", help="site file (its store holds the recorded calls)")
    rp.add_argument("--seed", type=int, default=1, help="seed for what the ledger cannot know (patience, phones)")
    rp.add_argument("--json", help="write the figures to this file")
    rp.set_defaults(func=cmd_replay)

    why = sub.add_parser("why", help="why a call went to the agent it went to: every decision and its candidates")
    why.add_argument("call_id", help="the call's id (its Linkedid, as in `hotline records list`)")
    why.add_argument("--site", help="site file")
    why.set_defaults(func=cmd_why)

    bench = sub.add_parser("bench", help="benchmarks (not part of the test suite)")
    bsub = bench.add_subparsers(dest="bench_command", required=True)
    br = bsub.add_parser("route", help="routing decisions: indexed router vs naive full scan, same run")
    br.add_argument("--agents", type=int, default=1000)
    br.add_argument("--skills", type=int, default=100)
    br.add_argument("--waiting", type=int, default=500)
    br.add_argument("--decisions", type=int, default=2000)
    br.add_argument("--seed", type=int, default=1)
    br.add_argument("--json", help="write the figures to this file")
    br.set_defaults(func=cmd_bench_route)
    bp = bsub.add_parser("pace", help="PaceBench: pacing policies side by side on seeded worlds (DIALER.md)")
    bp.add_argument("--cells", default="core", help="core, stress, list or all (default core)")
    bp.add_argument("--seeds", default="11-13", help="seed range A-B (default 11-13; 1-10 are for tuning)")
    bp.add_argument("--json", help="write the figures to this file")
    bp.add_argument("--plot", help="write a PNG plot to this file")
    bp.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    bp.add_argument("--tune", action="store_true", help="choose the fixed ratio's level per cell on seeds 1-10")
    bp.set_defaults(func=cmd_bench_pace)

    bd = bsub.add_parser("day", help="a whole site day in virtual time (hotline + outbound campaign), timed")
    bd.add_argument("--hours", type=float, default=8.0, help="simulated hours (default 8)")
    bd.add_argument("--outbound-agents", type=int, default=48, help="agents on the campaign (default 48)")
    bd.add_argument("--seed", type=int, default=1)
    bd.add_argument("--start", type=float, default=9.0, help="simulated start hour, site time (default 9)")
    bd.add_argument("--no-amd", action="store_true", help="dial without answering-machine detection")
    bd.add_argument("--quiet", action="store_true", help="no progress lines")
    bd.add_argument("--json", help="write the figures to this file")
    bd.set_defaults(func=cmd_bench_day)

    bx = bsub.add_parser("reaction", help="agent free -> next caller ringing: this engine vs app_queue (lab, root)")
    bx.add_argument("--site", default="examples/lab-site.toml")
    bx.add_argument("--callers", type=int, default=10, help="callers waiting in each round (default 10)")
    bx.add_argument("--talk", type=float, default=1.0, help="seconds the agent talks per call (default 1)")
    bx.add_argument("--json", help="write the figures to this file")
    bx.set_defaults(func=cmd_bench_reaction)

    sim = sub.add_parser("sim", help="the virtual PBX and simulation tools")
    simsub = sim.add_subparsers(dest="sim_command", required=True)
    fid = simsub.add_parser("fidelity", help="replay the canonical flows through the virtual PBX and score them "
                                              "against transcripts recorded from the real Asterisk")  # fmt: skip
    fid.add_argument("--record", action="store_true", help="re-record the transcripts from the lab Asterisk (root)")
    fid.add_argument("--runs", type=int, default=3, help="real runs recorded per flow (default 3)")
    fid.add_argument("--flow", action="append", help="only this flow (repeatable)")
    fid.add_argument("--diff", action="store_true", help="show where the replay differs")
    fid.add_argument("--min", type=float, default=0.95, help="exit 1 below this overall score (default 0.95)")
    fid.add_argument("--site", help="site file (default examples/lab-site.toml)", default="examples/lab-site.toml")
    fid.set_defaults(func=cmd_sim_fidelity)

    ld = simsub.add_parser("load", help="SIPp callers and agents against a real Asterisk, joined with the engine")
    ld.add_argument("--site", default="examples/lab-site.toml", help="site file (agents with static contacts)")
    ld.add_argument("--calls", type=int, default=50, help="callers to place (default 50)")
    ld.add_argument("--concurrency", type=int, default=20, help="callers on the line at once at most (default 20)")
    ld.add_argument("--rate", type=float, default=4.0, help="new callers per second (default 4)")
    ld.add_argument("--seconds", type=float, default=180.0, help="stop everything after this long (default 180)")
    ld.add_argument("--seed", type=int, default=1)
    ld.add_argument("--target", default="127.0.0.1:5060", help="Asterisk's SIP address (the lab by default)")
    ld.add_argument(
        "--external-engine", action="store_true", help="an engine is already running for this site; only read its store"
    )
    ld.add_argument("--json", help="write the report to this file")
    ld.add_argument("--workdir", help="keep scenarios, injection files and SIPp traces here")
    ld.set_defaults(func=cmd_sim_load)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
