"""`hotline prompts` and `hotline ivr`: the menu's prompt files, the IVR report, the degraded-mode bundle."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from engine.cli import sitefile


def cmd_prompts(args: argparse.Namespace) -> int:
    from ivr.menu import MenuError
    from ivr.places import ivr_places
    from ivr.prompts import PromptError, build_prompts

    site = sitefile.load(args.site)
    if site.menu_path() is None:
        print(f"{site.path}: [ivr] menu is not set: nothing to build", file=sys.stderr)
        return 1
    try:
        menu = sitefile.menu(site)
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
    site = sitefile.load(args.site)
    if args.action == "bundle":
        return _bundle(site, args)
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


def add_prompts_parser(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("prompts", help="the menu's prompts as 8 kHz files (espeak-ng + sox; studio files win)")
    pr.add_argument("action", choices=["build"])
    pr.add_argument("--site", help="site file naming the menu")
    pr.add_argument("--out", help="output folder (default: [ivr] prompt_local_dir, or the lab's)")
    pr.set_defaults(func=cmd_prompts)


def add_ivr_parser(sub: argparse._SubParsersAction) -> None:
    iv = sub.add_parser("ivr", help="IVR report from the ledger; the degraded-mode AGI bundle")
    iv.add_argument("action", choices=["report", "bundle"])
    iv.add_argument("dir", nargs="?", help="bundle: folder to write")
    iv.add_argument("--site", help="site file")
    iv.add_argument("--json", action="store_true", help="report as JSON")
    iv.add_argument("--python", default="/usr/bin/python3",
                    help="bundle: the Python its self-test runs with, as Asterisk will (default /usr/bin/python3)")
    iv.set_defaults(func=cmd_ivr)


def _bundle(site: Any, args: argparse.Namespace) -> int:
    from ivr.bundle import BundleError, load_site_menu, self_test, site_snapshot, write_bundle, write_snapshot
    from ivr.menu import MenuError

    if not args.dir:
        print("hotline ivr bundle: give the folder to write (DIR)", file=sys.stderr)
        return 2
    dest = Path(args.dir)
    try:
        write_bundle(dest)
        menu_path = site.menu_path()
        if menu_path is not None:
            # the snapshot the script falls back on until the engine first writes its own
            write_snapshot(dest / "menu.json", site_snapshot(site, load_site_menu(site, menu_path),
                                                             site["ivr"]["prompt_dir"]))  # fmt: skip
    except MenuError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hotline ivr bundle: cannot write {dest}: {exc}", file=sys.stderr)
        return 2
    print(f"degraded-mode bundle written to {dest} (copy it to <astagidir>/hotline)")
    try:
        print(self_test([args.python, str(dest / "degraded.py")]))
    except BundleError as exc:
        print(f"hotline ivr bundle: {exc}; Asterisk's host needs a full Python 3 (Debian: python3, not only "
              "python3-minimal) at the path the script names, or give it with --python", file=sys.stderr)
        return 1
    return 0
