"""Agent feature codes over FastAGI: ``AGI(agi://engine/agent,<action>[,<argument>])`` from the agents
context (*21 log in, *22 log out, *23<code> pause, *24 resume, *25 end wrap-up; for outbound agents
*26<code> disposition of the last call, *27<minutes> call back for me, *28<minutes> call back for anyone,
*29 in a preview campaign: take the next lead and dial it; any agent *30: a complaint about its latest call).
The agent is the PJSIP endpoint the call comes from; the answer is a beep (done) or an error tone (refused,
with the reason logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from engine.asterisk.fastagi import AgiChannel
from engine.config import Agent
from engine.policy import Actor, Role
from engine.service_api import Request, ServiceApi

log = logging.getLogger("hotline.acd.codes")

ACTIONS = ("login", "logout", "pause", "resume", "wrapup_end", "complaint")
OUTBOUND_ACTIONS = ("disposition", "callback", "callback_any", "preview_call")


class FeatureCodes:
    """The phone's face of the service API: the agent is the endpoint calling, the actor is that agent."""

    def __init__(self, agents: Iterable[Agent], api: ServiceApi, reasons: Mapping[str, str] | None = None) -> None:
        self.by_endpoint = {a.endpoint: a.id for a in agents}
        self.api = api
        self.reasons = {str(k): str(v) for k, v in (reasons or {}).items()}

    def agent_of(self, channel: str) -> str | None:
        if not channel.startswith("PJSIP/"):
            return None
        endpoint = channel[len("PJSIP/") :].rsplit("-", 1)[0]
        return self.by_endpoint.get(endpoint)

    async def __call__(self, agi: AgiChannel) -> None:
        args = agi.env.args
        action = args[0] if args else ""
        arg = args[1] if len(args) > 1 else ""
        agent_id = self.agent_of(agi.channel)
        await agi.answer()
        if agent_id is None or action not in ACTIONS + OUTBOUND_ACTIONS:
            log.warning("feature code %r from %s refused: %s", action, agi.channel,
                        "not an agent's phone" if agent_id is None else "unknown action")  # fmt: skip
            await agi.stream("beeperr")
            return
        if action == "pause":
            arg = self.reasons.get(arg, f"code {arg}" if arg else "")
        out = await self.api.do(Actor(agent_id, Role.AGENT, via="phone"), Request(action, agent_id, arg))
        await agi.stream("beep" if out.ok else "beeperr")
