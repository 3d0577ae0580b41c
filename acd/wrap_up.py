"""Wrap-up after a call: wait out the service's wrap-up, then put its length in the ledger.

Handle time (docs/metrics.md#aht) is talk + hold + wrap-up, and wrap-up runs from the call's end until the agent is
ready again: the timer, an early end by the agent (``*``-code or page), or a log-out, whichever comes first.
The agent machine's own history says which, so the length is read from it rather than assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from acd.agent_state import AgentMachine, Effect, State
from engine.clock import Clock

if TYPE_CHECKING:
    from acd.notifier import Notifier


def wrap_up_end(history: Sequence[tuple[float, str, str]], began: float) -> float | None:
    """When the wrap-up that began at ``began`` ended: the first later mark in another state."""
    return next((at for at, _status, state in history if at >= began and state != State.WRAP_UP.value), None)


async def finish(clock: Clock, notifier: Notifier, m: AgentMachine, wrap: float, effects: list[Effect],
                 call_id: str, began: float) -> None:  # fmt: skip
    """Wait out the wrap-up started by the hang-up at ``began``; record its length against the call."""
    if any(e.kind == "wrap_up_timer" for e in effects) and m.state is State.WRAP_UP:
        await clock.sleep(wrap)
        if m.state is State.WRAP_UP:
            m.handle("wrap_up_end", clock.now())
    ended = wrap_up_end(m.history, began)
    if ended is None or ended <= began:
        return  # no wrap-up (0 s for the service)
    await notifier.wrap_up(call_id, m.agent_id, began, ended)
