"""The site file every command reads: its default path, loading it, and the menu it names."""

from __future__ import annotations

import os
import sys

from engine.config import ConfigError, Site, load_site

DEFAULT_SITE = "hotline.toml"


def site_path(arg: str | None) -> str:
    return arg or os.environ.get("HOTLINE_SITE") or DEFAULT_SITE


def load(arg: str | None) -> Site:
    try:
        return load_site(site_path(arg))
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
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
