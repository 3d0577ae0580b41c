"""A team lead listens to, whispers to or barges in on an agent's call: ChanSpy rung on the lead's phone.

The lead's phone is originated into ``ChanSpy`` on the agent's channel prefix (``PJSIP/<endpoint>-``, the dash so
that endpoint 100 never matches 1001): ``q`` no beep, ``E`` leave when the agent's call ends, ``w`` the agent
alone hears the lead (whisper), ``B`` both parties hear the lead (barge).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

OPTIONS = {"listen": "qE", "whisper": "qEw", "barge": "qEB"}
RING_SECONDS = 30  # the lead's phone rings this long before the request lapses


def spy_originate(agent_endpoint: str, lead_phone: str, mode: str, agent_id: str) -> dict[str, str]:
    """The Originate that puts ``lead_phone`` on the agent's call in ``mode`` (pure)."""
    return {"Action": "Originate", "Channel": f"PJSIP/{lead_phone}", "Application": "ChanSpy",
            "Data": f"PJSIP/{agent_endpoint}-,{OPTIONS[mode]}", "CallerID": f'"{mode} {agent_id}" <{agent_id}>',
            "Timeout": str(RING_SECONDS * 1000), "Async": "true"}  # fmt: skip


class Monitor:
    def __init__(self, action: Callable[[dict[str, str]], Awaitable[Any]], endpoints: Mapping[str, str],
                 on_call: Callable[[str], bool]) -> None:  # fmt: skip
        self.action = action  # the AMI link's action
        self.endpoints = endpoints  # agent id -> PJSIP endpoint
        self.on_call = on_call

    async def __call__(self, agent_id: str, lead_phone: str, mode: str) -> str:
        if mode not in OPTIONS:
            raise ValueError(f"unknown monitor mode {mode!r}")
        if not self.on_call(agent_id):
            raise ValueError(f"{agent_id} is not on a call")
        await self.action(spy_originate(self.endpoints[agent_id], lead_phone, mode, agent_id))
        return f"{lead_phone} rings to {mode} on {agent_id}'s call"
