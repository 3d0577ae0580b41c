"""The screen pop's look-up for the agent page: the customer's card from the store and the external CRM's URL,
as ``[crm] screen_pop`` asks. A failed look-up pops no card (and is logged without the number); the call goes on."""

from __future__ import annotations

import logging
from typing import Any

from crm.customers import customer_number
from crm.lookup import CustomerLookup
from crm.screen_pop import pop_url

log = logging.getLogger(__name__)


class ScreenPop:
    def __init__(self, lookup: CustomerLookup | None, mode: str, template: str, region: str) -> None:
        self.lookup = lookup if mode in ("card", "both") else None
        self.template = template if mode in ("url", "both") else ""
        self.region = region  # the external CRM is handed the number in E.164, however the call gave it

    async def __call__(self, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        card = None
        if self.lookup is not None:
            try:
                found = await self.lookup.card(str(fields.get("number", "")), str(fields.get("call", "")))
                card = found.as_dict() if found is not None else None
            except Exception:  # noqa: BLE001 - a store hiccup costs the card, not the page
                log.exception("screen pop: the card of call %s could not be read", fields.get("call"))
        if not self.template:
            return card, ""
        number = str(fields.get("number", ""))
        return card, pop_url(self.template, {**fields, "number": customer_number(number, self.region) or number})
