"""A report as a download: JSON, CSV, xlsx or PNG bytes, written by reports/export.py (the command line's writers)
to a temporary file and read back. Called off the event loop: a workbook or a plot takes tens of milliseconds."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports import export
from reports.services import Query

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "png": "image/png",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip
_PLOTTING = threading.Lock()  # matplotlib's pyplot keeps global state: one plot at a time
WRITERS = {"json": export.write_json, "csv": export.write_csv, "xlsx": export.write_xlsx, "png": export.write_plot}


def as_bytes(report: Mapping[str, Any], fmt: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="hotline-report-") as tmp:
        path = Path(tmp) / f"report.{fmt}"
        if fmt == "png":
            with _PLOTTING:
                export.write_plot(report, str(path))
        else:
            WRITERS[fmt](report, str(path))
        return path.read_bytes()


def file_name(q: Query, fmt: str) -> str:
    """agents-2026-12-01-2026-12-02.csv: the report's name and days (fixed names and ISO dates: safe as they are)."""
    return f"{q.name}-{q.first.isoformat()}-{q.last.isoformat()}.{fmt}"
