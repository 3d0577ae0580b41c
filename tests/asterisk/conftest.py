"""Fixtures for tests against the real Asterisk 22 lab and real SIPp.

The lab is provisioned by `hotline lab up` (root and debootstrap required; CI runs as root). If it
cannot be provisioned these tests fail with the lab's own message: they are the proof of the core.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import lab as labmod
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


def _channels(lab: labmod.Lab) -> int:
    m = re.search(r"(\d+) active channel", labmod.asterisk_cli(lab, "core show channels count"))
    return int(m.group(1)) if m else 0


def _until_no_channel(lab: labmod.Lab, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while (n := _channels(lab)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return n


@pytest.fixture(autouse=True)
def no_channel_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """A channel a test leaves up keeps its phone busy for every later test: Asterisk once kept a spied agent's leg
    up for minutes after its caller hung up, and the five tests after it failed. After each test (and after its
    SIPp phones are stopped) its channels get 5 s to end, are then hung up, and an Asterisk that cannot end them
    is restarted; each step is a warning naming the test, so a leak is seen and does not spread."""
    yield
    lab = labmod.Lab(labmod.default_lab_dir())
    if labmod.pid(lab) is None:
        return  # a test that stopped Asterisk (chaos): nothing is up
    left = _until_no_channel(lab, 5.0)
    if not left:
        return
    listing = labmod.asterisk_cli(lab, "core show channels concise").strip()
    labmod.asterisk_cli(lab, "channel request hangup all")
    if not _until_no_channel(lab, 5.0):
        warnings.warn(f"{request.node.nodeid} left {left} channel(s) up, hung up after it:\n{listing}", stacklevel=1)
        return
    subprocess.run([sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(SITE)], cwd=ROOT,
                   capture_output=True, timeout=300, check=False)  # fmt: skip
    warnings.warn(f"{request.node.nodeid} left {left} channel(s) that a hang-up did not end; Asterisk was restarted:"
                  f"\n{listing}", stacklevel=1)  # fmt: skip


@pytest.fixture(autouse=True)
def no_sipp_left(no_channel_left: None) -> Iterator[None]:
    """A test that fails half-way leaves its SIPp phones running, and the next test cannot bind their ports: after
    each test, the SIPp processes this test process started are stopped."""
    yield
    subprocess.run(["pkill", "-TERM", "-P", str(os.getpid()), "-x", "sipp"], capture_output=True)
