"""[fax]: the fax numbers, how many fax lines, where the images live, how sends are dialed and retried (the
site file's schema of the section, and its reading)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config_fields import Field, Report, endpoint_name, positive

IN_ROOT = "var/spool/asterisk/fax"  # the default folder as Asterisk sees it, without its leading '/'


def _numbers(v: Any) -> str | None:
    bad = [n for n in v if not isinstance(n, str) or not re.fullmatch(r"\+?[0-9]{3,20}", n)]
    return f"{bad[0]!r} is not a phone number (digits, may begin with +)" if bad else None


def _station(v: Any) -> str | None:
    # T.30's station id: 20 characters of digits, '+' and spaces
    return None if re.fullmatch(r"[0-9+ ]{0,20}", v) else "at most 20 digits, '+' or spaces (T.30's station id)"


FAX_FIELDS: dict[str, Field] = {
    "numbers": Field(list, [], check=_numbers, doc="the site's fax numbers (DIDs): their calls are received as "
                     "faxes, not taken to the menu"),
    "lines": Field(int, 4, check=positive, doc="faxes at once, both directions together: a send waits for a "
                   "line, a call in is answered busy"),
    "station_id": Field(str, "", check=_station, doc="the station id our faxes show the far end"),
    "trunk": Field(str, "", check=lambda v: endpoint_name(v) if v else None,
                   doc="PJSIP endpoint faxes are dialed through (\"\": asterisk.trunk)"),
    "caller_id": Field(str, "", doc="caller id of faxes sent (\"\": the trunk's own)"),
    "asterisk_dir": Field(str, "/" + IN_ROOT, doc="fax images' folder as Asterisk sees it"),
    "local_dir": Field(str, "", doc="the same folder as the engine sees it (empty with asterisk.lab = true)"),
    "attempts": Field(int, 3, check=positive, doc="dials of one fax at most (busy, no answer or a failed "
                      "transfer is dialed again)"),
    "retry_wait": Field((int, float), 120, check=positive, doc="seconds before a fax is dialed again"),
    "ring_timeout": Field(int, 60, check=positive, doc="seconds a fax dial rings before it counts as no answer"),
}  # fmt: skip


def check_fax(values: dict[str, Any], lab: bool, report: Report) -> None:
    nums = values.get("numbers") or []
    if len(set(nums)) != len(nums):
        report("fax.numbers", "lists a number twice")
    if nums and not lab and not values.get("local_dir"):
        report("fax.local_dir", "required with fax numbers unless asterisk.lab = true")


@dataclass(frozen=True)
class FaxSettings:
    numbers: frozenset[str]
    lines: int
    station_id: str
    trunk: str
    caller_id: str
    asterisk_dir: str
    local_dir: Path
    attempts: int
    retry_wait: float
    ring_timeout: int

    @classmethod
    def of(cls, values: dict[str, Any], trunk: str, lab: bool) -> FaxSettings:
        """``trunk``: asterisk.trunk; ``lab``: asterisk.lab (the local folder is then the lab root's)."""
        v = {k: values.get(k, f.default) for k, f in FAX_FIELDS.items()}
        if v["local_dir"]:
            local = Path(v["local_dir"]).expanduser()
        elif lab:
            from engine.lab import Lab, default_lab_dir

            local = Lab(default_lab_dir()).root / str(v["asterisk_dir"]).lstrip("/")
        else:
            local = Path(v["asterisk_dir"])
        return cls(numbers=frozenset(v["numbers"]), lines=int(v["lines"]), station_id=v["station_id"],
                   trunk=v["trunk"] or trunk, caller_id=v["caller_id"], asterisk_dir=v["asterisk_dir"].rstrip("/"),
                   local_dir=local, attempts=int(v["attempts"]), retry_wait=float(v["retry_wait"]),
                   ring_timeout=int(v["ring_timeout"]))  # fmt: skip

    def seen_by_asterisk(self, local: Path) -> str:
        """A file under the local folder, as Asterisk names it."""
        return f"{self.asterisk_dir}/{local.relative_to(self.local_dir).as_posix()}"
