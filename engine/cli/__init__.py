"""The `hotline` command: one module per command group, each adding its own parsers."""

from __future__ import annotations

import argparse
import logging

from engine.cli import (
    bench,
    campaign,
    cases,
    check,
    db,
    fax,
    ivr,
    lab,
    leads,
    outputs,
    qa,
    recordings,
    records,
    report,
    run,
    sim,
    sms,
    users,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hotline", description="call-center engine for Asterisk 22")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    # the order is the one `hotline --help` lists them in
    check.add_parser(sub)
    ivr.add_prompts_parser(sub)
    ivr.add_ivr_parser(sub)
    lab.add_parser(sub)
    run.add_parser(sub)
    records.add_records_parser(sub)
    recordings.add_parser(sub)
    qa.add_parser(sub)
    cases.add_parser(sub)
    db.add_parser(sub)
    leads.add_parser(sub)
    campaign.add_parser(sub)
    report.add_parser(sub)
    sms.add_parser(sub)
    fax.add_parser(sub)
    users.add_parser(sub)
    sim.add_demo_parser(sub)
    sim.add_replay_parser(sub)
    records.add_why_parser(sub)
    bench.add_parser(sub)
    sim.add_sim_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # the HTTP client logs each request's URL: an SMS gateway's holds its password and a customer's number
    for name in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    outputs.check(args)
    return int(args.func(args) or 0)
