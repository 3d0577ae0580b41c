"""Files and folders a command writes when it is done, checked before it starts: a long run must not end
in a traceback because its report has nowhere to go."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.cli import sitefile

# where --json is a plain flag (print as JSON) its value is a bool: not a file
FILE_OPTIONS = ("json", "csv", "xlsx", "plot")
FOLDER_OPTIONS = ("out",)


def file_problem(path: str) -> str | None:
    p = Path(path)
    if p.is_dir():
        return "is a folder"
    existed = p.exists()
    try:
        with p.open("a"):  # append mode: an existing file is left as it is
            pass
    except OSError as exc:
        return f"cannot write it ({exc.strerror})"
    if not existed:
        p.unlink()  # only a probe: the command writes it at its end
    return None


def folder_problem(path: str) -> str | None:
    p = Path(path).absolute()
    existing = next(q for q in (p, *p.parents) if q.exists())
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing}"
    return None


def check(args: argparse.Namespace) -> None:
    """Exit 2 with one line naming the option and path when an output cannot be written."""
    command = " ".join(filter(None, [args.command, getattr(args, f"{args.command}_command", None)]))
    for options, problem in ((FILE_OPTIONS, file_problem), (FOLDER_OPTIONS, folder_problem)):
        for name in options:
            value = getattr(args, name, None)
            if isinstance(value, str) and (why := problem(value)):
                sitefile.fail(f"hotline {command}: --{name} {value}: {why}")
