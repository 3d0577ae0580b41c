"""The degraded-mode bundle for Asterisk's agi-bin: the interpreter, the classic AGI script, pyst2.

``hotline lab up`` installs it in the lab; ``hotline ivr bundle DIR`` writes it for a site's own Asterisk
(copy DIR to ``<astagidir>/hotline``). The engine keeps ``menu.json`` in it up to date.
"""

from __future__ import annotations

import shutil
from pathlib import Path

LAUNCHER = """#!/usr/bin/python3
# The hotline's degraded menu (classic AGI). Installed by `hotline lab up` / `hotline ivr bundle`.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ivr.classic import main  # noqa: E402

sys.exit(main())
"""
MODULES = ("model.py", "interpreter.py", "classic.py")


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
