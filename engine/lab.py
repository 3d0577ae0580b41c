"""`hotline lab up|down|status`: a real Asterisk 22 from Debian unstable in a cached chroot.

Steps: debootstrap (minbase, unstable) into the cache, apt-get install asterisk inside the root,
install the project's asterisk-conf/ plus generated pieces (AMI secret, agent endpoints), start
`asterisk -f` chrooted, wait for the AMI banner. The mirror comes from the host's apt sources.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from engine.aptmirror import find_debian_mirror
from engine.config import Site

# python3 (the full one: python3-minimal lacks most of the standard library pyst2 imports) and tzdata: the
# degraded menu is a classic AGI script in Python that reads the site's hours
PACKAGES = ["asterisk", "asterisk-core-sounds-en-wav", "asterisk-moh-opsound-wav", "python3", "tzdata"]
ASTERISK_MAJOR = 22  # the engine is written and proven against this major version only
CONF_DIR_IN_ROOT = "etc/hotline-asterisk"
ASTERISK_CONF = "/" + CONF_DIR_IN_ROOT + "/asterisk.conf"
# the lab's snapshot mirrors can carry an expired Release file; the content is still signed
APT_OPTS = ["-o", "Acquire::Check-Valid-Until=false", "-o", "Dpkg::Use-Pty=0"]


class LabError(Exception):
    pass


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_lab_dir() -> Path:
    env = os.environ.get("HOTLINE_LAB_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "hotline" / "lab"


@dataclass(frozen=True)
class Lab:
    dir: Path

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def secret_file(self) -> Path:
        return self.dir / "ami_secret"

    @property
    def agent_secrets_file(self) -> Path:
        return self.dir / "agent_passwords.txt"

    @property
    def pid_file(self) -> Path:
        return self.dir / "asterisk.pid"

    @property
    def log_file(self) -> Path:
        return self.dir / "asterisk.log"

    def monitor_dir(self, asterisk_dir: str = "/var/spool/asterisk/monitor") -> Path:
        return self.root / asterisk_dir.lstrip("/")

    def ami_secret(self) -> str:
        try:
            return self.secret_file.read_text().strip()
        except FileNotFoundError:
            raise LabError(f"no AMI secret at {self.secret_file}: run `hotline lab up` first") from None


def _say(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def _run(cmd: list[str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        rc = subprocess.run(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"},
        ).returncode
    if rc != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise LabError(f"{what} failed (exit {rc}); last lines of {log}:\n" + "\n".join(tail))


def _preflight() -> None:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (debootstrap and chroot need it; run as root, as CI does)")
    if shutil.which("debootstrap") is None:
        missing.append("debootstrap (apt-get install debootstrap, or `make setup`)")
    if shutil.which("chroot") is None:
        missing.append("chroot (coreutils)")
    if missing:
        raise LabError("cannot provision the lab; missing: " + "; ".join(missing))


def provision(lab: Lab) -> None:
    """Idempotent: every finished step leaves a marker; a warm cache skips straight to config."""
    _preflight()
    lab.dir.mkdir(parents=True, exist_ok=True)
    log = lab.dir / "provision.log"
    base_ok = lab.dir / ".base-ok"
    ast_ok = lab.dir / ".asterisk-ok"
    if not base_ok.exists():
        mirror = find_debian_mirror()
        if mirror is None:
            raise LabError("no Debian mirror found in /etc/apt/sources.list{,.d}: cannot debootstrap")
        if lab.root.exists():
            _unmount_proc(lab)  # a root left half-deleted keeps its /proc mounted: rmtree would stop there
            shutil.rmtree(lab.root)
        t0 = time.monotonic()
        _say(f"debootstrap minbase unstable into {lab.root} (about a minute) ...")
        _run(["debootstrap", "--variant=minbase", "sid", str(lab.root), mirror], log, "debootstrap")
        (lab.root / "etc/apt/sources.list").write_text(f"deb {mirror} sid main\n")
        base_ok.write_text(f"{mirror}\n{time.monotonic() - t0:.1f}\n")
        _say(f"base system ready in {time.monotonic() - t0:.0f} s")
    # a cache from an older package list (python3-minimal) or with a package gone is repaired in place
    missing = [name for name in PACKAGES if package_version(lab, name) is None]
    if not ast_ok.exists() or missing:
        if ast_ok.exists():
            _say(f"repairing the cached root: installing {' '.join(missing)}")
        t0 = time.monotonic()
        # keep package scripts from starting a second Asterisk inside the root
        policy = lab.root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        _say("apt-get install asterisk inside the root ...")
        _run(["chroot", str(lab.root), "apt-get", *APT_OPTS, "update", "-q"], log, "apt-get update (in root)")
        # a repair of a cache whose Asterisk is already 22 installs only what is missing: it must neither
        # move Asterisk under the recorded transcripts nor fail because unstable moved on
        repair = ast_ok.exists() and "asterisk" not in missing
        if not repair:
            _refuse_other_major(lab)
        _run(
            [
                "chroot",
                str(lab.root),
                "apt-get",
                *APT_OPTS,
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                *(missing if repair else PACKAGES),
            ],
            log,
            "apt-get install asterisk (in root)",
        )
        check_asterisk_version(lab)
        ast_ok.write_text(f"{time.monotonic() - t0:.1f}\npackages: {' '.join(PACKAGES)}\n")
        _say(f"asterisk installed in {time.monotonic() - t0:.0f} s")
    else:
        check_asterisk_version(lab)


def _installed(lab: Lab) -> dict[str, str]:
    """Installed packages and versions inside the root, from dpkg's database (no chroot: works unprivileged)."""
    try:
        text = (lab.root / "var/lib/dpkg/status").read_text(errors="replace")
    except OSError:
        return {}
    out = {}
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line[0].isspace())
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            out[fields["Package"]] = fields.get("Version", "")
    return out


def package_version(lab: Lab, name: str) -> str | None:
    return _installed(lab).get(name)


def python_version(lab: Lab) -> str | None:
    """The interpreter's own version (package python3.N), not the python3 meta package's."""
    found = [(int(n.split(".")[1]), v) for n, v in _installed(lab).items() if re.fullmatch(r"python3\.\d+", n)]
    return upstream(max(found)[1]) if found else None


def upstream(version: str) -> str:
    """'1:22.5.2~dfsg+~cs6-1' -> '22.5.2': the epoch and Debian's suffixes dropped."""
    v = version.split(":", 1)[-1]
    return v.split("~", 1)[0].split("+", 1)[0].rsplit("-", 1)[0]


def _refuse_other_major(lab: Lab) -> None:
    """Before installing: what unstable offers today must be Asterisk 22, or nothing is installed."""
    r = subprocess.run(["chroot", str(lab.root), "apt-cache", "policy", "asterisk"], capture_output=True, text=True)
    candidate = next((ln.split(":", 1)[1].strip() for ln in r.stdout.splitlines() if "Candidate:" in ln), "")
    if not candidate or candidate == "(none)":
        raise LabError(f"Debian unstable offers no asterisk package (apt-cache policy: {r.stdout.strip()!r})")
    major = upstream(candidate).split(".", 1)[0]
    if major != str(ASTERISK_MAJOR):
        raise LabError(f"Debian unstable's asterisk is {candidate} (major {major}); hotline supports Asterisk "
                       f"{ASTERISK_MAJOR} only, so the lab installs nothing (cache: {lab.dir})")


def check_asterisk_version(lab: Lab) -> str:
    found = package_version(lab, "asterisk")
    if found is None:
        raise LabError(f"no asterisk package is installed in {lab.root}; delete {lab.dir} and run `hotline lab up`")
    major = upstream(found).split(".", 1)[0]
    if major != str(ASTERISK_MAJOR):
        raise LabError(
            f"Debian unstable's asterisk is {found} (major {major}); hotline supports Asterisk {ASTERISK_MAJOR} "
            f"only and will not run the lab on another major version (cache: {lab.dir})"
        )
    return upstream(found)


def degraded_self_test(lab: Lab) -> str:
    """The degraded menu's self-test with the root's own Python, as Asterisk will run it."""
    from ivr.bundle import BundleError, self_test
    from ivr.places import AGI_BUNDLE_IN_ROOT

    try:
        return self_test(["chroot", str(lab.root), "/usr/bin/python3", f"/{AGI_BUNDLE_IN_ROOT}/degraded.py"])
    except BundleError as exc:
        marker = lab.dir / ".asterisk-ok"
        raise LabError(f"{exc}; the lab's Python cannot run the degraded menu (repair: delete {marker} "
                       "and run `hotline lab up`)") from None


def render_agents(site: Site, passwords: dict[str, str]) -> str:
    out = ["; generated by `hotline lab up` from the site file; do not edit"]
    for a in site.agents:
        ep = a.endpoint
        out += [
            f"[{ep}](agent-tpl)",
            f"auth = {ep}",
            f"aors = {ep}",
            f'callerid = "{a.name}" <{a.id}>',
            f"[{ep}](aor-tpl)",
        ]
        if a.contact:
            out.append(f"contact = {a.contact}")
        out += [f"[{ep}](auth-tpl)", f"username = {ep}", f"password = {passwords[ep]}", ""]
    return "\n".join(out) + "\n"


def agents_not_in_lab(lab: Lab, site: Site) -> list[str]:
    """Agents with a static contact the running lab was not set up with (``lab up`` writes them from its site
    file): Asterisk has no endpoint to ring for them, so every offer would go unanswered."""
    path = lab.root / CONF_DIR_IN_ROOT / "pjsip_agents.conf"
    text = path.read_text() if path.exists() else ""
    contacts: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("[") and "](aor-tpl)" in line:
            section = line[1 : line.index("]")]
        elif line.startswith("[") or not line.strip():
            section = ""
        elif section and line.startswith("contact = "):
            contacts[section] = line.removeprefix("contact = ").strip()
    return [f"agent {a.id} (endpoint {a.endpoint}, contact {a.contact})" for a in site.agents
            if a.contact and contacts.get(a.endpoint) != a.contact]  # fmt: skip


def install_config(lab: Lab, site: Site) -> None:
    conf = lab.root / CONF_DIR_IN_ROOT
    if conf.exists():
        shutil.rmtree(conf)
    shutil.copytree(repo_root() / "asterisk-conf", conf)
    if not lab.secret_file.exists():
        lab.secret_file.write_text(secrets.token_urlsafe(24) + "\n")
        lab.secret_file.chmod(0o600)
    (conf / "manager_secret.conf").write_text(f"secret = {lab.ami_secret()}\n")
    (conf / "manager_secret.conf").chmod(0o600)
    passwords: dict[str, str] = {}
    if lab.agent_secrets_file.exists():
        for line in lab.agent_secrets_file.read_text().splitlines():
            name, _, pw = line.partition(" ")
            if name and pw:
                passwords[name] = pw
    for a in site.agents:
        passwords.setdefault(a.endpoint, secrets.token_urlsafe(12))
    lab.agent_secrets_file.write_text("".join(f"{k} {v}\n" for k, v in sorted(passwords.items())))
    lab.agent_secrets_file.chmod(0o600)
    (conf / "pjsip_agents.conf").write_text(render_agents(site, passwords))
    from ivr.bundle import write_bundle
    from ivr.places import AGI_BUNDLE_IN_ROOT

    # the degraded menu (classic AGI + pyst2); the engine keeps menu.json in it current, and writes it here
    # already so the self-test reads the site's own menu
    bundle = lab.root / AGI_BUNDLE_IN_ROOT
    write_bundle(bundle)
    menu_path = site.menu_path()
    if menu_path is not None:
        from ivr.bundle import load_site_menu, site_snapshot, write_snapshot

        menu = load_site_menu(site, menu_path)
        write_snapshot(bundle / "menu.json", site_snapshot(site, menu, site["ivr"]["prompt_dir"]))
    for d in (
        "run/asterisk",
        "var/spool/asterisk/monitor/messages",
        "var/log/asterisk/cdr-csv",
        "var/log/asterisk/cel-custom",
        "var/log/asterisk",
        "var/lib/asterisk",
        "var/cache/asterisk",
    ):
        (lab.root / d).mkdir(parents=True, exist_ok=True)


def pid(lab: Lab) -> int | None:
    """The lab's running Asterisk (its pid file), None when it is not running."""
    try:
        found = int(lab.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(found, 0)
    except ProcessLookupError:
        return None
    return found


def _ami_answers(host: str, port: int, timeout: float = 1.0) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            banner = s.recv(200).decode(errors="replace").strip()
            return banner if banner.startswith("Asterisk Call Manager/") else None
    except OSError:
        return None


def _mount_proc(lab: Lab) -> None:
    proc = lab.root / "proc"
    proc.mkdir(exist_ok=True)
    if not os.path.ismount(proc):
        subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=False)


def _unmount_proc(lab: Lab) -> None:
    proc = lab.root / "proc"
    if os.path.ismount(proc):
        subprocess.run(["umount", "-l", str(proc)], check=False)


def start(lab: Lab, site: Site, wait: float = 60.0) -> str:
    if pid(lab) is not None:
        stop(lab)
    install_config(lab, site)
    _mount_proc(lab)
    _say(degraded_self_test(lab))
    log = lab.log_file.open("ab")
    proc = subprocess.Popen(
        ["chroot", str(lab.root), "/usr/sbin/asterisk", "-f", "-n", "-C", ASTERISK_CONF],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lab.pid_file.write_text(f"{proc.pid}\n")
    host, port = site["asterisk"]["ami_host"], site["asterisk"]["ami_port"]
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = lab.log_file.read_text(errors="replace").splitlines()[-20:]
            raise LabError(f"asterisk exited with {proc.returncode}; last lines of {lab.log_file}:\n" + "\n".join(tail))
        banner = _ami_answers(host, port)
        if banner:
            # AMI answers before every module is up; give PJSIP its transport too
            if _fully_booted(lab):
                return banner
        time.sleep(0.2)
    raise LabError(f"asterisk did not answer on AMI {host}:{port} within {wait:.0f} s; see {lab.log_file}")


def _fully_booted(lab: Lab) -> bool:
    r = subprocess.run(
        ["chroot", str(lab.root), "/usr/sbin/asterisk", "-C", ASTERISK_CONF, "-rx", "core waitfullybooted"],
        capture_output=True,
        timeout=30,
    )
    return r.returncode == 0


def stop(lab: Lab) -> bool:
    running = pid(lab)
    if running is None:
        return False
    try:
        os.killpg(running, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(100):
        if pid(lab) is None:
            break
        try:
            os.waitpid(running, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    else:
        os.killpg(running, signal.SIGKILL)
    lab.pid_file.unlink(missing_ok=True)
    return True


def asterisk_cli(lab: Lab, command: str) -> str:
    r = subprocess.run(
        ["chroot", str(lab.root), "/usr/sbin/asterisk", "-C", ASTERISK_CONF, "-rx", command],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return r.stdout


def status(lab: Lab, site: Site) -> dict[str, object]:
    running = pid(lab)
    banner = _ami_answers(site["asterisk"]["ami_host"], site["asterisk"]["ami_port"])
    version = ""
    if running is not None:
        version = asterisk_cli(lab, "core show version").strip()
    return {
        "dir": str(lab.dir),
        "provisioned": (lab.dir / ".asterisk-ok").exists(),
        "running": running is not None,
        "pid": running,
        "ami": banner,
        "version": version,
        "asterisk_version": upstream(v) if (v := package_version(lab, "asterisk")) else None,
        "python_version": python_version(lab),
    }
