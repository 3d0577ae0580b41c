"""Errors a user can cause get one line naming the thing and exit 2, never a traceback; every command that
reads a site file takes --site FILE and defaults to $HOTLINE_SITE, then hotline.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAB_SITE = ROOT / "examples" / "lab-site.toml"
BOUND = 60  # generous bound on a command that must fail at once; the long runs it guards take minutes


def hotline(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "HOTLINE_SITE"}
    base["PYTHONPATH"] = str(ROOT)  # `-m engine.cli` from another folder still imports this tree
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=BOUND)  # fmt: skip


def one_line_error(r: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2, no traceback, and a stderr line naming every one of ``names``."""
    out = r.stdout + r.stderr
    assert r.returncode == 2, f"exit {r.returncode}:\n{out}"
    assert "Traceback" not in out, out
    lines = [line for line in r.stderr.splitlines() if all(n in line for n in names)]
    assert lines, f"no stderr line names {names}:\n{r.stderr}"
    return lines[0]


def lab_site_copy(tmp_path: Path, **replace: str) -> Path:
    text = LAB_SITE.read_text().replace(
        "sqlite+aiosqlite:///hotline-lab.db", f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    )
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    f = tmp_path / "site.toml"
    f.write_text(text)
    return f


# ---- 7: tracebacks become one line, exit 2 -------------------------------------------------------


def test_check_on_a_folder(tmp_path):
    one_line_error(hotline("check", str(tmp_path)), str(tmp_path), "folder")


def test_check_on_a_file_that_cannot_be_read(tmp_path):
    # as root no permission bit stops a read; a path through a regular file fails to open for anyone
    (tmp_path / "plain").write_text("x")
    bad = tmp_path / "plain" / "site.toml"
    one_line_error(hotline("check", str(bad)), str(bad), "cannot read")


def test_run_with_a_missing_ami_secret_file(tmp_path):
    secret = tmp_path / "nope" / "secret"
    site = lab_site_copy(tmp_path, **{"lab = true": f'ami_secret_file = "{secret}"',
                                      "[store]": f'[recording]\nlocal_dir = "{tmp_path}"\n\n[store]'})  # fmt: skip
    line = one_line_error(hotline("run", str(site)), "ami_secret_file", str(secret))
    assert str(site) in line


def test_run_with_lab_before_the_lab_is_provisioned(tmp_path):
    empty = tmp_path / "lab"
    empty.mkdir()
    site = lab_site_copy(tmp_path)
    line = one_line_error(hotline("run", str(site), env={"HOTLINE_LAB_DIR": str(empty)}), "hotline lab up", str(empty))
    assert "asterisk.lab" in line
    assert not (tmp_path / "h.db").exists(), "nothing should start before the secret is known to be there"


@pytest.mark.parametrize("command", [["sim", "fidelity"], ["sim", "load", "--calls", "1", "--seconds", "5"]],
                         ids=["fidelity", "load"])  # fmt: skip
def test_sim_commands_with_a_missing_site_file(tmp_path, command):
    missing = tmp_path / "nope.toml"
    one_line_error(hotline(*command, "--site", str(missing)), str(missing), "not found")


@pytest.mark.parametrize("speed", ["0", "-5"])
def test_demo_speed_must_be_positive(speed):
    one_line_error(hotline("demo", "--speed", speed, "--hours", "0.1", "--no-live"), "--speed")


@pytest.mark.parametrize(
    "command, option",
    [
        (["demo", "--hours", "1", "--speed", "60", "--no-live"], "--json"),
        (["bench", "pace", "--cells", "core", "--seeds", "11-11", "--workers", "1"], "--json"),
        (["bench", "pace", "--cells", "core", "--seeds", "11-11", "--workers", "1"], "--plot"),
        (["bench", "day", "--hours", "1", "--quiet"], "--json"),
    ],
    ids=["demo-json", "pace-json", "pace-plot", "day-json"],
)
def test_unwritable_output_file_is_refused_before_the_run(tmp_path, command, option):
    target = tmp_path / "no-such-folder" / "out.file"
    t0 = time.monotonic()
    r = hotline(*command, option, str(target))  # times out (fails) if the run starts first
    one_line_error(r, option, str(target))
    assert time.monotonic() - t0 < BOUND
    assert not r.stdout.strip(), f"the run started:\n{r.stdout}"


def test_output_file_that_is_a_folder_is_refused(tmp_path):
    one_line_error(hotline("demo", "--no-live", "--json", str(tmp_path)), "--json", str(tmp_path), "folder")


def test_existing_output_file_is_left_as_it_is_by_the_check(tmp_path):
    # the check probes the file without truncating it: a later failure must not have emptied it
    f = tmp_path / "report.json"
    f.write_text("old report")
    r = hotline("demo", "--speed", "0", "--json", str(f))
    assert r.returncode == 2 and f.read_text() == "old report"


def test_unwritable_prompts_out_folder(tmp_path):
    (tmp_path / "plain").write_text("x")
    out = tmp_path / "plain" / "prompts"
    r = hotline("prompts", "build", "--site", str(ROOT / "examples" / "ivr-lab-site.toml"), "--out", str(out))
    one_line_error(r, "--out", str(out), "not a folder")


# ---- 10: --site everywhere; the lab commands default like the others ----------------------------


@pytest.mark.parametrize("command", [["check"], ["run"]])
def test_site_option_on_check_and_run(tmp_path, command):
    site = lab_site_copy(tmp_path, **{'agent = "1001"': 'agent = "9999"'})  # invalid: an unknown agent
    r = hotline(*command, "--site", str(site))
    assert "unrecognized arguments" not in r.stderr
    assert r.returncode in (1, 2) and f"{site}:" in r.stdout + r.stderr  # the file's own problem, with its name


def test_check_positional_and_site_option_agree(tmp_path):
    site = lab_site_copy(tmp_path)
    assert hotline("check", str(site), "--site", str(site)).returncode == 0
    other = tmp_path / "other.toml"
    one_line_error(hotline("check", str(site), "--site", str(other)), str(site), str(other))


@pytest.mark.parametrize(
    "command",
    [["sim", "fidelity"], ["sim", "load", "--calls", "1", "--seconds", "5"], ["bench", "reaction", "--callers", "1"]],
    ids=["fidelity", "load", "reaction"],
)
def test_lab_commands_default_to_hotline_site_then_hotline_toml(tmp_path, command):
    # from a folder with no hotline.toml, the default names it (not a file inside the repository)
    one_line_error(hotline(*command, cwd=tmp_path), "hotline.toml")
    env_site = tmp_path / "from-env.toml"
    one_line_error(hotline(*command, cwd=tmp_path, env={"HOTLINE_SITE": str(env_site)}), str(env_site))


# ---- 12: check's problem count on a line of its own, after the problems -------------------------


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_check_menu_problem_count_on_its_own_last_line(tmp_path, unbuffered):
    menu = (ROOT / "menus" / "hotline.toml").read_text().replace('start = "hours"', 'start = "nowhere"')
    (tmp_path / "menu.toml").write_text(menu.replace('studio_dir = "../prompts/studio"', ""))
    site = lab_site_copy(tmp_path, **{"[[agents]]": f'[ivr]\nmenu = "{tmp_path / "menu.toml"}"\n\n[[agents]]'})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    # one pipe for both streams, as a terminal or `2>&1 | less` shows them
    r = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(site)], cwd=ROOT, env=env, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BOUND)  # fmt: skip
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r.stdout
    problems = [line for line in lines if line.startswith(f"{tmp_path / 'menu.toml'}:")]
    assert problems and any("menu.start" in p for p in problems), r.stdout
    assert lines[-1] == f"{len(problems)} problem(s) in the menu", r.stdout
    assert all("problem(s)" not in p for p in problems), r.stdout
