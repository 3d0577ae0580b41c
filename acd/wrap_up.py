"""Wrap-up after a call: wait out the service's wrap-up, then put its length in the ledger.

Handle time (docs/metrics.md#aht) is talk + hold + wrap-up, and wrap-up runs from the call's end until the agent is
ready again: the timer, an early end by the agent (``*``-code or page), or a log-out, whichever comes first.
The agent machine's own history says which, so the length is read from it rather than assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acd.agent_state import AgentMachine, Effect, State
from engine.model.facts import fact_key

FACT = "agent.wrap_up"


def wrap_up_end(history: Sequence[tuple[float, str, str]], began: float) -> float | None:
    """When the wrap-up that began at ``began`` ended: the first later mark in another state."""
    return next((at for at, _status, state in history if at >= began and state != State.WRAP_UP.value), None)


async def finish(engine: Any, m: AgentMachine, wrap: float, effects: list[Effect], call_id: str,
                 began: float) -> None:  # fmt: skip
    """Wait out the wrap-up started by the hang-up at ``began``; record its length against the call."""
    if any(e.kind == "wrap_up_timer" for e in effects) and m.state is State.WRAP_UP:
        await engine.clock.sleep(wrap)
        if m.state is State.WRAP_UP:
            m.handle("wrap_up_end", engine.clock.now())
    ended = wrap_up_end(m.history, began)
    if ended is None or ended <= began:
        return  # no wrap-up (0 s for the service)
    await engine.fact(FACT, call_id, "", fact_key(FACT, call_id, m.agent_id), agent=m.agent_id,
                      seconds=round(ended - began, 3), began=round(began, 3))  # fmt: skip
    await engine.store.update_record(call_id)  # the record was derived at the call's end, before this
