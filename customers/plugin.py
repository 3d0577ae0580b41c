"""Customers' wiring: with the SQL store, the records service (``engine.features["customers"]``), the named task
projecting contacts from the ledger (``customer-contacts``) and the hourly destruction of personal data past
``[crm] customer_keep_days`` (``customer-purge``), both on the engine's clock."""

from __future__ import annotations

import logging

from crm.settings import CrmSettings
from customers.projector import ContactProjector
from customers.services import Customers
from customers.store import CustomerStore
from engine.app import Engine
from engine.clock import Clock

log = logging.getLogger(__name__)
PURGE_EVERY = 3600.0  # seconds between retention passes (engine time)


async def purge_hourly(customers: Customers, clock: Clock) -> None:
    while True:
        try:
            await customers.purge(clock.now())
        except Exception as exc:  # noqa: BLE001 - a store error must not stop the calls; the next hour tries again
            # the error's type only: the database driver's message would carry the numbers it was deleting
            log.error("customers: the retention pass failed (%s); the next one tries again", type(exc).__name__)
        await clock.sleep(PURGE_EVERY)


def install(engine: Engine) -> Customers | None:
    sql = getattr(engine.store, "engine", None)
    if sql is None:  # the virtual PBX's in-memory store: no records
        return None
    site = engine.site
    region = site["hotline"]["region"]
    keep_days = CrmSettings.of(site["crm"], site.path.parent).customer_keep_days
    store = CustomerStore(sql, region, keep_days)
    customers = Customers(store, engine.clock.now, lambda: engine.features["api"].policy, keep_days)
    projector = ContactProjector(store, engine.clock, region, keep_days)
    engine.features["customers"] = customers
    engine.fact_hooks.append(projector.on_facts)
    engine.feature_tasks.append(("customer-contacts", projector.run))
    engine.feature_tasks.append(("customer-purge", lambda: purge_hourly(customers, engine.clock)))
    return customers
