"""The CRM's wiring: with ``[crm] webhook_url`` the engine POSTs its call, disposition and case events there,
signed, from a named task of its own."""

from __future__ import annotations

from crm.sender import WebhookSender
from crm.settings import CrmSettings
from engine.app import Engine


def install(engine: Engine) -> WebhookSender | None:
    site = engine.site
    sql = getattr(engine.store, "engine", None)  # the virtual PBX's in-memory store keeps no ledger table
    if not site["crm"]["webhook_url"] or sql is None:
        return None
    sender = WebhookSender(CrmSettings.of(site["crm"], site.path.parent), sql, engine.record, engine.clock)
    engine.features["crm"] = sender
    engine.fact_hooks.append(sender.on_facts)
    engine.feature_tasks.append(("crm-webhooks", sender.run))
    return sender
