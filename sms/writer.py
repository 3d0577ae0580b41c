"""A batch's facts written a few at a time: one transaction for all the facts of a short while, instead of one
a message. A send waits until its intent (``sms.sending``) is written, so a batch stopped at any point
(killed, or the machine down) leaves a trace of every message that may have gone out; the outcomes
(sent, refused, skipped) are written with the next batch of facts and need not be waited for.

Why: the engine writes two delivery reports a message into the same store, and two processes writing one
SQLite file a few hundred times a second wait on each other's locks; a batch then crawled at about 60 messages a
second whatever its rate.
"""

from __future__ import annotations

import asyncio

from engine.model.facts import Fact
from engine.ports import Ledger

GATHER = 0.02  # seconds a first fact waits for others before they are written together


class FactWriter:
    def __init__(self, ledger: Ledger, gather: float = GATHER) -> None:
        self.ledger, self.gather = ledger, gather
        self.pending: list[Fact] = []
        self.written: asyncio.Future[None] | None = None  # done when the pending facts are written
        self.wake = asyncio.Event()
        self.failed: BaseException | None = None

    def note(self, fact: Fact) -> asyncio.Future[None]:
        """Write ``fact`` with the next batch; the future is done once it is written."""
        if self.failed is not None:
            raise self.failed
        if self.written is None:
            self.written = asyncio.get_running_loop().create_future()
            self.written.add_done_callback(lambda f: f.cancelled() or f.exception())  # read: never "unretrieved"
        self.pending.append(fact)
        self.wake.set()
        return self.written

    async def durable(self, fact: Fact) -> None:
        await self.note(fact)

    async def run(self) -> None:
        """Named task: write what was noted, a short while after the first of it."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            await asyncio.sleep(self.gather)
            await self.flush()

    async def flush(self) -> None:
        batch, written = self.pending, self.written
        self.pending, self.written = [], None
        if not batch or written is None:
            return
        try:
            await self.ledger.record(batch)
        except Exception as exc:  # noqa: BLE001 - handed to whoever waits, and to the next note
            self.failed = exc
            written.set_exception(exc)
        else:
            written.set_result(None)
