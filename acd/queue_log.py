"""Asterisk-format queue_log, written by the engine (Asterisk writes none: the engine routes).

File line: ``epoch|callid|queuename|agent|event|data1|data2|...``; table row: time, callid, queuename,
agent, event, data1..data5. Payloads as Asterisk 22 writes (docs/metrics.md#queue-log): ENTERQUEUE url|callerid|pos;
CONNECT holdtime|agent channel uniqueid|ringtime; COMPLETECALLER/COMPLETEAGENT holdtime|talktime|origpos;
ABANDON pos|origpos|waittime; RINGNOANSWER ring ms; PAUSE/UNPAUSE reason; ADDMEMBER/REMOVEMEMBER.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from engine.store.tables import queue_log as queue_log_table

log = logging.getLogger("hotline.queue_log")


def format_line(at: float, callid: str, queue: str, agent: str, event: str, *data: object) -> str:
    """One queue_log line; fields may not contain '|' or line breaks (they would shift every column)."""
    fields = [str(int(at)), callid or "NONE", queue or "NONE", agent or "NONE", event]
    fields += ["" if d is None else str(d) for d in data]
    for f in fields:
        if "|" in f or "\n" in f:
            raise ValueError(f"queue_log field {f!r} contains '|' or a line break")
    return "|".join(fields)


class QueueLog:
    def __init__(self, path: Path | None, store: Any = None) -> None:
        """``store``: the engine's store (its SQL engine takes the table rows; an in-memory store has none)."""
        self.path = path
        self.store = store
        self.engine: AsyncEngine | None = getattr(store, "engine", None)

    async def write(self, at: float, callid: str, queue: str, agent: str, event: str, *data: object) -> str:
        line = format_line(at, callid, queue, agent, event, *data)
        if self.path is not None:
            try:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
            except OSError as exc:
                log.error("queue_log file %s: %s", self.path, exc)
        if self.engine is not None:
            cols = {f"data{i + 1}": ("" if d is None else str(d)) for i, d in enumerate(data[:5])}
            row = {"time": int(at), "callid": callid or "NONE", "queuename": queue or "NONE",
                   "agent": agent or "NONE", "event": event, **cols}  # fmt: skip
            await self.store.write(self._insert(self.engine, row))
        return line

    @staticmethod
    async def _insert(engine: AsyncEngine, row: dict[str, Any]) -> None:
        async with engine.begin() as conn:
            await conn.execute(queue_log_table.insert().values(**row))
