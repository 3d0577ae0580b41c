"""Fax images with Debian's tools: a PDF to send becomes a TIFF at fax fine resolution (Ghostscript), a TIFF
received becomes a PDF (libtiff's tiff2pdf). Blocking: callers run these in a thread."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# T.4's A4 line: 1728 dots at 204 per inch; fine resolution 196 lines per inch, so 2292 lines to an A4 page
WIDTH, HEIGHT, RESOLUTION = 1728, 2292, "204x196"
TIMEOUT = 120.0
MAX_PAGES = 100  # a fax longer than this is a mistake (and rendering it would hold the machine for minutes)


class ImageError(ValueError):
    """A file that is not what it should be (not a PDF, not a fax TIFF); the message says which and why."""


def _run(args: list[str], what: Path) -> None:
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise ImageError(f"{args[0]} is not installed (scripts/setup.sh installs it)") from None
    except subprocess.TimeoutExpired:
        raise ImageError(f"{what}: {args[0]} took longer than {TIMEOUT:g} s") from None
    if r.returncode != 0:
        why = (r.stderr or r.stdout).strip().splitlines()
        raise ImageError(f"{what}: {args[0]} failed: {why[-1] if why else f'exit {r.returncode}'}")


def pdf_to_tiff(pdf: Path, tiff: Path) -> int:
    """Render ``pdf`` to a G3 TIFF at fine resolution, each page fitted to A4; returns the page count. Written
    beside and renamed, so a half-written TIFF is never sent."""
    tmp = tiff.with_name(tiff.name + ".part")
    _run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=tiffg3", f"-r{RESOLUTION}",
          f"-g{WIDTH}x{HEIGHT}", "-dFIXEDMEDIA", "-dPDFFitPage", f"-dLastPage={MAX_PAGES + 1}",
          f"-sOutputFile={tmp}", str(pdf)], pdf)  # fmt: skip
    pages = tiff_pages(tmp)
    if not 0 < pages <= MAX_PAGES:
        tmp.unlink(missing_ok=True)
        raise ImageError(f"{pdf}: no page to send" if not pages else f"{pdf}: more than {MAX_PAGES} pages")
    os.replace(tmp, tiff)
    return pages


def tiff_pages(tiff: Path) -> int:
    """Pages in a TIFF (0 for a file with none, as a fax cut off before its first page leaves)."""
    if not tiff.exists() or tiff.stat().st_size == 0:
        return 0
    r = subprocess.run(["tiffinfo", str(tiff)], capture_output=True, text=True, timeout=TIMEOUT)
    return r.stdout.count("TIFF Directory at offset")


def tiff_to_pdf(tiff: Path, pdf: Path) -> None:
    """The received TIFF as a PDF, page for page; written beside and renamed, so no half PDF is ever indexed."""
    tmp = pdf.with_name(pdf.name + ".part")
    _run(["tiff2pdf", "-o", str(tmp), str(tiff)], tiff)
    os.replace(tmp, pdf)
