"""What a campaign runner keeps: its agents' always-on seats and its dials in progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acd.board import Board
from dialer.lead_source import LeadRef
from engine.config import Agent


@dataclass
class Seat:
    """An outbound agent's always-on session: answered once, customers bridged in without ringing. Who holds
    the agent and its session's phase live on the agent board (``acd.board``), changed only through its
    operations; the seat reads them."""

    agent: Agent
    board: Board = field(repr=False)
    uniqueid: str = ""
    sessions: int = 0
    last: Dial | None = None  # its last conversation: what a disposition or a call back is about

    @property
    def state(self) -> str:
        """off, joining, idle, talking, wrap, lent (taking a hotline call for the ACD), preview (waiting for
        the answer to the number it chose to dial)."""
        return self.board[self.agent.id].phase.value

    @property
    def channel(self) -> str:
        return self.board[self.agent.id].session

    @property
    def since(self) -> float:
        return self.board[self.agent.id].phase_since

    @property
    def reserved(self) -> bool:
        """Held for the hotline by the ACD's guard: out of pacing, no new customers."""
        return self.board[self.agent.id].guarded


@dataclass
class Dial:
    id: str  # our ChannelId
    lead: LeadRef
    placed: float
    amd: bool
    dial_status: str = ""
    reason: int | None = None
    answered_at: float | None = None
    in_agi: bool = False
    resolved: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    agent: str = ""  # preview mode: the agent who asked for this dial and is reserved for its answer

    @property
    def picked(self) -> float | None:
        """Seconds from the dial to the far end's answer, when the engine saw the channel go up with AMD to
        listen (the pacer learns who answers when from AMD's verdicts; without AMD the answer is the verdict)."""
        return self.answered_at - self.placed if self.answered_at is not None and self.amd else None
