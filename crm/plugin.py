"""The CRM's wiring: the screen pop the agent page asks for each call offered (``engine.features["screen_pop"]``),
and with ``[crm] webhook_url`` the engine POSTs its call, disposition and case events there, signed, from a
named task of its own."""

from __future__ import annotations

from typing import Any

from crm.lookup import CustomerLookup
from crm.pop import ScreenPop
from crm.sender import WebhookSender
from crm.settings import CrmSettings
from engine.app import Engine


def install(engine: Engine) -> WebhookSender | None:
    site = engine.site
    sql = getattr(engine.store, "engine", None)  # the virtual PBX's in-memory store keeps no ledger table
    settings = CrmSettings.of(site["crm"], site.path.parent)
    region = site["hotline"]["region"]
    lookup = CustomerLookup(sql, region, engine.clock.now, settings.customer_keep_days) if sql is not None else None
    def may_read(viewer: Any, case: Any) -> bool:  # the policy's word, looked up when used (built after this)
        return viewer is not None and engine.features["api"].policy.case_refusal(viewer, "read", case) is None

    engine.features["screen_pop"] = ScreenPop(lookup, settings.screen_pop, settings.screen_pop_url, region, may_read)
    if not settings.webhook_url or sql is None:
        return None
    sender = WebhookSender(settings, sql, engine.record, engine.clock)
    engine.features["crm"] = sender
    engine.fact_hooks.append(sender.on_facts)
    engine.feature_tasks.append(("crm-webhooks", sender.run))
    return sender
