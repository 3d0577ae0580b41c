"""The cyclic garbage collector held off while a report is built: a year's report makes a hundred thousand objects
(rows, dicts, strings) that all live until it returns, so the collector's passes over them free nothing and cost
a sixth to a quarter of the build. The pause spans the report's reads too (its rows are made as they arrive), so
other tasks run with the collector off meanwhile: reports overlapping for longer than ``LONGEST`` seconds get a
collection anyway, and the outermost pause's end turns it back on."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

LONGEST = 5.0  # seconds the collector may stay off while reports overlap

_depth = 0
_was_enabled = True
_since = 0.0


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled, _since
    if _depth == 0:
        _was_enabled = gc.isenabled()
        _since = time.monotonic()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            if _was_enabled:
                gc.enable()
        elif _was_enabled and time.monotonic() - _since > LONGEST:
            gc.collect()  # overlapping reports kept it off this long: what they left behind is collected now
            _since = time.monotonic()
