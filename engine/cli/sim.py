"""`hotline demo`, `hotline replay` and `hotline sim`: the virtual PBX and the simulation tools."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli import sitefile
from engine.mqtt.settings import url_problem

if TYPE_CHECKING:
    from sim.load import LoadPlan


def cmd_sim_fidelity(args: argparse.Namespace) -> int:
    from sim import fidelity

    site = sitefile.load(args.site).path  # a missing or invalid file is named here, exit 2
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

    if args.speed <= 0:
        sitefile.fail(f"hotline demo: --speed must be above 0 simulated seconds per real second (got {args.speed:g})")
    if args.mqtt and (why := url_problem(args.mqtt)):
        sitefile.fail(f"hotline demo: --mqtt {why}")
    if args.store:
        from engine.store.url import problem

        if (why := problem(args.store, Path.cwd())) is not None:
            sitefile.fail(f"hotline demo: --store {why}")
    if args.http:
        from engine.config_fields import split_listen

        try:
            split_listen(args.http)
        except ValueError as exc:
            sitefile.fail(f"hotline demo: --http {args.http}: {exc}")
    logging.getLogger("hotline").setLevel(logging.WARNING)  # the live view speaks; logs only for trouble
    from engine.web.server import HttpListenError

    try:
        report = asyncio.run(
            run_demo(
                hours=args.hours,
                speed=args.speed,
                seed=args.seed,
                start_hour=args.start,
                workdir=Path(args.workdir) if args.workdir else None,
                live=not args.no_live,
                outbound_agents=args.outbound_agents,
                mqtt=args.mqtt or "",
                http=args.http,
                linger=args.linger,
                actors=not args.no_actors,
                store=args.store or "",
            )
        )
    except HttpListenError as exc:
        sitefile.fail(f"hotline demo: --http: cannot listen on {exc.address}: {exc.reason}")
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"report written to {args.json}")
    return 0


def load_plan(args: argparse.Namespace) -> LoadPlan:
    from sim.load import AgentClass, CallerClass, LoadPlan

    if args.talk <= 0 or (args.patience is not None and args.patience <= 0):
        sitefile.fail("hotline sim load: --talk and --patience must be above 0 seconds")
    plan = LoadPlan(calls=args.calls, concurrency=args.concurrency, rate=args.rate, seconds=args.seconds,
                    seed=args.seed, target=args.target)  # fmt: skip
    plan.default_agent = AgentClass("quick", plan.default_agent.answer, args.talk)
    if args.patience is not None:  # one class of callers, all as patient
        plan.callers = [CallerClass("patient", 1.0, args.patience)]
    return plan


def cmd_sim_load(args: argparse.Namespace) -> int:
    from sim.load import LoadRefused, main_async
    from sim.ports import PortError

    plan = load_plan(args)
    site = str(sitefile.load(args.site).path)  # a missing or invalid file is named here, exit 2
    logging.getLogger("hotline").setLevel(logging.WARNING)
    try:
        return asyncio.run(main_async(site, plan, args.json, args.external_engine, args.workdir))
    except (PortError, LoadRefused) as exc:
        sitefile.fail(f"hotline sim load: {exc}")


def cmd_sim_chaos(args: argparse.Namespace) -> int:
    from sim.chaos import FAULTS, ChaosPlan, main_async

    kinds = tuple(k.strip() for k in args.faults.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULTS]
    if not kinds or unknown:
        sitefile.fail(f"hotline sim chaos: --faults {args.faults}: use some of {','.join(FAULTS)}")
    if args.calls < 1 or args.every <= 0 or args.rate <= 0:
        sitefile.fail("hotline sim chaos: --calls, --every and --rate must be above 0")
    plan = ChaosPlan(calls=args.calls, faults=kinds, every=args.every, seed=args.seed, rate=args.rate,
                     restart_after=args.restart_after)  # fmt: skip
    site = str(sitefile.load(args.site).path)  # a missing or invalid file is named here, exit 2
    logging.getLogger("hotline").setLevel(logging.WARNING)
    return asyncio.run(main_async(plan, site, args.json, args.workdir))


def cmd_replay(args: argparse.Namespace) -> int:
    from sim.replay import main as replay_main

    logging.getLogger("hotline").setLevel(logging.WARNING)
    args.site = str(sitefile.site_path(args.site))
    return replay_main(args)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("demo", help="the engine with the virtual PBX and simulated callers (no Asterisk needed)")
    d.add_argument("--hours", type=float, default=1.0, help="simulated hours (default 1)")
    d.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    d.add_argument("--seed", type=int, default=1, help="traffic seed: the same seed gives the same callers")
    d.add_argument("--start", type=float, default=9.0, help="simulated start hour, site time (default 9)")
    d.add_argument("--json", help="write the report to this file")
    d.add_argument("--workdir", help="keep the database, recordings and site file here")
    d.add_argument("--no-live", action="store_true", help="progress lines instead of the live view")
    d.add_argument("--outbound-agents", type=int, default=8, help="agents on the outbound campaign (default 8)")
    d.add_argument("--mqtt", metavar="URL", help="publish the site's live state to this broker (mqtt://host:port), "
                                                 "under hotline/demo/")  # fmt: skip
    d.add_argument("--http", default="", metavar="HOST:PORT",
                   help="serve the engine's /metrics and web console here, with one user per role "
                        "(default none)")  # fmt: skip
    d.add_argument("--linger", type=float, default=0.0, metavar="S",
                   help="with --http, keep serving S real seconds after the last call (a last scrape)")  # fmt: skip
    d.add_argument("--no-actors", action="store_true",
                   help="with --http, the demo's agent and team lead do not act through the console")  # fmt: skip
    d.add_argument("--store", metavar="URL", help="an empty store to keep the day in, e.g. "
                   "postgresql+asyncpg://user@host/db (default: a SQLite file in the work folder)")  # fmt: skip
    d.set_defaults(func=cmd_demo)


def add_replay_parser(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("replay", help="what if: recorded arrivals through the virtual-time PBX with other rules")
    rp.add_argument("--rules", required=True, help="TOML file with the [[services]] (and rule steps) to try")
    rp.add_argument("--from", dest="from_", required=True, help="first day (YYYY-MM-DD, site time) or date-time")
    rp.add_argument("--to", required=True, help="last day (included) or date-time (excluded)")
    rp.add_argument("--site", help="site file (its store holds the recorded calls)")
    rp.add_argument("--seed", type=int, default=1, help="seed for what the ledger cannot know (patience, phones)")
    rp.add_argument("--json", help="write the figures to this file")
    rp.set_defaults(func=cmd_replay)


def add_sim_parser(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("sim", help="the virtual PBX and simulation tools")
    simsub = sim.add_subparsers(dest="sim_command", required=True)
    fid = simsub.add_parser("fidelity", help="replay the canonical flows through the virtual PBX and score them "
                                              "against transcripts recorded from the real Asterisk")  # fmt: skip
    fid.add_argument("--record", action="store_true", help="re-record the transcripts from the lab Asterisk (root)")
    fid.add_argument("--runs", type=int, default=3, help="real runs recorded per flow (default 3)")
    fid.add_argument("--flow", action="append", help="only this flow (repeatable)")
    fid.add_argument("--diff", action="store_true", help="show where the replay differs")
    fid.add_argument("--min", type=float, default=0.95, help="exit 1 below this overall score (default 0.95)")
    sitefile.add_site_option(fid, "the lab's site file, e.g. examples/lab-site.toml")
    fid.set_defaults(func=cmd_sim_fidelity)

    ld = simsub.add_parser("load", help="SIPp callers and agents against a real Asterisk, joined with the engine")
    sitefile.add_site_option(ld, "site file (agents with static contacts)")
    ld.add_argument("--calls", type=int, default=50, help="callers to place (default 50)")
    ld.add_argument("--concurrency", type=int, default=20, help="callers on the line at once at most (default 20)")
    ld.add_argument("--rate", type=float, default=4.0, help="new callers per second (default 4)")
    ld.add_argument("--seconds", type=float, default=180.0, help="stop everything after this long (default 180)")
    ld.add_argument("--seed", type=int, default=1)
    ld.add_argument("--talk", type=float, default=2.0, metavar="S",
                    help="seconds an agent talks before hanging up (default 2)")  # fmt: skip
    ld.add_argument("--patience", type=float, metavar="S",
                    help="every caller hangs up S seconds after its digit unless the agent has ended the call "
                         "(default: 70 %% of callers wait 40 s, 30 %% wait 6 s)")  # fmt: skip
    ld.add_argument("--target", default="127.0.0.1:5060", help="Asterisk's SIP address (the lab by default)")
    ld.add_argument(
        "--external-engine", action="store_true", help="an engine is already running for this site; only read its store"
    )
    ld.add_argument("--json", help="write the report to this file")
    ld.add_argument("--workdir", help="keep scenarios, injection files and SIPp traces here")
    ld.set_defaults(func=cmd_sim_load)

    ch = simsub.add_parser("chaos", help="SIPp load through the lab while the engine, its AMI link or Asterisk "
                                         "fail; every call reconciled with records, CDR and recordings")  # fmt: skip
    sitefile.add_site_option(ch, "the lab's site file, e.g. examples/lab-site.toml")
    ch.add_argument("--calls", type=int, default=60, help="callers to place (default 60)")
    ch.add_argument("--faults", default="kill,ami-cut,asterisk-restart",
                    help="fault kinds to draw from (default kill,ami-cut,asterisk-restart)")  # fmt: skip
    ch.add_argument("--every", type=float, default=12.0, help="mean seconds between faults (default 12)")
    ch.add_argument("--seed", type=int, default=1, help="seed of the callers and of the fault moments")
    ch.add_argument("--rate", type=float, default=0.5, help="new callers per second (default 0.5)")
    ch.add_argument("--restart-after", type=float, default=3.0, help="seconds a killed engine stays down (default 3)")
    ch.add_argument("--json", help="write the fault table, mismatches and summary to this file")
    ch.add_argument("--workdir", help="keep the derived site, store, engine logs and SIPp traces here")
    ch.set_defaults(func=cmd_sim_chaos)
