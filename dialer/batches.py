"""Lead batches' quality (pure): what a purchased lead file came to, so buyers can compare sources.

A batch is one imported file. Its figures come from its counts at import (rows, valid numbers, numbers repeated
in the file or already in the campaign), its leads as the store has them (dialed or not, on a do-not-call list),
and the ledger's facts about them: ``outbound.placed`` names a dial's lead, ``outbound.connect`` makes that dial
a conversation, ``sale.order`` names the lead an order was taken from (its amount as last corrected). Once the
batch's personal data is destroyed these figures are kept as they were (``lead_batches.figures``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from engine.model.facts import Fact
from sales.model import KINDS as SALE_KINDS
from sales.model import fold

FACT_KINDS = ("outbound.placed", "outbound.connect", "sale.order", "sale.corrected")
FORMULAS: dict[str, str] = {
    "valid_share": "valid ÷ file_rows: rows with a number that may be dialed",
    "duplicate_share": "(repeated + already) ÷ valid: numbers repeated in the file or bought before",
    "dnc_share": "dnc ÷ imported: the batch's leads on the campaign's or the global do-not-call list",
    "connect_rate": "connected ÷ dialed: leads dialed at least once that reached an agent at least once",
    "conversations_per_1000": "conversations × 1000 ÷ imported",
    "sales_per_1000": "sales (orders) × 1000 ÷ imported",
    "cost_per_lead": "cost ÷ imported",
    "cost_per_sale": "cost ÷ sales (no sale: none)",
}  # fmt: skip


def _ratio(a: float, b: float, digits: int = 4) -> float | None:
    return round(a / b, digits) if b else None


def outcomes(facts: Iterable[Fact], lead_ids: Iterable[int]) -> dict[int, Counter[str]]:
    """Per lead of ``lead_ids``: its dials, conversations and sales in the facts."""
    mine = set(lead_ids)
    lead_of: dict[str, int] = {}
    out: dict[int, Counter[str]] = {}
    facts = sorted(facts, key=lambda f: f.at)
    for f in facts:
        lead = f.data.get("lead")
        if f.kind == "outbound.placed" and lead in mine:
            lead_of[f.call_id] = lead
            out.setdefault(lead, Counter())["dials"] += 1
    for f in facts:
        if f.kind == "outbound.connect" and f.call_id in lead_of:
            out.setdefault(lead_of[f.call_id], Counter())["conversations"] += 1
    for order in fold(f for f in facts if f.kind in SALE_KINDS).values():  # each at its newest version
        if order.now.lead in mine:
            c = out.setdefault(order.now.lead, Counter())
            c["sales"] += 1
            c["amount"] += order.now.amount
    return out


def quality(batch: Mapping[str, Any], leads: Iterable[Mapping[str, Any]], dnc: int,
            per_lead: Mapping[int, Counter[str]]) -> dict[str, Any]:  # fmt: skip
    """The figures of one batch: ``batch`` its lead_batches row, ``leads`` its leads (``id``, ``attempts``),
    ``dnc`` how many of them are on a do-not-call list, ``per_lead`` from ``outcomes``."""
    rows = list(leads)
    imported = int(batch["imported"])
    dialed = sum(1 for r in rows if int(r.get("attempts") or 0) > 0 or per_lead.get(r["id"], {}).get("dials"))
    connected = sum(1 for r in rows if per_lead.get(r["id"], {}).get("conversations"))
    conversations = sum(c["conversations"] for c in per_lead.values())
    sales = sum(c["sales"] for c in per_lead.values())
    amount = sum(c["amount"] for c in per_lead.values())
    cost = int(batch["cost"])
    return {
        "batch": batch["id"], "campaign": batch["campaign"], "source": batch["source"], "team": batch["team"],
        "file": batch["file"], "imported_at": batch["imported_at"], "file_rows": batch["file_rows"],
        "valid": batch["valid"], "repeated": batch["repeated"], "already": batch["already"], "imported": imported,
        "dnc": dnc, "dialed": dialed, "connected": connected, "conversations": conversations, "sales": sales,
        "sales_amount": round(amount / 100, 2), "cost": round(cost / 100, 2),
        "valid_share": _ratio(batch["valid"], batch["file_rows"]),
        "duplicate_share": _ratio(batch["repeated"] + batch["already"], batch["valid"]),
        "dnc_share": _ratio(dnc, imported), "connect_rate": _ratio(connected, dialed),
        "conversations_per_1000": _ratio(conversations * 1000, imported, 1),
        "sales_per_1000": _ratio(sales * 1000, imported, 1),
        "cost_per_lead": _ratio(cost / 100, imported, 2), "cost_per_sale": _ratio(cost / 100, sales, 2),
    }  # fmt: skip
