"""`hotline leads batches` (each batch's quality, to compare sources) and `hotline leads destroy BATCH` (its
personal data destroyed, its figures kept)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Any
from zoneinfo import ZoneInfo

from dialer.batch_store import BatchError, BatchStore
from dialer.batches import FORMULAS
from dialer.leads import forgetting


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f} %"


def _num(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def line(f: dict[str, Any], tz: ZoneInfo) -> str:
    when = dt.datetime.fromtimestamp(f["imported_at"], tz).strftime("%Y-%m-%d %H:%M")
    gone = f" (destroyed {dt.datetime.fromtimestamp(f['destroyed_at'], tz):%Y-%m-%d %H:%M})" if f.get(
        "destroyed_at") else ""  # fmt: skip
    return (f"batch {f['batch']} {f['campaign']} from {f['source']!r} {when}{gone}: cost {_num(f['cost'])}, "
            f"rows {f['file_rows']}, valid {_pct(f['valid_share'])}, duplicates {_pct(f['duplicate_share'])}, "
            f"imported {f['imported']}, do-not-call {_pct(f['dnc_share'])}, dialed {f['dialed']}, connect rate "
            f"{_pct(f['connect_rate'])}, conversations {f['conversations']} ({_num(f['conversations_per_1000'], 1)}"
            f" per 1000), sales {f['sales']} ({_num(f['sales_per_1000'], 1)} per 1000, {_num(f['sales_amount'])})"
            f", cost per lead {_num(f['cost_per_lead'])}, cost per sale {_num(f['cost_per_sale'])}")  # fmt: skip


async def _open(url: str) -> Any:
    from engine.store.store import Store, migrate

    await asyncio.to_thread(migrate, url)
    return Store(url)


async def batches_command(url: str, campaign: str | None, tz: ZoneInfo, as_json: bool) -> int:
    store = await _open(url)
    try:
        batches = BatchStore(store.engine)
        figures = [await batches.figures(b, store.facts) for b in await batches.rows(campaign)]
    finally:
        await store.close()
    if as_json:
        print(json.dumps({"batches": figures, "formulas": FORMULAS}, indent=1, ensure_ascii=False))
        return 0
    for f in figures:
        print(line(f, tz))
    print(f"{len(figures)} batch(es)", file=sys.stderr)
    return 0


async def destroy_command(url: str, batch: int, now: float, tz: ZoneInfo, as_json: bool, region: str = "") -> int:
    store = await _open(url)
    try:
        try:
            forget = forgetting(region) if region else None
            figures = await BatchStore(store.engine, forget).destroy(batch, now, store.facts)
        except BatchError as exc:
            print(f"leads destroy: {exc}", file=sys.stderr)
            return 2
    finally:
        await store.close()
    if as_json:
        print(json.dumps(figures, indent=1, ensure_ascii=False))
    else:
        print(line(figures, tz))
        print(f"batch {batch}: personal data of its leads destroyed; these figures are kept")
    return 0
