"""The site file every command reads: its default path, loading it, and the menu it names."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from engine.config import ConfigError, Site, load_site

DEFAULT_SITE = "hotline.toml"


def site_path(arg: str | None) -> str:
    return arg or os.environ.get("HOTLINE_SITE") or DEFAULT_SITE


def add_site_option(parser: argparse.ArgumentParser, help: str = "site file") -> None:  # noqa: A002
    parser.add_argument("--site", help=f"{help} (default ${{HOTLINE_SITE}} or {DEFAULT_SITE})")


def pick(positional: str | None, option: str | None) -> str | None:
    """The site file of a command that takes it both as FILE and as --site FILE."""
    if positional and option and positional != option:
        fail(f"hotline: two site files given ({positional} and --site {option}): give one")
    return positional or option


def fail(message: str) -> NoReturn:
    """A mistake of the user's: one line, exit 2."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def unreadable(path: str, exc: OSError) -> str:
    what = "is a folder, not a site file" if isinstance(exc, IsADirectoryError) else f"cannot read it ({exc.strerror})"
    return f"{path}: {what}"


def load(arg: str | None) -> Site:
    path = site_path(arg)
    try:
        return load_site(path)
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as exc:
        print(unreadable(path, exc), file=sys.stderr)
        raise SystemExit(2) from None


def menu(site: Site):  # noqa: ANN201 - ivr.model.Menu, imported lazily
    from ivr.menu import load_menu

    path = site.menu_path()
    assert path is not None
    return load_menu(
        path,
        services=site.service_names(),
        skills=site.skill_names(),
        timezone=site["site"]["timezone"],
        agent_endpoint=site.agent(site["hotline"]["agent"]).endpoint,
    )
