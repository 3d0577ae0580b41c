"""Background tasks with an owner: kept referenced, named, failures logged, cancelled together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any


class TaskSet:
    def __init__(self, log: logging.Logger, what: str) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._log = log
        self._what = what

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self._log.error("%s task %s failed", self._what, name, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
