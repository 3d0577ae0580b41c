"""A team lead listens to, whispers to or barges in on an agent's call: ChanSpy rung on the lead's phone.

The lead's phone is originated into ``ChanSpy`` on the agent's channel prefix (``PJSIP/<endpoint>-``, the dash so
that endpoint 100 never matches 1001): ``q`` no beep, ``E`` leave when the agent's call ends, ``w`` the agent
alone hears the lead (whisper), ``B`` both parties hear the lead (barge).

A lead's phone is on one spy at a time: a new request (listen, then barge) first hangs up the spy legs that phone
is on, so the phone is free to ring for the new one instead of holding a listen leg behind a barge.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from engine.asterisk.ami_link import AmiError

log = logging.getLogger("hotline.acd")

OPTIONS = {"listen": "qE", "whisper": "qEw", "barge": "qEB"}
RING_SECONDS = 30  # the lead's phone rings this long before the request lapses


def spy_originate(agent_endpoint: str, lead_phone: str, mode: str, agent_id: str) -> dict[str, str]:
    """The Originate that puts ``lead_phone`` on the agent's call in ``mode`` (pure)."""
    return {"Action": "Originate", "Channel": f"PJSIP/{lead_phone}", "Application": "ChanSpy",
            "Data": f"PJSIP/{agent_endpoint}-,{OPTIONS[mode]}", "CallerID": f'"{mode} {agent_id}" <{agent_id}>',
            "Timeout": str(RING_SECONDS * 1000), "Async": "true"}  # fmt: skip


def spy_legs(listing: Iterable[Any], lead_phone: str) -> list[str]:
    """The channels of ``lead_phone`` now in ChanSpy, from a CoreShowChannels listing (pure)."""
    prefix = f"PJSIP/{lead_phone}-"
    return [f.get("Channel") for f in listing if f.get("Event") == "CoreShowChannel"
            and f.get("Channel").startswith(prefix) and f.get("Application") == "ChanSpy"]  # fmt: skip


class Monitor:
    def __init__(self, action: Callable[..., Awaitable[Any]], endpoints: Mapping[str, str],
                 on_call: Callable[[str], bool]) -> None:  # fmt: skip
        self.action = action  # the AMI link's action
        self.endpoints = endpoints  # agent id -> PJSIP endpoint
        self.on_call = on_call

    async def __call__(self, agent_id: str, lead_phone: str, mode: str) -> str:
        if mode not in OPTIONS:
            raise ValueError(f"unknown monitor mode {mode!r}")
        if not self.on_call(agent_id):
            raise ValueError(f"{agent_id} is not on a call")
        # asked of Asterisk, not remembered: a spy started before an engine restart is replaced too
        for leg in spy_legs(await self.action({"Action": "CoreShowChannels"}, as_list=True), lead_phone):
            try:
                await self.action({"Action": "Hangup", "Channel": leg})
            except AmiError as exc:  # it ended between the listing and the hang-up
                log.info("spy leg %s already gone: %s", leg, exc)
        await self.action(spy_originate(self.endpoints[agent_id], lead_phone, mode, agent_id))
        return f"{lead_phone} rings to {mode} on {agent_id}'s call"
