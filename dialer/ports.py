"""What the dialer uses of the runtime: the narrow ports of ``engine.ports`` and the clock, in one bundle so a
runner's parts name them once (``Engine`` satisfies every port; tests hand fakes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.clock import Clock
from engine.ports import Actions, Calls, Ledger, Spawner


@dataclass(frozen=True)
class DialerPorts:
    actions: Actions  # Originate, Hangup; ``ready``: the link is up and resynced
    ledger: Ledger  # the compliance facts (through ``dialer.notifier``)
    calls: Calls  # the call model: a dial's channel, an agent's session
    spawner: Spawner  # a dial's own tasks (resolve, record, wrap-up)
    clock: Clock

    @classmethod
    def of(cls, runtime: Any) -> DialerPorts:
        """All of them from one object that satisfies each (the composition root's ``Engine``)."""
        return cls(runtime, runtime, runtime, runtime, runtime.clock)
