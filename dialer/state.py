"""What a campaign runner keeps: its agents' always-on seats and its dials in progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialer.lead_source import LeadRef
from engine.config import Agent


@dataclass
class Seat:
    """An outbound agent's always-on session: answered once, customers bridged in without ringing."""

    agent: Agent
    state: str = "off"  # off, joining, idle, talking, wrap, lent (taking a hotline call for the ACD),
    # preview (waiting for the answer to the number it chose to dial)
    uniqueid: str = ""
    channel: str = ""
    since: float = 0.0
    sessions: int = 0
    last: Dial | None = None  # its last conversation: what a disposition or a call back is about
    reserved: bool = False  # held for the hotline by the ACD's guard: out of pacing, no new customers


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
