"""[sales]: the daily sales target per agent, the commission split and the products orders may name (the site
file's schema of the section, and its reading). Money is in the site's currency, written in yuan (or dollars...)
with at most two decimals, and kept in hundredths (fen, cents) so no sum is ever off by a rounding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.config_fields import Field

SHARES = ("agent", "team_lead", "director", "others")
DEFAULT_SPLIT = {"agent": 11.0, "team_lead": 1.5, "director": 1.0, "others": 1.5}  # % of sales: 15 % in all


def two_decimals(v: Any) -> bool:
    """A number of 0 or more written with at most two decimals (600.57 is; binary floats are read as written)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        return False
    exponent = Decimal(str(v)).as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def _money(v: Any) -> str | None:
    return None if two_decimals(v) else "must be a sum of 0 or more with at most two decimals"


def _targets(v: Any) -> str | None:
    for day, amount in v.items():
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            return f"{day!r}: not a date (YYYY-MM-DD)"
        if not two_decimals(amount):
            return f"{day}: the target must be a sum of 0 or more with at most two decimals"
    return None


def _split(v: Any) -> str | None:
    bad = [k for k in v if k not in SHARES]
    if bad:
        return f"unknown share(s) {', '.join(bad)}: known are {', '.join(SHARES)}"
    for k, pct in v.items():
        if not isinstance(pct, (int, float)) or isinstance(pct, bool) or not 0 <= pct <= 100:
            return f"{k}: must be a percentage 0-100 of the sales"
    return None if sum(v.values()) <= 100 else "the shares add up to more than 100 % of the sales"


def _products(v: Any) -> str | None:
    if not all(isinstance(p, str) and p.strip() for p in v):
        return "must list product names"
    return None if len(set(v)) == len(v) else "names a product twice"


SALES_FIELDS: dict[str, Field] = {
    "daily_target": Field((int, float), 800, check=_money, doc="sales an agent is to make on each day it works"),
    "targets": Field(dict, {}, check=_targets, doc="the daily target from a date on (\"2026-01-01\" = 600), "
                     "over daily_target: a ramp for new agents' first months"),
    "commission": Field(dict, dict(DEFAULT_SPLIT), check=_split, doc="percent of the sales paid to each share: "
                        "agent (the seller), team_lead (the seller's team's lead), director, others (a pool)"),
    "products": Field(list, [], check=_products, doc="the products an order may name ([]: any name)"),
    "currency": Field(str, "CNY", doc="the currency the sums are in (shown beside them)"),
}  # fmt: skip


def _hundredths(v: float) -> int:
    return int(Decimal(str(v)) * 100)


@dataclass(frozen=True)
class SalesSettings:
    daily_target: int  # hundredths
    targets: tuple[tuple[dt.date, int], ...]  # (from, hundredths), oldest first
    split: dict[str, float]  # share -> percent
    products: tuple[str, ...]
    currency: str

    @classmethod
    def of(cls, values: dict[str, Any]) -> SalesSettings:
        v = {k: values.get(k, f.default) for k, f in SALES_FIELDS.items()}
        targets = sorted((dt.date.fromisoformat(d), _hundredths(a)) for d, a in v["targets"].items())
        split = {k: float(v["commission"].get(k, 0.0)) for k in SHARES}
        return cls(_hundredths(v["daily_target"]), tuple(targets), split, tuple(v["products"]), v["currency"])

    def target_on(self, day: dt.date) -> int:
        """The daily target in force on ``day`` (hundredths)."""
        amount = self.daily_target
        for start, a in self.targets:
            if start <= day:
                amount = a
        return amount
