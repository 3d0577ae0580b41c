"""The project owns its environment: exact versions from requirements.lock, a lab pinned to Asterisk 22, and a
degraded menu that tests itself where it will run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest

from engine.lab import Lab, LabError, check_asterisk_version, python_version, upstream
from ivr.bundle import BundleError, self_test, write_bundle

ROOT = Path(__file__).resolve().parents[1]


def _cannot_check_here(reason: str) -> None:
    """Outside the project's own environment (a developer's other venv, no root) these checks have nothing to
    check; in CI they must run, so there a missing precondition fails instead of skipping."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this check: {reason}")
    pytest.skip(reason)


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return pins


def _name(req: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0]).lower()


def test_lock_pins_every_declared_dependency_exactly():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = list(meta["project"]["dependencies"]) + list(meta["build-system"]["requires"])
    for extra in meta["project"]["optional-dependencies"].values():
        declared += extra
    pins = _lock()
    assert {_name(r) for r in declared} - set(pins) == set()


def test_installed_environment_is_exactly_the_lock():
    if not (Path(sys.prefix) / ".hotline-setup").exists():
        _cannot_check_here("the suite is not running in the environment scripts/setup.sh made")
    pins = _lock()
    off = {}
    for d in distributions():
        name = _name(d.metadata["Name"])
        if name in ("hotline", "pip"):
            continue
        if pins.get(name) != d.version:
            off[name] = (d.version, pins.get(name))
    assert off == {}, "installed (version, locked version)"


def test_second_setup_is_a_no_op_without_network():
    stamp = Path(sys.prefix) / ".hotline-setup"
    if not stamp.exists():
        _cannot_check_here("the suite is not running in the environment scripts/setup.sh made")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        _cannot_check_here("needs root and unshare for a network namespace (CI runs as root)")
    extras = stamp.read_text().split()[-1]
    flag = ["--test"] if "test" in extras else []
    env = {**os.environ, "VENV": sys.prefix, "PY": os.environ.get("PY", "python3")}
    # a fresh network namespace has no route anywhere: any download would fail
    r = subprocess.run(["unshare", "-n", str(ROOT / "scripts/setup.sh"), *flag], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stderr and "creating" not in r.stderr


def test_degraded_bundle_self_test_passes_and_reads_the_snapshot(tmp_path):
    write_bundle(tmp_path)
    verdict = self_test([sys.executable, str(tmp_path / "degraded.py")])
    assert verdict.startswith("self-test ok") and "no menu snapshot yet" in verdict
    from engine.config import load_site
    from ivr.bundle import load_site_menu, site_snapshot, write_snapshot

    site = load_site(ROOT / "examples" / "ivr-lab-site.toml")
    menu = load_site_menu(site, site.menu_path())
    write_snapshot(tmp_path / "menu.json", site_snapshot(site, menu, "/x"))
    verdict = self_test([sys.executable, str(tmp_path / "degraded.py")])
    assert f"{len(menu.nodes)} node(s)" in verdict


def test_degraded_bundle_self_test_fails_where_the_standard_library_is_missing(tmp_path):
    # what Debian's python3-minimal did to the lab: pyst2 imports pprint, which it lacks
    write_bundle(tmp_path)
    (tmp_path / "pprint.py").write_text("raise ImportError('No module named pprint')\n")
    with pytest.raises(BundleError, match="cannot import the bundle"):
        self_test([sys.executable, str(tmp_path / "degraded.py")])


def test_degraded_bundle_self_test_fails_on_an_unusable_snapshot(tmp_path):
    write_bundle(tmp_path)
    (tmp_path / "menu.json").write_text('{"menu": {"start": "x"}}')
    with pytest.raises(BundleError, match="unusable"):
        self_test([sys.executable, str(tmp_path / "degraded.py")])


def _fake_root(tmp_path: Path, packages: dict[str, str]) -> Lab:
    status = tmp_path / "root/var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("\n\n".join(f"Package: {n}\nStatus: install ok installed\nVersion: {v}" for n, v in
                                  packages.items()) + "\n")  # fmt: skip
    return Lab(tmp_path)


def test_lab_refuses_another_asterisk_major(tmp_path):
    assert upstream("1:22.10.1+dfsg+~cs6.17.60671434-1") == "22.10.1"
    lab = _fake_root(tmp_path / "a", {"asterisk": "1:22.10.1+dfsg-1", "python3.14": "3.14.10-1", "python3.9": "3.9"})
    assert check_asterisk_version(lab) == "22.10.1"
    assert python_version(lab) == "3.14.10"
    lab = _fake_root(tmp_path / "b", {"asterisk": "1:23.0.0~dfsg-1"})
    with pytest.raises(LabError, match=r"23\.0\.0.*major 23.*Asterisk 22 only"):
        check_asterisk_version(lab)


def test_ivr_bundle_command_writes_the_snapshot_and_runs_the_self_test(tmp_path):
    cmd = [sys.executable, "-m", "engine.cli", "ivr", "bundle", str(tmp_path / "b"), "--site",
           str(ROOT / "examples" / "ivr-lab-site.toml"), "--python", sys.executable]  # fmt: skip
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "self-test ok" in r.stdout and "node(s)" in r.stdout
    assert (tmp_path / "b" / "menu.json").exists()
    # a Python that cannot run it: the site learns it now, not from a lost caller
    (tmp_path / "b2").mkdir()
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\necho 'No module named pprint' >&2\nexit 1\n")
    broken.chmod(0o755)
    r = subprocess.run([*cmd[:5], str(tmp_path / "b2"), *cmd[6:-1], str(broken)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 1 and "self-test failed" in r.stderr and "pprint" in r.stderr
