"""The callers in line, as the ACD's parts share them: who waits (and in which service, in which place), who
is being offered to an agent, who is talking, who the IVR is handing over now; and the wake-up of the
decision loop. The router is kept in step here: a caller joins or leaves both at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from acd.queued import Queued
from acd.router import Caller, Router


class Line:
    def __init__(self, router: Router, default_service: str) -> None:
        self.router = router
        self.default_service = default_service  # the hotline's: unknown services are queued here
        self.queued: dict[str, Queued] = {}  # call id -> caller in line (on the phone, or a call back)
        self.offering: dict[str, str] = {}  # agent -> call being offered to it
        self.connected: dict[str, Queued] = {}  # caller uniqueid -> its call, while it talks to an agent
        self.handing_over: set[str] = set()  # callers the IVR is handing over now: a resync leaves them to it
        self.wake = asyncio.Event()
        # told of a service whose line changed (a caller joined or left): the wallboard shows it at once
        self.observers: list[Callable[[str], None]] = []

    def kick(self) -> None:
        """Something changed: the decision loop looks again now, not at its next tick."""
        self.wake.set()

    @staticmethod
    def caller(q: Queued) -> Caller:
        """The router's view of a waiting caller: its place (entry time), priority and extra skills from the IVR."""
        return Caller(q.waiting.call_id, q.service, q.entered_at, q.waiting.priority, dict(q.waiting.skills),
                      frozenset(q.missed))  # fmt: skip

    def join(self, q: Queued) -> None:
        self.queued[q.waiting.call_id] = q
        self.router.enqueue(self.caller(q))
        self._changed(q.service)

    def back_in_line(self, q: Queued) -> None:
        """An offer failed: the caller stays in ``queued`` and goes back to the router, in its place."""
        self.router.enqueue(self.caller(q))

    def leave(self, call_id: str) -> None:
        q = self.queued.pop(call_id)
        self.router.remove(call_id)
        self._changed(q.service)

    def _changed(self, service: str) -> None:
        for tell in self.observers:
            tell(service)

    def service_for(self, name: str) -> str:
        return name if name in self.router.services else self.default_service

    def being_offered(self) -> set[str]:
        return set(self.offering.values())

    def next_position(self, service: str) -> int:
        return 1 + sum(1 for q in self.queued.values() if q.service == service)

    def positions(self) -> dict[str, int]:
        """Each waiting caller's place in its service (call backs hold places too)."""
        by_service: dict[str, list[tuple[float, str]]] = {}
        for call_id, q in self.queued.items():
            by_service.setdefault(q.service, []).append((q.entered_at, call_id))
        out = {}
        for line in by_service.values():
            for i, (_, call_id) in enumerate(sorted(line), start=1):
                out[call_id] = i
        return out

    def tracked(self, call_id: str) -> bool:
        """In line, being handed over, offered or talking: the ACD has this call already."""
        return (call_id in self.queued or call_id in self.handing_over or call_id in self.offering.values()
                or any(q.waiting.call_id == call_id for q in self.connected.values()))  # fmt: skip
