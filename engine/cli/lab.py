"""`hotline lab`: a real Asterisk 22 in a cached chroot, up, down and status."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.cli import sitefile
from engine.cli.ivr import cmd_prompts


def cmd_lab(args: argparse.Namespace) -> int:
    from engine import lab as labmod

    site = sitefile.load(args.site)
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


def add_parser(sub: argparse._SubParsersAction) -> None:
    lab = sub.add_parser("lab", help="a real Asterisk 22 in a cached Debian-unstable chroot")
    lab.add_argument("action", choices=["up", "down", "status"])
    lab.add_argument("--site", help="site file (agents become PJSIP endpoints)")
    lab.add_argument("--dir", help="cache folder (default $HOTLINE_LAB_DIR or ~/.cache/hotline/lab)")
    lab.add_argument("--json", action="store_true", help="status as JSON")
    lab.set_defaults(func=cmd_lab)
