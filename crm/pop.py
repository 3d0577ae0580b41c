"""The screen pop's look-up for the agent page: the customer's card from the store and the external CRM's URL,
as ``[crm] screen_pop`` asks, for the page's viewer (a case it may not read is shown without its note). A failed
look-up pops a card saying so (logged with the call and the error's type only: the database driver's message
would carry the number); the call goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from crm.customers import customer_number
from crm.lookup import CustomerLookup
from crm.screen_pop import pop_url

log = logging.getLogger(__name__)


CaseReader = Callable[[Any, Mapping[str, Any]], bool]  # (the page's viewer, a case's row) -> may read it


class ScreenPop:
    def __init__(self, lookup: CustomerLookup | None, mode: str, template: str, region: str,
                 may_read: CaseReader = lambda viewer, case: True) -> None:  # fmt: skip
        self.lookup = lookup if mode in ("card", "both") else None
        self.template = template if mode in ("url", "both") else ""
        self.region = region  # the external CRM is handed the number in E.164, however the call gave it
        self.may_read = may_read

    async def __call__(self, fields: dict[str, Any], viewer: Any = None) -> tuple[dict[str, Any] | None, str]:
        card = None
        if self.lookup is not None:
            try:
                found = await self.lookup.card(str(fields.get("number", "")), str(fields.get("call", "")),
                                               lambda case: self.may_read(viewer, case))  # fmt: skip
                card = found.as_dict() if found is not None else None
            except Exception as exc:  # noqa: BLE001 - a store hiccup costs the card, not the page
                log.error("screen pop: the card of call %s could not be read (%s)", fields.get("call"),
                          type(exc).__name__)  # fmt: skip
                card = {"failed": True}
        if not self.template:
            return card, ""
        number = str(fields.get("number", ""))
        return card, pop_url(self.template, {**fields, "number": customer_number(number, self.region) or number})
