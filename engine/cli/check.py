"""`hotline check`: validate a site file and the menu it names."""

from __future__ import annotations

import argparse
import sys

from engine.cli import sitefile
from engine.config import ConfigError, load_site


def cmd_check(args: argparse.Namespace) -> int:
    path = sitefile.site_path(sitefile.pick(args.file, args.site))
    try:
        site = load_site(path)
    except ConfigError as exc:
        for p in exc.problems:
            print(p)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(sitefile.unreadable(path, exc), file=sys.stderr)
        return 2
    print(site.summary())
    if site.menu_path() is not None:
        from ivr.menu import MenuError

        try:
            menu = sitefile.menu(site)
        except MenuError as exc:
            for p in exc.problems:
                print(p)
            print(f"{len(exc.problems)} problem(s) in the menu", file=sys.stderr)
            return 1
        print(f"{menu.source}: ok: {len(menu.nodes)} node(s), {len(menu.prompts)} prompt(s), "
              f"languages {', '.join(menu.languages)}")  # fmt: skip
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check", help="validate a site file; problems as file:line: key: message")
    c.add_argument("file", nargs="?", help=f"site file (default ${{HOTLINE_SITE}} or {sitefile.DEFAULT_SITE})")
    sitefile.add_site_option(c)
    c.set_defaults(func=cmd_check)
