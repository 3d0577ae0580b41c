"""`hotline bench`: benchmarks (not part of the test suite)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import sitefile


def cmd_bench_reaction(args: argparse.Namespace) -> int:
    from sim.bench_reaction import main as bench_main

    args.site = sitefile.site_path(args.site)
    if not Path(args.site).is_file():
        print(f"hotline bench reaction: site file {args.site} not found (the lab's site, e.g. --site "
              "examples/lab-site.toml from the repository)", file=sys.stderr)  # fmt: skip
        return 2
    return bench_main(args)


def cmd_bench_day(args: argparse.Namespace) -> int:
    from sim.day import main as bench_main

    return bench_main(args)


def cmd_bench_site(args: argparse.Namespace) -> int:
    import asyncio

    from sim.bench_site import SitePlan, main_async

    if args.agents < 1 or args.agents > 400 or args.minutes <= 0 or args.inbound_rate < 0 or args.drain < 0:
        sitefile.fail("hotline bench site: --agents 1 to 400, --minutes above 0, --inbound-rate and --drain 0 or more")
    plan = SitePlan(agents=args.agents, minutes=args.minutes, inbound_rate=args.inbound_rate, seed=args.seed,
                    drain=args.drain, hotline_talk=args.hotline_talk)  # fmt: skip
    return asyncio.run(main_async(plan, args.json, args.workdir))


def cmd_bench_pace(args: argparse.Namespace) -> int:
    from sim.pacebench.suite import main as bench_main

    return bench_main(args)


def cmd_bench_frontier(args: argparse.Namespace) -> int:
    from sim.pacebench.frontier import main as frontier_main

    return frontier_main(args)


def cmd_bench_bounds(args: argparse.Namespace) -> int:
    from sim.pacebench.told import main as bounds_main

    return bounds_main(args)


def cmd_bench_route(args: argparse.Namespace) -> int:
    from acd.bench import main as bench_main

    return bench_main(args)


def cmd_bench_events(args: argparse.Namespace) -> int:
    from sim.bench_events import main as bench_main

    return bench_main(args)


def cmd_bench_wallboard(args: argparse.Namespace) -> int:
    from sim.bench_wallboard import main as bench_main

    if args.clients < 0 or args.hours <= 0 or args.speed <= 0 or args.linger < 0:
        sitefile.fail("hotline bench wallboard: --clients and --linger must be 0 or more, --hours and --speed above 0")
    return bench_main(args)


def cmd_bench_recordings(args: argparse.Namespace) -> int:
    from sim.bench_recordings import main as bench_main

    if args.minutes <= 0 or any(b < 6 for b in args.bitrates):
        sitefile.fail("hotline bench recordings: --minutes above 0, --bitrates 6 kbit/s or more")
    if any(not 0 <= c <= 10 for c in args.complexities):
        sitefile.fail("hotline bench recordings: --complexities 0 to 10")
    return bench_main(args)


def cmd_bench_report(args: argparse.Namespace) -> int:
    from sim.bench_report import main as bench_main

    if args.no_sqlite and args.no_postgres:
        sitefile.fail("hotline bench report: --no-sqlite and --no-postgres leave nothing to measure")
    if args.calls < 1000 or not 1 <= args.days <= 365 or min(args.reps, args.ledger_reps, args.year_ledger_reps) < 1:
        sitefile.fail("hotline bench report: --calls 1000 or more, --days 1 to 365, --reps, --ledger-reps and "
                      "--year-ledger-reps 1 or more")  # fmt: skip
    return bench_main(args)


def add_parser(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="benchmarks (not part of the test suite)")
    bsub = bench.add_subparsers(dest="bench_command", required=True)
    br = bsub.add_parser("route", help="routing decisions: indexed router vs naive full scan, same run")
    br.add_argument("--agents", type=int, default=1000)
    br.add_argument("--skills", type=int, default=100)
    br.add_argument("--waiting", type=int, default=500)
    br.add_argument("--decisions", type=int, default=2000)
    br.add_argument("--seed", type=int, default=1)
    br.add_argument(
        "--free",
        type=int,
        default=1,
        help="agents free at a time: with more than one, each decision ranks them by the strategy",
    )
    br.add_argument("--json", help="write the figures to this file")
    br.set_defaults(func=cmd_bench_route)
    bp = bsub.add_parser("pace", help="PaceBench: pacing policies side by side on seeded worlds (docs/pacebench.md)")
    bp.add_argument("--cells", default="core", help="core, stress, list or all (default core)")
    bp.add_argument("--seeds", default="11-13", help="seed range A-B (default 11-13; 1-10 are for tuning)")
    bp.add_argument("--json", help="write the figures to this file")
    bp.add_argument("--plot", help="write a PNG plot to this file")
    bp.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    bp.add_argument("--tune", action="store_true", help="choose the fixed ratio's level per cell on seeds 1-10")
    bp.set_defaults(func=cmd_bench_pace)
    bf = bsub.add_parser("frontier", help="the forecasting pacer at several abandon targets: R against abandons")
    bf.add_argument("--cells", default="N48-p30,N16-p30,N8-p30", help="cells, as for pace (default the p0 0.30 three)")
    bf.add_argument("--seeds", default="1-10", help="seed range A-B (default 1-10, the tuning seeds)")
    bf.add_argument("--targets", default="0.03,0.035,0.04,0.045", help="abandon targets (default %(default)s)")
    bf.add_argument("--json", help="write the figures to this file")
    bf.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    bf.set_defaults(func=cmd_bench_frontier)
    bb = bsub.add_parser("bounds", help="the pacer beside copies told what no engine knows: R better forecasts buy")
    bb.add_argument("--cells", default="N48-p30,N16-p30,N8-p30", help="cells, as for pace (default the p0 0.30 three)")
    bb.add_argument("--seeds", default="1-10", help="seed range A-B (default 1-10, the tuning seeds)")
    bb.add_argument("--told", default="agents,answers,agents+answers,fates,agents+fates",
                    help="truths to tell, + joins (default %(default)s)")
    bb.add_argument("--json", help="write the figures to this file")
    bb.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    bb.set_defaults(func=cmd_bench_bounds)

    bd = bsub.add_parser("day", help="a whole site day in virtual time (hotline + outbound campaign), timed")
    bd.add_argument("--hours", type=float, default=8.0, help="simulated hours (default 8)")
    bd.add_argument("--outbound-agents", type=int, default=48, help="agents on the campaign (default 48)")
    bd.add_argument("--seed", type=int, default=1)
    bd.add_argument("--start", type=float, default=9.0, help="simulated start hour, site time (default 9)")
    bd.add_argument("--no-amd", action="store_true", help="dial without answering-machine detection")
    bd.add_argument("--no-dispositions", action="store_true",
                    help="outbound agents give no dispositions (by default each conversation gets one as its "
                         "wrap-up ends: answering machine or no sale)")  # fmt: skip
    bd.add_argument("--quiet", action="store_true", help="no progress lines")
    bd.add_argument("--json", help="write the figures to this file")
    bd.set_defaults(func=cmd_bench_day)

    be = bsub.add_parser("events", help="AMI path: decoder, call model, ledger, bus vs panoramisk's parse, same run")
    be.add_argument(
        "--events",
        type=int,
        default=50_000,
        help="at least this many AMI events (the recorded transcripts repeated; default 50000)",
    )
    be.add_argument("--rounds", type=int, default=3, help="rounds of both paths in alternation (default 3)")
    be.add_argument("--chunk", type=int, default=65536, help="bytes per read (default 65536)")
    be.add_argument("--json", help="write the figures to this file")
    be.set_defaults(func=cmd_bench_events)

    bw = bsub.add_parser("wallboard", help="N wallboard streams on the demo engine vs none: event lag and memory, "
                                           "same run")  # fmt: skip
    bw.add_argument("--clients", type=int, default=50, help="wallboard event streams in the second run (default 50)")
    bw.add_argument("--hours", type=float, default=1.0, help="simulated hours of each demo (default 1)")
    bw.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    bw.add_argument("--seed", type=int, default=1, help="traffic seed, the same in both runs (default 1)")
    bw.add_argument("--linger", type=float, default=2.0, help="real seconds each demo serves after its day (default 2)")
    bw.add_argument("--workdir", help="keep both demos' folders (store, logs, report) here")
    bw.add_argument("--json", help="write the figures to this file")
    bw.set_defaults(func=cmd_bench_wallboard)

    bc = bsub.add_parser(
        "recordings", help="a stored minute of a call: the recorder's Opus vs stereo Opus vs WAV, same run"
    )
    bc.add_argument("--minutes", type=float, default=3.0, help="minutes of conversation per source (default 3)")
    bc.add_argument(
        "--bitrates",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[12.0, 16.0, 20.0, 24.0],
        help="Opus bit-rates to try, kbit/s, comma-separated (default 12,16,20,24)",
    )
    bc.add_argument(
        "--complexities",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[10, 5, 0],
        help="the recorder's Opus encoder complexities to try at 16 kbit/s, comma-separated (default 10,5,0; "
        "the others at [recording] complexity's default, 5)",
    )
    bc.add_argument("--json", default="bench-recordings.json", help="write the figures here (default %(default)s)")
    bc.set_defaults(func=cmd_bench_recordings)

    bt = bsub.add_parser("report", help="every report over a month and a year of a synthetic site: from the rollups "
                                        "vs straight from the ledger, SQLite and PostgreSQL, same run")  # fmt: skip
    bt.add_argument("--calls", type=int, default=1_300_000, help="the year's calls, hotline and outbound (default "
                                                                 "1300000)")  # fmt: skip
    bt.add_argument("--days", type=int, default=365, help="days of the synthetic year, from 2025-01-01 (default 365)")
    bt.add_argument("--seed", type=int, default=1)
    bt.add_argument("--reps", type=int, default=10, help="times each report is read from the rollups (default 10)")
    bt.add_argument(
        "--ledger-reps",
        type=int,
        default=3,
        help="times each month's report is counted straight from the ledger (default 3)",
    )
    bt.add_argument(
        "--year-ledger-reps",
        type=int,
        default=1,
        help="times each year's report is counted straight from the ledger (default 1)",
    )
    bt.add_argument("--pg-url", help="an empty PostgreSQL database to use (default: a private PostgreSQL 15)")
    bt.add_argument("--no-postgres", action="store_true", help="SQLite only")
    bt.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    bt.add_argument("--workdir", help="keep the SQLite file and site files here")
    bt.add_argument("--json", help="write the figures to this file")
    bt.set_defaults(func=cmd_bench_report)

    bs = bsub.add_parser("site", help="the whole site on the lab Asterisk (campaign, far ends, hotline), measured "
                         "beside the virtual day's prediction (lab, root)")  # fmt: skip
    bs.add_argument("--agents", type=int, default=48, help="the campaign's seats (default 48)")
    bs.add_argument("--minutes", type=float, default=10.0, help="the dialing window (default 10)")
    bs.add_argument("--inbound-rate", type=float, default=2.0, help="hotline callers a minute (default 2)")
    bs.add_argument("--seed", type=int, default=1, help="the leads' and callers' seed (default 1)")
    bs.add_argument(
        "--drain",
        type=float,
        default=300.0,
        help="seconds for conversations still up after the window, then hung up (default 300)",
    )
    bs.add_argument("--hotline-talk", type=float, default=45.0, help="seconds a hotline agent talks (default 45)")
    bs.add_argument("--workdir", help="keep the run's files here (site, SIPp logs, database); default a temporary one")
    bs.add_argument("--json", help="write the figures to this file")
    bs.set_defaults(func=cmd_bench_site)

    bx = bsub.add_parser("reaction", help="agent free -> next caller ringing: this engine vs app_queue (lab, root)")
    sitefile.add_site_option(bx, "the lab's site file, e.g. examples/lab-site.toml")
    bx.add_argument("--callers", type=int, default=10, help="callers waiting in each round (default 10)")
    bx.add_argument("--talk", type=float, default=1.0, help="seconds the agent talks per call (default 1)")
    bx.add_argument("--json", help="write the figures to this file")
    bx.set_defaults(func=cmd_bench_reaction)
