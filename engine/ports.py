"""Narrow interfaces between features: one side implements, the other is handed it by the composition root,
and neither imports the other's internals."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class InboundLoad:
    """Inbound callers as a blended floor sees them: they go first, so a pacer leaves agents for them."""

    waiting: int  # callers waiting now whom at least one of the agents may take at their current rule step
    rate: float  # recent arrivals per second of the services those agents may take


class InboundView(Protocol):
    """The ACD's answer to the dialer: how much inbound work is waiting for (or coming to) these agents."""

    def load_for(self, agents: Collection[str]) -> InboundLoad: ...
