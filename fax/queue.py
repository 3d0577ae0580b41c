"""A PDF queued for the fax lines: checked, rendered to the TIFF Asterisk sends, and written to the ledger as a
job (the engine's ``fax-sender`` finds it there). `hotline fax send` and the agent page queue through here."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

from engine.ports import Ledger
from fax import facts as ff
from fax.images import ImageError, pdf_to_tiff
from fax.services import new_job_id
from fax.settings import FaxSettings

NUMBER = re.compile(r"\+?[0-9]{3,20}")
MAX_PDF = 20 * 1024 * 1024  # a fax of a few hundred pages; more is a mistake


def number_problem(number: str) -> str | None:
    return None if NUMBER.fullmatch(number) else f"{number!r} is not a phone number (digits, may begin with +)"


async def queue_pdf(s: FaxSettings, ledger: Ledger, pdf: Path | bytes, name: str, number: str, *, case: str = "",
                    by: str = "") -> tuple[str, int]:  # fmt: skip
    """Queue ``pdf`` (a file, or the bytes of one, called ``name`` in messages) for ``number``; returns the job and
    its page count. ImageError, naming ``name``, for what is not a PDF Ghostscript can render: nothing queued."""
    job = new_job_id()
    out = s.local_dir / "out"
    copy = out / f"{job}.pdf"

    def keep() -> None:
        out.mkdir(parents=True, exist_ok=True)
        if isinstance(pdf, bytes):
            copy.write_bytes(pdf)
        else:
            shutil.copyfile(pdf, copy)

    await asyncio.to_thread(keep)
    try:
        pages = await asyncio.to_thread(pdf_to_tiff, copy, copy.with_suffix(".tif"))
    except ImageError as exc:
        copy.unlink(missing_ok=True)
        raise ImageError(str(exc).replace(str(copy), name)) from None
    await ledger.fact(ff.QUEUED, job, job, ff.queued_key(job), number=number, pages=pages, pdf=str(copy),
                      tiff=s.seen_by_asterisk(copy.with_suffix(".tif")), case=case, source=name, by=by)  # fmt: skip
    return job, pages
