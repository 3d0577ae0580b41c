"""Lead files: every row is either a good lead or a bad row with its line number and a reason; nothing is
dropped silently. Phones are read in the campaign's region (dialer/phone.py). Pure but for reading the file.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.phone import DEFAULT_REGION, Kind, PhoneError, parse_phone

TEAM_MAX = 64  # leads.team is VARCHAR(64); PostgreSQL refuses longer values


class LeadFileError(Exception):
    """The file as a whole cannot be used; the message names the file."""


@dataclass(frozen=True)
class LeadRow:
    line: int
    phone: str  # E.164
    kind: Kind
    name: str = ""
    team: str | None = None
    tz: str = ""  # IANA zone; "" = the site's
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str
    value: str  # as written in the file

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.reason}: {self.value!r}"


def _known_zone(name: str, cache: dict[str, bool]) -> bool:
    if name not in cache:
        try:
            ZoneInfo(name)
            cache[name] = True
        except Exception:  # ZoneInfoNotFoundError, or ValueError for names like "../x"
            cache[name] = False
    return cache[name]


def _header(row: list[str], line: int, source: str) -> list[str]:
    names = [h.strip() for h in row]
    lower = [n.lower() for n in names]
    if "phone" not in lower:
        found = ", ".join(repr(n) for n in names)
        raise LeadFileError(f"{source}:{line}: no 'phone' column in the header (found {found})")
    for i, n in enumerate(lower):
        if n and n in lower[:i]:
            raise LeadFileError(f"{source}:{line}: column {names[i]!r} appears twice in the header")
    return names


def parse_lead_text(
    text: str, source: str = "<text>", region: str = DEFAULT_REGION
) -> tuple[list[LeadRow], list[BadRow]]:
    """CSV with a header row: ``phone`` (required, any case; read as a number of ``region``), ``name``,
    ``team``, ``tz``; other columns go to ``extra``. Lines are counted in the file (the header is line 1, a
    quoted field may span lines); blank lines are not rows."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    good: list[LeadRow] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    zones: dict[str, bool] = {}
    names: list[str] | None = None
    col: dict[str, int] = {}
    prev = 0
    try:
        for row in reader:
            line, prev = prev + 1, reader.line_num
            if not row:
                continue
            if names is None:
                names = _header(row, line, source)
                col = {n.lower(): i for i, n in enumerate(names) if n.lower() in ("phone", "name", "team", "tz")}
                continue
            if len(row) != len(names):
                bad.append(BadRow(line, f"wrong column count: {len(row)} fields, the header has {len(names)}",
                                  ",".join(row)))  # fmt: skip
                continue
            raw = row[col["phone"]].strip()
            if not raw:
                bad.append(BadRow(line, "empty phone", ""))
                continue
            try:
                phone = parse_phone(raw, region)
            except PhoneError as exc:
                bad.append(BadRow(line, f"bad phone: {exc.reason}", raw))
                continue
            first = seen.setdefault(phone.e164, line)
            if first != line:
                bad.append(BadRow(line, f"duplicate phone, first on line {first}", raw))
                continue
            tz = row[col["tz"]].strip() if "tz" in col else ""
            if tz and not _known_zone(tz, zones):
                bad.append(BadRow(line, "unknown time zone", tz))
                continue
            team = row[col["team"]].strip() if "team" in col else ""
            if len(team) > TEAM_MAX:
                bad.append(BadRow(line, f"team name longer than {TEAM_MAX} characters", team))
                continue
            extra = {n or f"column {i + 1}": v for i, (n, v) in enumerate(zip(names, row, strict=True))
                     if i not in col.values()}  # fmt: skip
            name = row[col["name"]].strip() if "name" in col else ""
            good.append(LeadRow(line, phone.e164, phone.kind, name, team or None, tz, extra))
    except csv.Error as exc:
        raise LeadFileError(f"{source}:{reader.line_num}: not readable as CSV: {exc}") from None
    if names is None:
        raise LeadFileError(f"{source}: empty file: a header row with a 'phone' column is needed")
    return good, bad


def parse_lead_file(
    path: str | os.PathLike[str], region: str = DEFAULT_REGION
) -> tuple[list[LeadRow], list[BadRow]]:
    """Read a lead file (UTF-8, with or without a BOM); LeadFileError when the file cannot be used at all."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LeadFileError(f"{p}: file not found") from None
    except OSError as exc:
        raise LeadFileError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        # Excel's plain "CSV" in a Chinese locale is GBK
        raise LeadFileError(f"{p}:{line}: not UTF-8 text: save it as UTF-8 (Excel: 'CSV UTF-8')") from None
    return parse_lead_text(text, str(p), region)
