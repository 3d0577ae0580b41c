"""`hotline run`: the engine against a real Asterisk."""

from __future__ import annotations

import argparse
import asyncio
import sys

from engine.cli import sitefile


def _secret_problem(site: sitefile.Site) -> str | None:
    """Why the AMI secret (no secret file, or the lab not provisioned yet) or a secret of [sms] cannot be read,
    before anything starts."""
    from engine.app import lab_paths
    from engine.lab import LabError

    try:
        lab_paths(site)
    except LabError as exc:
        return f"{site.path}: asterisk.lab: {exc}"
    except OSError as exc:
        secret = site["asterisk"]["ami_secret_file"]
        return f"{site.path}: asterisk.ami_secret_file: cannot read {secret}: {exc.strerror or exc}"
    if site["sms"]["gateway"]:
        from sms.settings import SmsSettings, SmsSettingsError

        try:
            SmsSettings.of(site["sms"], site.path.parent)
        except SmsSettingsError as exc:
            return f"{site.path}: {exc}"
    return None


def cmd_run(args: argparse.Namespace) -> int:
    from composition import run_engine
    from engine.asterisk.fastagi import AgiListenError
    from engine.web.server import HttpListenError

    site = sitefile.load(sitefile.pick(args.file, args.site))
    if site.menu_path() is not None:
        from ivr.menu import MenuError

        try:
            sitefile.menu(site)
        except MenuError as exc:
            # refuse to start on a bad menu, naming file and line (a running engine keeps its last good one)
            for p in exc.problems:
                print(p, file=sys.stderr)
            return 2
    problem = _secret_problem(site)
    if problem:
        print(f"hotline run: {problem}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_engine(site, duration=args.seconds))
    except KeyboardInterrupt:
        pass
    except AgiListenError as exc:
        print(f"hotline run: {exc}", file=sys.stderr)
        return 2
    except HttpListenError as exc:
        print(f"hotline run: {site.path}: {exc}", file=sys.stderr)  # e.g. http.listen: cannot listen on ...: in use
        return 2
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="run the engine against a real Asterisk")
    r.add_argument("file", nargs="?", help="site file")
    sitefile.add_site_option(r)
    r.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    r.set_defaults(func=cmd_run)
