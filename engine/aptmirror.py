"""Find the Debian mirror this machine already uses, from its own apt configuration.

The project never names a registry host itself: the lab root is bootstrapped from whatever
mirror the host's apt sources point at.
"""

from __future__ import annotations

from pathlib import Path

DEBIAN_SUITES = ("bookworm", "trixie", "forky", "sid", "unstable", "testing", "stable", "bullseye")


def _deb822_entries(text: str) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current:
                entries.append(current)
                current = {}
            continue
        if ":" in line:
            key, _, value = line.partition(":")
            current[key.strip().lower()] = value.strip()
    if current:
        entries.append(current)
    return entries


def _one_line_entries(text: str) -> list[dict[str, str]]:
    entries = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if len(words) < 3 or words[0] != "deb":
            continue
        words = [w for w in words[1:] if not w.startswith("[")]
        entries.append({"uris": words[0], "suites": words[1], "types": "deb"})
    return entries


def find_debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str | None:
    """Return the URI of the first plain Debian archive (not -security, not a third-party repo)."""
    entries: list[dict[str, str]] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        entries += _one_line_entries(main_list.read_text(errors="replace"))
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".sources":
                entries += _deb822_entries(path.read_text(errors="replace"))
            elif path.suffix == ".list":
                entries += _one_line_entries(path.read_text(errors="replace"))
    for entry in entries:
        if "deb" not in entry.get("types", "deb").split():
            continue
        suites = entry.get("suites", "").split()
        if not any(s in DEBIAN_SUITES for s in suites):
            continue
        for uri in entry.get("uris", "").split():
            if "security" in uri:
                continue
            return uri.rstrip("/")
    return None
