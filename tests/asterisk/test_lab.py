"""The lab itself: Asterisk 22 and a Python that runs the degraded menu, as `hotline lab status` reports them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.lab import Lab, default_lab_dir, degraded_self_test

from .conftest import ROOT, SITE

pytestmark = pytest.mark.asterisk


def test_lab_status_reports_asterisk_22_and_python(lab):
    r = subprocess.run([sys.executable, "-m", "engine.cli", "lab", "status", "--json", "--site", str(SITE)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["running"] and st["asterisk_version"].startswith("22.")
    assert st["version"].startswith(f"Asterisk {st['asterisk_version']}")
    major, minor = (int(x) for x in st["python_version"].split(".")[:2])
    assert (major, minor) >= (3, 9)


def test_degraded_menu_self_test_runs_with_the_labs_own_python(lab):
    verdict = degraded_self_test(Lab(default_lab_dir()))
    assert verdict.startswith("self-test ok: python 3.")


def test_lab_up_repairs_a_cache_that_lacks_the_full_python(lab):
    # what a cache made with python3-minimal looks like: no python3 package, so no full standard library
    root = Lab(default_lab_dir()).root
    subprocess.run(["chroot", str(root), "dpkg", "--remove", "--force-depends", "python3"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(SITE)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "repairing the cached root: installing python3" in r.stderr
    assert "self-test ok: python 3." in r.stderr
    st = json.loads(subprocess.run([sys.executable, "-m", "engine.cli", "lab", "status", "--json", "--site", str(SITE)],
                                   cwd=ROOT, capture_output=True, text=True, timeout=60).stdout)  # fmt: skip
    assert st["running"] and st["asterisk_version"].startswith("22.")
