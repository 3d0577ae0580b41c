"""The cyclic garbage collector held off while a report is built: a year's report makes a hundred thousand objects
(rows, dicts, strings) that all live until it returns, so the collector's passes over them free nothing and cost
a quarter of the build. Only around code that never awaits: nothing else runs meanwhile, and what it leaves is
collected as usual once the pause ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    if _depth == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()
