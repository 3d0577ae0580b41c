"""The demo's knowledge base: two answers the training staff would have written, one in each language, so the
agent page's search finds something in `make run`."""

from __future__ import annotations

from typing import Any

from engine.policy import Actor, Role

ARTICLES = (
    {"lang": "zh", "title": "如何办理退款", "tags": "退款, 售后",
     "body": "客户要求退款时：\n\n1. 先核对订单号和收货日期；\n2. 收货七天内按**七天无理由**流程办理；\n"
             "3. 超过七天的，登记工单交组长处理。"},
    {"lang": "en", "title": "Changing the delivery address", "tags": "delivery, address",
     "body": "An order not yet shipped can be sent elsewhere: confirm the order number, read the new address back "
             "to the customer, then note it on the order. Once shipped, the carrier changes it (open a follow-up)."},
)  # fmt: skip


async def seed(kb: Any) -> None:
    by = Actor("demo", Role.ADMIN, via="cli")
    for values in ARTICLES:
        await kb.save(by, dict(values))
