"""Fixtures for tests against the real Asterisk 22 lab and real SIPp.

The lab is provisioned by `hotline lab up` (root and debootstrap required; CI runs as root). If it
cannot be provisioned these tests fail with the lab's own message: they are the proof of the core.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.ami_proxy import AmiProxy

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "lab-site.toml"
__all__ = ["ROOT", "SITE", "AmiProxy", "lab"]


@pytest.fixture(scope="session")
def lab():
    if shutil.which("sipp") is None:
        pytest.fail("sipp is missing: run `make setup` (Debian package sip-tester)")
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(SITE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if r.returncode != 0:
        pytest.fail(f"hotline lab up failed:\n{r.stdout}\n{r.stderr}")
    yield r.stdout.strip()
    # leave Asterisk running: `hotline lab down` stops it; the next session reuses it


@pytest.fixture(autouse=True)
def no_sipp_left() -> Iterator[None]:
    """A test that fails half-way leaves its SIPp phones running, and the next test cannot bind their ports: after
    each test, the SIPp processes this test process started are stopped."""
    yield
    subprocess.run(["pkill", "-TERM", "-P", str(os.getpid()), "-x", "sipp"], capture_output=True)
