"""`hotline check`: validate a site file and the menu it names."""

from __future__ import annotations

import argparse
import sys

from engine.cli import sitefile
from engine.config import ConfigError, load_site


def _problems(problems: list[str], what: str) -> int:
    # the problems are whole lines on stdout, flushed before the count goes to stderr: a terminal or a
    # 2>&1 capture shows the count after them, on a line of its own
    sys.stdout.write("".join(f"{p}\n" for p in problems))
    sys.stdout.flush()
    print(f"{len(problems)} problem(s){what}", file=sys.stderr)
    return 1


def cmd_check(args: argparse.Namespace) -> int:
    path = sitefile.site_path(sitefile.pick(args.file, args.site))
    try:
        site = load_site(path)
    except ConfigError as exc:
        return _problems(exc.problems, "")
    except OSError as exc:
        print(sitefile.unreadable(path, exc), file=sys.stderr)
        return 2
    print(site.summary())
    if site.menu_path() is not None:
        from ivr.menu import MenuError

        try:
            menu = sitefile.menu(site)
        except MenuError as exc:
            return _problems(exc.problems, " in the menu")
        print(f"{menu.source}: ok: {len(menu.nodes)} node(s), {len(menu.prompts)} prompt(s), "
              f"languages {', '.join(menu.languages)}")  # fmt: skip
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check", help="validate a site file; problems as file:line: key: message")
    c.add_argument("file", nargs="?", help=f"site file (default ${{HOTLINE_SITE}} or {sitefile.DEFAULT_SITE})")
    sitefile.add_site_option(c)
    c.set_defaults(func=cmd_check)
