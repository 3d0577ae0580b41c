"""Narrow interfaces between features: one side implements, the other is handed it by the composition root,
and neither imports the other's internals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.model.calls import CallModel
    from engine.model.facts import Fact
    from engine.model.records import CallRecord


@dataclass(frozen=True)
class InboundLoad:
    """Inbound callers as a blended floor sees them: they go first, so a pacer leaves agents for them."""

    waiting: int  # callers waiting now whom at least one of the agents may take at their current rule step
    rate: float  # recent arrivals per second of the services those agents may take


class InboundView(Protocol):
    """The ACD's answer to the dialer: how much inbound work is waiting for (or coming to) these agents."""

    def load_for(self, agents: Collection[str]) -> InboundLoad: ...


# ---- the runtime's ports: what a feature may use of the engine, handed in by the composition root -------------
# A feature takes the few of these it needs instead of the whole ``Engine`` (a service locator): its constructor
# says what it touches, and a test hands it fakes. ``Engine`` satisfies all of them; the virtual PBX sits behind
# the same link and FastAGI interfaces as a transport.


class Actions(Protocol):
    """AMI actions to Asterisk, and whether the link is up and resynced (decide only on a true picture)."""

    ready: asyncio.Event

    async def action(self, headers: dict[str, Any], *, as_list: bool = False, timeout: float | None = None) -> Any: ...


class Ledger(Protocol):
    """The append-only facts: write (idempotent by key) and read back."""

    async def record(self, facts: list[Fact]) -> None: ...

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None: ...

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]: ...  # fmt: skip


class Calls(Protocol):
    """The live call model (read it, tag a leg one places) and waiting on it in the engine's clock."""

    model: CallModel

    async def until(self, predicate: Callable[[], bool], timeout: float) -> bool: ...

    async def caught_up(self, timeout: float) -> bool: ...


class Spawner(Protocol):
    """Background tasks the runtime keeps a reference to and logs when they fail."""

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]: ...


class Routes(Protocol):
    """FastAGI routes: a script name to the handler of its sessions."""

    def route(self, name: str, handler: Any) -> None: ...


class Records(Protocol):
    """Call records derived from the ledger (the store): derive one again, find calls without an end or a record."""

    async def update_record(self, call_id: str) -> CallRecord | None: ...

    async def open_calls(self, since: float) -> list[str]: ...

    async def unrecorded_calls(self, since: float) -> list[str]: ...
