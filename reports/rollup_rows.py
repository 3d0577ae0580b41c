"""Bucket rows in bulk: ``Bucket.from_row`` and ``add`` of ``reports.buckets`` with the same results, at a tenth of
their cost (a rebuild handles half a million rows, a year's report tens of thousands): field names looked up once,
plain type tests instead of abstract ones. Rows are stored with their floats whole, not rounded to the
millisecond as ``Bucket.as_row`` gives them: a year's report sums thousands of them, and rounded parts would move
its figures' last digit off the straight count's."""

from __future__ import annotations

from dataclasses import fields
from functools import reduce
from operator import add, attrgetter
from typing import Any

from reports.buckets import Bucket

NAMES = tuple(f.name for f in fields(Bucket))
KEYS = ("start", "service", "agent", "campaign")
DICTS = frozenset(f.name for f in fields(Bucket) if f.default_factory is dict)  # type: ignore[misc]
HIGHEST = frozenset({"wait_max"})
LATEST = frozenset({"last_logout"})
EARLIEST = frozenset({"first_login"})


def row_of(b: Bucket) -> dict[str, Any]:
    """A row for the table: the bucket's fields, count dicts sorted by name."""
    return {k: (dict(sorted(v.items())) if type(v) is dict else v) for k, v in b.__dict__.items()}


def bucket_of(row: Any) -> Bucket:
    """``Bucket.from_row(row)`` for a row holding every field."""
    return Bucket(**{k: (dict(row[k]) if type(row[k]) is not dict and hasattr(row[k], "items") else row[k])
                     for k in NAMES})  # fmt: skip


def add_into(acc: dict[str, Any], row: dict[str, Any]) -> None:
    """``acc`` becomes the ``Bucket.add`` of itself and ``row`` (both rows of ``row_of``; acc keeps its key)."""
    for k, v in row.items():
        if k in KEYS:
            continue
        a = acc[k]
        if k in HIGHEST:
            acc[k] = max(a, v)
        elif k in EARLIEST or k in LATEST:
            if a is None or (v is not None and (v < a if k in EARLIEST else v > a)):
                acc[k] = v
        elif type(v) is dict:
            merged = dict(a)
            for n, x in v.items():
                merged[n] = merged.get(n, 0) + x
            acc[k] = merged
        else:
            acc[k] = a + v


def made(row: dict[str, Any]) -> Bucket:
    """``Bucket(**row)`` for a row holding every field as a plain value, without the frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field: a year's agents report makes tens of thousands)."""
    b = object.__new__(Bucket)
    b.__dict__.update(row)
    return b


def summed(rows: list[Bucket], names: tuple[str, ...] = NAMES) -> Bucket:
    """The ``Bucket.add`` of ``rows`` in their order, keyed by the first: the same sums, added column by column (each
    column's values added left to right, as row after row would add them) rather than row by row. Only the fields
    ``names`` are summed (a report's ``READS``: a year's report sums tens of thousands of rows); the others keep
    the first row's value."""
    first = rows[0]
    if len(rows) == 1:
        return first
    out = dict(first.__dict__)
    for name in names:
        if name in KEYS:
            continue
        values = list(map(attrgetter(name), rows))
        if name in HIGHEST:
            out[name] = max(values)
        elif name in EARLIEST or name in LATEST:
            known = [v for v in values if v is not None]
            out[name] = (min(known) if name in EARLIEST else max(known)) if known else None
        elif name in DICTS:
            merged: dict[str, Any] = {}
            get = merged.get
            for d in values:
                if d:  # most rows hold none: a year's total merges some 28,000 dicts
                    for n, x in d.items():
                        merged[n] = get(n, 0) + x
            out[name] = merged
        else:
            out[name] = reduce(add, values)
    return made(out)
