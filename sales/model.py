"""Orders (pure): what an agent's sale records, read from its fields and folded from the ledger's facts.

An order is taken with the sale disposition of an outbound conversation: ``sale.order`` (version 1). A team lead
corrects it only by a new version, ``sale.corrected``, naming the version it corrects and why; no version is
ever changed or removed, so an order's history is its facts in order. Sums are in hundredths of the currency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.model.facts import Fact

KINDS = ("sale.order", "sale.corrected")
MAX_QUANTITY = 9999
MAX_AMOUNT = 100_000_000  # hundredths: one million in an order is a typing error, not a sale
_MONEY = re.compile(r"\d{1,9}(\.\d{1,2})?")


class OrderError(ValueError):
    """An order's field that cannot be taken: the message names the field."""


@dataclass(frozen=True)
class OrderFields:
    product: str
    quantity: int
    amount: int  # hundredths

    def as_data(self) -> dict[str, Any]:
        return {"product": self.product, "quantity": self.quantity, "amount": self.amount}


def money(text: str) -> int:
    """``"199.5"`` -> 19950 hundredths; OrderError for anything else than a sum with at most two decimals."""
    text = text.strip()
    if not _MONEY.fullmatch(text):
        raise OrderError(f"amount {text!r}: a sum with at most two decimals, e.g. 199.50")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def order_fields(values: Mapping[str, Any], products: Iterable[str] = ()) -> OrderFields:
    """The product, quantity and amount of an order as a page or the API sends them (strings or numbers)."""
    product = str(values.get("product", "")).strip()
    known = tuple(products)
    if not product:
        raise OrderError("product: name the product sold")
    if len(product) > 80:
        raise OrderError("product: at most 80 characters")
    if known and product not in known:
        raise OrderError(f"product {product!r}: not one of the site's products ({', '.join(known)})")
    q = str(values.get("quantity", "")).strip()
    if not (q.isascii() and q.isdigit()) or not 1 <= int(q) <= MAX_QUANTITY:
        raise OrderError(f"quantity {q!r}: a whole number 1-{MAX_QUANTITY}")
    raw = values.get("amount", "")
    # a JSON number is read as it was written (199.5, not 199.499999...); three decimals are refused, not rounded
    amount = money(str(Decimal(repr(raw))) if isinstance(raw, float) else str(raw))
    if not 0 < amount <= MAX_AMOUNT:
        raise OrderError(f"amount: more than 0 and at most {MAX_AMOUNT // 100}")
    return OrderFields(product, int(q), amount)


def parse_order(text: str, products: Iterable[str] = ()) -> OrderFields:
    """An order sent as one JSON object (the service API's ``arg``)."""
    try:
        values = json.loads(text)
    except ValueError:
        raise OrderError('an order is a JSON object: {"product": ..., "quantity": ..., "amount": ...}') from None
    if not isinstance(values, dict):
        raise OrderError('an order is a JSON object: {"product": ..., "quantity": ..., "amount": ...}')
    return order_fields(values, products)


@dataclass(frozen=True)
class Version:
    order: str
    version: int
    at: float  # when this version was written
    call: str
    agent: str  # the seller, in every version
    team: str
    campaign: str
    lead: Any
    product: str
    quantity: int
    amount: int
    by: str  # who wrote this version
    by_role: str
    reason: str = ""  # a correction's

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order, "version": self.version, "at": self.at, "call": self.call, "agent": self.agent,
                "team": self.team, "campaign": self.campaign, "lead": self.lead, "product": self.product,
                "quantity": self.quantity, "amount": self.amount, "by": self.by, "by_role": self.by_role,
                "reason": self.reason}  # fmt: skip


def _version(f: Fact) -> Version:
    d = f.data
    return Version(str(d["order"]), int(d["version"]), f.at, f.call_id, str(d.get("agent", "")),
                   str(d.get("team", "")), str(d.get("campaign", "")), d.get("lead"), str(d.get("product", "")),
                   int(d.get("quantity", 0)), int(d.get("amount", 0)), str(d.get("by", "")),
                   str(d.get("by_role", "")), str(d.get("reason", "")))  # fmt: skip


@dataclass
class Order:
    versions: list[Version]  # oldest first

    @property
    def id(self) -> str:
        return self.versions[0].order

    @property
    def placed_at(self) -> float:
        return self.versions[0].at

    @property
    def now(self) -> Version:
        return self.versions[-1]

    def as_dict(self) -> dict[str, Any]:
        return {**self.now.as_dict(), "placed_at": self.placed_at, "versions": [v.as_dict() for v in self.versions]}


def fold(facts: Iterable[Fact]) -> dict[str, Order]:
    """Orders from their facts, any order, repeats ignored; a correction without its order (read from a range that
    began after the order) is left out."""
    by: dict[str, dict[int, Version]] = {}
    for f in facts:
        if f.kind in KINDS:
            v = _version(f)
            by.setdefault(v.order, {}).setdefault(v.version, v)
    return {oid: Order([vs[n] for n in sorted(vs)]) for oid, vs in by.items() if 1 in vs}
