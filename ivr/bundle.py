"""The degraded-mode bundle for Asterisk's agi-bin: the interpreter, the classic AGI script, pyst2.

``hotline lab up`` installs it in the lab; ``hotline ivr bundle DIR`` writes it for a site's own Asterisk
(copy DIR to ``<astagidir>/hotline``). The engine keeps ``menu.json`` in it up to date.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

LAUNCHER = """#!/usr/bin/python3
# The hotline's degraded menu (classic AGI). Installed by `hotline lab up` / `hotline ivr bundle`.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ivr.classic import main  # noqa: E402

sys.exit(main())
"""
MODULES = ("model.py", "interpreter.py", "classic.py")


class BundleError(Exception):
    pass


def snapshot_data(menu: Any, prompt_dir: str, messages_dir: str, agent_endpoint: str) -> dict[str, Any]:
    """What the degraded script reads (``menu.json``): the last valid menu and where its files are."""
    written = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {"menu": menu.to_dict(), "prompt_dir": prompt_dir, "messages_dir": messages_dir,
            "agent_endpoint": agent_endpoint, "written_at": written}  # fmt: skip


def load_site_menu(site: Any, path: Path) -> Any:
    """The site's menu, checked against its services and skills (MenuError with every problem)."""
    from ivr.menu import load_menu

    endpoint = site.agent(site["hotline"]["agent"]).endpoint
    return load_menu(path, services=site.service_names(), skills=site.skill_names(),
                     timezone=site["site"]["timezone"], agent_endpoint=endpoint)  # fmt: skip


def site_snapshot(site: Any, menu: Any, prompt_dir: str) -> dict[str, Any]:
    messages = site["recording"]["asterisk_dir"].rstrip("/") + "/messages"
    return snapshot_data(menu, prompt_dir, messages, site.agent(site["hotline"]["agent"]).endpoint)


def write_snapshot(path: Path, data: dict[str, Any]) -> None:
    """Atomic replace: the script may start at any moment and must never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def self_test(cmd: list[str], timeout: float = 60) -> str:
    """Run ``degraded.py --self-test`` with the Python that Asterisk will use (``cmd`` is that Python and the
    script's path, chrooted in the lab); its one-line verdict on success, BundleError otherwise."""
    try:
        r = subprocess.run([*cmd, "--self-test"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BundleError(f"degraded-menu self-test could not run ({' '.join(cmd)}): {exc}") from None
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0:
        raise BundleError(f"degraded-menu self-test failed (exit {r.returncode}, {' '.join(cmd)}): {out[-800:]}")
    return out.splitlines()[-1] if out else "self-test ok"


def write_bundle(dest: Path) -> list[Path]:
    from importlib.metadata import distribution

    # by distribution, not by import: a package named `asterisk` elsewhere on sys.path (the test suite's
    # tests/asterisk) must not be taken for pyst2
    pyst = Path(str(distribution("pyst2").locate_file("asterisk/agi.py"))).resolve().parent
    six_py = Path(str(distribution("six").locate_file("six.py"))).resolve()
    if not (pyst / "agi.py").exists() or not six_py.exists():
        raise FileNotFoundError(f"pyst2 or six is not installed where its metadata says ({pyst}, {six_py})")
    here = Path(__file__).resolve().parent
    (dest / "ivr").mkdir(parents=True, exist_ok=True)
    written = []
    (dest / "ivr" / "__init__.py").write_text("")
    for m in MODULES:
        shutil.copy2(here / m, dest / "ivr" / m)
        written.append(dest / "ivr" / m)
    if (dest / "asterisk").exists():
        shutil.rmtree(dest / "asterisk")
    shutil.copytree(pyst, dest / "asterisk", ignore=shutil.ignore_patterns("__pycache__", "fastagi.py"))
    shutil.copy2(six_py, dest / "six.py")
    launcher = dest / "degraded.py"
    launcher.write_text(LAUNCHER)
    launcher.chmod(0o755)
    written += [dest / "asterisk", dest / "six.py", launcher]
    return written
