"""`hotline prompts` and `hotline ivr`: the menu's prompt files, the IVR report, the degraded-mode bundle."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

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
    iv.set_defaults(func=cmd_ivr)
