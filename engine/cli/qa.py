"""`hotline qa sample|calibration`: the day's sample to score and the calibration report, from the store."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import Any

from engine.cli import sitefile


async def _run(args: argparse.Namespace) -> int:
    from engine.cli.recordings import StoreLedger, local_dir_of
    from engine.store.store import Store, migrate
    from qa.calibration import report
    from qa.services import Samples
    from qa.settings import QaSettings
    from qa.store import GradeStore
    from recording.plugin import recordings_of

    site = sitefile.load(args.site)
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        grades = GradeStore(store.engine)
        if args.qa_command == "calibration":
            calls = await grades.calibrations()
            every = [g for c in calls for g in await grades.of(c["recording"])]
            got = report(calls, every, {f.name: f for f in site.forms})
            if args.json:
                print(json.dumps(got, indent=1))
                return 0
            print(f"{'grader':<16}{'calls':>6}{'mean |dev|':>11}{'score dev':>10}  per question (points of 100)")
            for gr, r in got["graders"].items():
                per_q = ", ".join(f"{q} {d:+.1f}" for q, d in r["per_question"].items())
                print(f"{gr:<16}{r['calls']:>6}{r['mean_abs_deviation']:>11}{r['score_deviation']:>+10.1f}  {per_q}")
            for c in got["calls"]:
                print(f"{c['recording']} ({c['form']}): " + (", ".join(f"{g} {s}" for g, s in c["scores"].items())
                                                             if "scores" in c else c["note"]))  # fmt: skip
            return 0
        svc = recordings_of(site, StoreLedger(store), store.engine, local_dir_of(site))
        await svc.catch_up()
        samples = Samples(svc.index.rows, store.facts, grades, {a.id: a.hired for a in site.agents},
                          QaSettings.of(site["qa"]), site["site"]["timezone"])  # fmt: skip
        day = dt.date.fromisoformat(args.day) if args.day else samples.day_of(dt.datetime.now().timestamp())
        picks: dict[str, list[Any]] = await samples.of_day(day)
        if args.json:
            print(json.dumps({a: [p.view(samples.tz) for p in ps] for a, ps in picks.items()}, indent=1))
            return 0
        for agent, ps in picks.items():
            for p in ps:
                v = p.view(samples.tz)
                print(f"{agent:<8}{v['time']}  {v['length']:>6}  {'graded' if p.graded else 'to score':<9} "
                      f"{p.recording}  {', '.join(p.risks) or '-'}{'  (new hire)' if p.new_hire else ''}")
        print(f"{sum(len(ps) for ps in picks.values())} call(s) for {len(picks)} agent(s) on {day}", file=sys.stderr)
        return 0
    finally:
        await store.close()


def cmd_qa(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except ValueError as exc:
        print(f"qa {args.qa_command}: {exc}", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("qa", help="quality: the day's sample to score, the calibration report")
    qsub = q.add_subparsers(dest="qa_command", required=True)
    qs = qsub.add_parser("sample", help="each agent's calls of a day to score, riskiest first")
    qs.add_argument("--day", help="YYYY-MM-DD (default today, site time)")
    qc = qsub.add_parser("calibration", help="each grader's deviation from the others, per question, on the calls "
                                             "scored blind")  # fmt: skip
    for p in (qs, qc):
        sitefile.add_site_option(p)
        p.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_qa)
