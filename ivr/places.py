"""Where the IVR's files live, as this machine sees them: built prompts, the menu snapshot for the
degraded script, and Asterisk's CDR file. With ``asterisk.lab`` they are inside the lab's root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config import Site
from ivr.settings import IvrSettings

AGI_BUNDLE_IN_ROOT = "usr/share/asterisk/agi-bin/hotline"  # astagidir (asterisk-conf/asterisk.conf) + hotline/
CDR_IN_ROOT = "var/log/asterisk/cdr-csv/Master.csv"
CEL_IN_ROOT = "var/log/asterisk/cel-custom/Master.csv"  # asterisk-conf/cel_custom.conf


@dataclass(frozen=True)
class IvrPlaces:
    prompt_dir: str  # as Asterisk sees it (what STREAM FILE gets)
    prompt_local: Path | None
    snapshot: Path | None
    cdr: Path | None


def ivr_places(site: Site) -> IvrPlaces:
    return places_for(IvrSettings.of(site["ivr"]), site["asterisk"]["lab"])


def places_for(ivr: IvrSettings, lab: bool) -> IvrPlaces:
    """``lab``: the site's ``asterisk.lab`` (the places default to the lab's inside its root)."""
    if lab:
        from engine.lab import Lab, default_lab_dir

        root = Lab(default_lab_dir()).root

        def given_or(given: str, inside: str) -> Path:
            return Path(given).expanduser() if given else root / inside

        return IvrPlaces(
            ivr.prompt_dir,
            given_or(ivr.prompt_local_dir, ivr.prompt_dir.lstrip("/")),
            given_or(ivr.snapshot_file, f"{AGI_BUNDLE_IN_ROOT}/menu.json"),
            given_or(ivr.cdr_file, CDR_IN_ROOT),
        )
    opt = lambda v: Path(v).expanduser() if v else None  # noqa: E731
    return IvrPlaces(ivr.prompt_dir, opt(ivr.prompt_local_dir), opt(ivr.snapshot_file), opt(ivr.cdr_file))


def cel_file(site: Site) -> Path:
    """Asterisk's CEL file as this machine sees it: the site's, else the lab's, else Asterisk's default place."""
    given = site["asterisk"]["cel_file"]
    if given:
        return Path(given).expanduser()
    if site["asterisk"]["lab"]:
        from engine.lab import Lab, default_lab_dir

        return Lab(default_lab_dir()).root / CEL_IN_ROOT
    return Path("/") / CEL_IN_ROOT
