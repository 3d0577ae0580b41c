"""SMS's wiring: the composition root's HTTP listener serves the gateway's callbacks when the site names a
gateway (``[sms] gateway``), and ``install`` starts the sender of messages after calls when it has
``[[sms.after]]`` rules; the send command builds its ``Outbox`` from the same settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from starlette.routing import BaseRoute

from dialer.leads import LeadStore
from engine.app import Engine
from engine.store.tables import call_records
from sms.notices import read_rules
from sms.routes import sms_routes
from sms.sender import NoticeSender
from sms.settings import SmsSettings


def callback_routes(engine: Engine) -> list[BaseRoute]:
    site = engine.site
    if not site["sms"]["gateway"]:
        return []
    rules = SmsSettings.of(site["sms"], site.path.parent)
    return sms_routes(rules.token, engine, engine.clock.now, rules.opt_out_words, site["hotline"]["region"])


def install(engine: Engine) -> NoticeSender | None:
    site = engine.site
    sql = getattr(engine.store, "engine", None)  # the virtual PBX's in-memory store keeps no tables
    if not site["sms"]["gateway"] or not site["sms"]["after"] or sql is None:
        return None
    folder = site.path.parent
    leads = LeadStore(sql)

    async def records(since: float) -> list[Mapping[str, Any]]:
        q = select(call_records).where(call_records.c.ended_at >= since)
        async with sql.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def blocked(phone: str, campaign: str) -> bool:
        return await leads.is_dnc(phone, campaign)

    sender = NoticeSender(read_rules(site["sms"]["after"], folder), SmsSettings.of(site["sms"], folder),
                          ledger=engine, records=records, blocked=blocked, clock=engine.clock,
                          site_tz=site["site"]["timezone"], region=site["hotline"]["region"])  # fmt: skip
    engine.features["sms"] = sender
    engine.fact_hooks.append(sender.on_facts)
    engine.record_hooks.append(sender.on_record)
    engine.feature_tasks.append(("sms-notices", sender.run))
    return sender
