"""What the IVR needs of the rest of the site, read once by its wiring: where the menu file is, how a menu is
checked against the site's services and skills, the greeting without a menu, and the degraded script's snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import Site
from ivr.bundle import load_site_menu, site_snapshot
from ivr.model import Menu, builtin_menu
from ivr.settings import IvrSettings


@dataclass(frozen=True)
class SiteMenu:
    path: Path | None  # the menu file (relative paths are the site file's); None: the built-in greeting
    builtin: Menu  # [hotline] prompt, one digit, the hotline's service
    messages_dir: str  # recorded messages, as Asterisk sees the folder
    load: Callable[[Path], Menu]  # MenuError with every problem
    snapshot: Callable[[Menu, str], dict[str, Any]]  # (menu, prompt folder) -> what menu.json holds

    @classmethod
    def of(cls, site: Site, settings: IvrSettings) -> SiteMenu:
        hot = site["hotline"]
        return cls(path=(site.path.parent / settings.menu) if settings.menu else None,
                   builtin=builtin_menu(hot["prompt"], hot["service"], hot["digit_timeout_ms"]),
                   messages_dir=site["recording"]["asterisk_dir"].rstrip("/") + "/messages",
                   load=lambda path: load_site_menu(site, path),
                   snapshot=lambda menu, prompt_dir: site_snapshot(site, menu, prompt_dir))  # fmt: skip
