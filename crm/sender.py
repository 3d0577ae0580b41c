"""The webhooks' shell: reads the ledger after its mark, POSTs each event (``webhooks.py`` decides the rest), and
writes down each delivery as a fact, so a restart goes on from the next event. One named task of the engine;
the fact hook only wakes it, so a receiver that is slow or down never holds up the engine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm import webhooks as wh
from crm.settings import CrmSettings
from engine.clock import Clock
from engine.model.facts import Fact
from engine.store.tables import call_records, ledger
from reports.rollup_reads import fact_of

log = logging.getLogger("hotline.crm")
BATCH = 100  # ledger rows read at a time
POLL = 5.0  # s between looks at the ledger when no hook woke the sender (facts written by another process)
# s a fact must have been in the ledger before it is sent: PostgreSQL hands out ids when a transaction inserts, not
# when it commits, so a later id can be seen first; reading only settled rows keeps an earlier one from being passed
SETTLE = 2.0


class WebhookSender:
    def __init__(self, settings: CrmSettings, sql: AsyncEngine, record: Callable[[list[Fact]], Awaitable[None]],
                 clock: Clock, transport: httpx.AsyncBaseTransport | None = None, first_wait: float = 1.0,
                 settle: float = SETTLE, poll: float = POLL) -> None:  # fmt: skip
        self.settings = settings
        self.sql = sql
        self.record = record
        self.clock = clock
        self.kinds = wh.source_kinds(settings.groups)
        self._transport = transport  # tests pass a MockTransport; None: the network
        self._first_wait = first_wait
        self._settle, self._poll = settle, poll
        self._wake = asyncio.Event()
        self.mark = -1  # the ledger id of the last event done with (-1 until the task has started)
        self.delivered = 0
        self.refused = 0
        self.failing_since: float | None = None  # when the receiver first failed the event now being tried

    def status(self) -> dict[str, float]:
        """For /metrics: events delivered and refused since the start, and how long the receiver has been failing
        the event now being tried (0 when it is not)."""
        failing = self.clock.now() - self.failing_since if self.failing_since is not None else 0.0
        return {"delivered": float(self.delivered), "refused": float(self.refused), "failing_seconds": failing}

    def on_facts(self, facts: list[Fact]) -> None:
        if any(f.kind in self.kinds for f in facts):
            self._wake.set()

    async def start_mark(self) -> int:
        state = (select(ledger).where(ledger.c.kind.in_(wh.STATE_KINDS), ledger.c.call_id == wh.STATE_CALL)
                 .order_by(ledger.c.id.desc()).limit(1))  # fmt: skip
        async with self.sql.connect() as conn:
            row = (await conn.execute(state)).first()
            newest = (await conn.execute(select(func.max(ledger.c.id)))).scalar() or 0
        mark, first = wh.mark_of(fact_of(row) if row is not None else None, int(newest), self.clock.now())
        if first is not None:
            await self.record([first])
            log.info("webhooks to %s start after ledger fact %d: earlier events are not sent",
                     self.settings.webhook_url, mark)  # fmt: skip
        return mark

    async def run(self) -> None:
        """Named task ``crm-webhooks``. A failure of the store is logged and tried again: the calls go on."""
        while self.mark < 0:
            try:
                self.mark = await self.start_mark()
            except Exception:  # noqa: BLE001 - the store may be starting
                log.exception("crm: reading where the webhooks got to failed; trying again")
                await self.clock.sleep(self._poll)
        async with httpx.AsyncClient(transport=self._transport, timeout=self.settings.timeout) as client:
            while True:
                got: list[tuple[int, Fact]] = []
                try:
                    got = await self._after(self.mark)
                    for delivery, fact in got:
                        await self._deliver(client, delivery, fact)
                        self.mark = delivery
                except Exception:  # noqa: BLE001 - the next pass starts again after the last event written down
                    log.exception("crm: a pass of the webhooks failed; trying again")
                    await self.clock.sleep(self._poll)
                    continue
                if not got:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self._poll)
                        await self.clock.sleep(self._settle)  # woken by a fact just written: let it settle
                    except TimeoutError:
                        pass

    async def _after(self, mark: int) -> list[tuple[int, Fact]]:
        q = (select(ledger).where(ledger.c.id > mark, ledger.c.kind.in_(self.kinds),
                                  ledger.c.recorded_at <= self.clock.now() - self._settle)
             .order_by(ledger.c.id).limit(BATCH))  # fmt: skip
        async with self.sql.connect() as conn:
            return [(int(r.id), fact_of(r)) for r in (await conn.execute(q)).all()]

    async def _record_of(self, fact: Fact) -> dict[str, Any] | None:
        q = select(call_records).where(call_records.c.call_id == fact.call_id)
        async with self.sql.connect() as conn:
            row = (await conn.execute(q)).mappings().first()
        return dict(row) if row is not None else None

    async def _deliver(self, client: httpx.AsyncClient, delivery: int, fact: Fact) -> None:
        record = await self._record_of(fact) if fact.kind == wh.CALL_END else None
        if not wh.wanted(fact, record):
            return
        payload = wh.event(delivery, fact, record)
        raw = wh.body(payload)
        tries = wh.Tries(self.settings.retry_max, self._first_wait)
        while True:
            status, detail = await self._post(client, payload["event"], delivery, raw)
            answer = wh.judge(status)
            if answer is wh.Answer.RETRY:
                self.failing_since = self.failing_since or self.clock.now()
                wait = tries.wait()
                log.warning("webhook %d (%s) not taken by %s: %s; trying again in %.0f s", delivery, payload["event"],
                            self.settings.webhook_url, detail, wait)  # fmt: skip
                await self.clock.sleep(wait)
                continue
            self.failing_since = None
            kind = wh.SENT if answer is wh.Answer.DELIVERED else wh.REFUSED
            if answer is wh.Answer.REFUSED:
                log.warning("webhook %d (%s) refused by %s: %s; not sent again", delivery, payload["event"],
                            self.settings.webhook_url, detail)  # fmt: skip
            await self.record([wh.outcome(kind, delivery, payload["event"], self.clock.now(), status,
                                          tries.failed + 1, detail if kind == wh.REFUSED else "")])  # fmt: skip
            # counted once written down: /metrics and whoever waits on the counts see only what a restart keeps
            if answer is wh.Answer.REFUSED:
                self.refused += 1
            else:
                self.delivered += 1
            return

    async def _post(self, client: httpx.AsyncClient, name: str, delivery: int, raw: bytes) -> tuple[int | None, str]:
        headers = {"Content-Type": "application/json", "X-Hotline-Event": name, "X-Hotline-Delivery": str(delivery),
                   wh.SIGNATURE_HEADER: wh.sign(self.settings.secret, int(self.clock.now()), raw)}  # fmt: skip
        try:
            r = await client.post(self.settings.webhook_url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        # the status only: a receiver's body may echo a customer's number, and logs stay masked
        return r.status_code, f"HTTP {r.status_code} {r.reason_phrase}"
