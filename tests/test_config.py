import subprocess
import sys
from pathlib import Path

from engine.config import ConfigError, load_site

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "examples" / "lab-site.toml").read_text()


def _check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "site.toml"
    f.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(f)], capture_output=True, text=True, cwd=ROOT
    )


def test_valid_file_prints_one_line_summary(tmp_path):
    r = _check(tmp_path, GOOD)
    assert r.returncode == 0
    assert len(r.stdout.strip().splitlines()) == 1
    assert "ok: site 'lab'" in r.stdout


def test_typo_in_key_names_file_line_and_key(tmp_path):
    text = GOOD.replace("digit_timeout_ms = 5000", "digit_timout_ms = 5000")
    line = text.splitlines().index("digit_timout_ms = 5000") + 1
    r = _check(tmp_path, text)
    assert r.returncode == 1
    assert f"site.toml:{line}: hotline.digit_timout_ms: unknown key (did you mean 'digit_timeout_ms'?)" in r.stdout


def test_wrong_type_and_bad_values(tmp_path):
    text = GOOD.replace("ami_port = 5038", 'ami_port = "5038"').replace(
        'timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'
    )
    with_lines = text.splitlines()
    r = _check(tmp_path, text)
    assert r.returncode == 1
    port_line = with_lines.index('ami_port = "5038"') + 1
    tz_line = with_lines.index('timezone = "Mars/Olympus"') + 1
    assert f":{port_line}: asterisk.ami_port: must be an integer, got str" in r.stdout
    assert f":{tz_line}: site.timezone: unknown time zone" in r.stdout


def test_agent_errors_point_into_the_array(tmp_path):
    text = GOOD.replace('id = "1002"', 'id = "1001"')
    line = text.splitlines().index('id = "1001"', text.splitlines().index('id = "1001"') + 1) + 1
    r = _check(tmp_path, text)
    assert f":{line}: agents[1].id: duplicate agent id '1001'" in r.stdout


def test_syntax_error_names_line(tmp_path):
    text = GOOD.replace('name = "lab"', 'name = "lab')
    line = text.splitlines().index('name = "lab') + 1
    r = _check(tmp_path, text)
    assert r.returncode == 1
    assert f"site.toml:{line}: syntax:" in r.stdout


def test_missing_required_and_secret_rule(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[site]\nname = "x"\n[hotline]\nnumber = "400"\nagent = "7"\n')
    try:
        load_site(f)
    except ConfigError as exc:
        text = "\n".join(exc.problems)
    else:
        raise AssertionError("must fail")
    assert "hotline.agent: no agent with id '7'" in text
    assert "asterisk.ami_secret_file: required unless lab = true" in text


def test_missing_file(tmp_path):
    r = _check(tmp_path, GOOD)  # creates site.toml
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 1 and "nope.toml: file not found" in r.stdout


def test_lab_up_without_debootstrap_says_what_is_missing(tmp_path):
    import os

    env = {**os.environ, "PATH": "/nonexistent", "HOTLINE_LAB_DIR": str(tmp_path / "lab")}
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "lab", "up", "--site", str(ROOT / "examples/lab-site.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert r.returncode == 1
    assert "lab up: cannot provision the lab; missing:" in r.stderr and "debootstrap" in r.stderr
    assert not (tmp_path / "lab" / "root").exists()


def test_acd_keys_are_checked_with_line_numbers(tmp_path):
    reasons = 'pause_reasons = { x = "lunch" }'
    skills = "skills = { hotline = 150 }"
    strategy = 'strategy = "random"'
    text = GOOD.replace("ring_timeout = 15", "ring_timeout = 15\n" + reasons)
    text += f'\n[[services]]\nname = "hotline"\n{skills}\n{strategy}\nrules = [ {{ after = 30 }}, {{ after = 10 }} ]\n'
    lines = text.splitlines()
    r = _check(tmp_path, text)
    assert r.returncode == 1
    assert f":{lines.index(reasons) + 1}: hotline.pause_reasons: code 'x'" in r.stdout
    assert f":{lines.index(skills) + 1}: services[0].skills: skill 'hotline'" in r.stdout
    assert f":{lines.index(strategy) + 1}: services[0].strategy: must be one of" in r.stdout
    assert "services[0].rules: rule 2: 'after' must grow" in r.stdout


def test_campaign_keys_are_checked_with_line_numbers(tmp_path):
    agents = 'agents = ["1002", "9999"]'
    ring = "ring_timeout = 10"
    window = 'window = "21:00-08:00"'
    retries = "retries = { voicemail = 60 }"
    text = GOOD + f'\n[[campaigns]]\nname = "renewals"\n{agents}\n{ring}\n{window}\n{retries}\n'
    lines = text.splitlines()
    r = _check(tmp_path, text)
    assert r.returncode == 1
    assert f":{lines.index(agents) + 1}: campaigns[0].agents: no agent with id '9999'" in r.stdout
    assert f":{lines.index(ring) + 1}: campaigns[0].ring_timeout: must be 15-60 s" in r.stdout
    assert f":{lines.index(window) + 1}: campaigns[0].window: the window must end after it starts" in r.stdout
    assert f":{lines.index(retries) + 1}: campaigns[0].retries: unknown outcome 'voicemail'" in r.stdout


def test_campaign_defaults_and_the_uk_lockout(tmp_path):
    f = tmp_path / "site.toml"
    f.write_text(GOOD + '\n[[campaigns]]\nname = "c"\nagents = ["1002"]\nprofile = "uk"\nends = "2026-12-31"\n')
    c = load_site(f).campaigns[0]
    assert (c.mode, c.target, c.ring_timeout, c.window, c.max_attempts) == ("predictive", 0.03, 25, (480, 1260), 3)
    assert c.retry_after("abandoned") == 72 * 3600  # an abandoned call is locked out for 72 hours under UK rules
    assert c.retry_after("busy") == 600
    assert c.ends is not None


def test_campaign_window_and_agents_are_checked(tmp_path):
    agents, window = "agents = []", 'window = "08:00-24:30"'
    text = GOOD + f'\n[[campaigns]]\nname = "a"\n{agents}\n{window}\n'
    lines = text.splitlines()
    r = _check(tmp_path, text)
    assert r.returncode == 1
    assert f":{lines.index(agents) + 1}: campaigns[0].agents: a campaign needs at least one agent" in r.stdout
    assert f":{lines.index(window) + 1}: campaigns[0].window: must be HH:MM-HH:MM" in r.stdout


def test_campaign_report_names_an_unknown_campaign(tmp_path):
    db = tmp_path / "c.db"
    text = GOOD.replace('url = "sqlite+aiosqlite:///hotline-lab.db"', f'url = "sqlite+aiosqlite:///{db}"')
    f = tmp_path / "site.toml"
    f.write_text(text + '\n[[campaigns]]\nname = "renewals"\nagents = ["1002"]\n')
    r = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "nope", "--site", str(f)],
                       capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert r.returncode == 2 and "unknown campaign 'nope' (known: renewals)" in r.stderr
    r = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "--site", str(f)],
                       capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert r.returncode == 0 and "renewals: no dials yet" in r.stdout


def test_campaigns_of_the_wrong_shape_are_reported_not_a_traceback(tmp_path):
    r = _check(tmp_path, "campaigns = 1\n" + GOOD)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "site.toml:1: campaigns: must be an array of tables ([[campaigns]])" in r.stdout
    text = GOOD + '\n[[campaigns]]\nname = "a"\nagents = 5\n'
    r = _check(tmp_path, text)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    line = text.splitlines().index("agents = 5") + 1
    assert f"site.toml:{line}: campaigns[0].agents: must be list, got int" in r.stdout


def test_a_service_skill_nobody_has_names_its_own_entry_after_a_skipped_one(tmp_path):
    # the first [[services]] has no name and is skipped; the problem of the second must name services[1]
    text = GOOD + '\n[[services]]\npriority = 1\n\n[[services]]\nname = "vip"\nskills = { klingon = 10 }\n'
    lines = text.splitlines()
    r = _check(tmp_path, text)
    assert r.returncode == 1
    n = len([ln for ln in lines if ln == "[[services]]"])
    assert f"services[{n - 1}].skills: no agent has skill 'klingon'" in r.stdout, r.stdout


def test_the_recorders_complexity_is_checked_with_its_line(tmp_path):
    text = GOOD + "\n[recording]\ncomplexity = 11\n"
    line = text.splitlines().index("complexity = 11") + 1
    r = _check(tmp_path, text)
    assert r.returncode == 1
    assert f"site.toml:{line}: recording.complexity: must be 0-10" in r.stdout
