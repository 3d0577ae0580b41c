"""Connect a waiting caller to the hotline agent's softphone and start the recording.

The agent leg is an Originate with our own ChannelId and ``Application: Bridge``, so Asterisk
pulls the caller out of the waiting music into a two-party bridge when the agent answers. The
ring is limited to the hotline's ring timeout (15 s: three rings in China's cadence).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from engine.app import Engine
from engine.asterisk.ami_link import AmiError
from ivr.entry import Waiting
from recording.finalize import Recorder

log = logging.getLogger("hotline.acd")

WAIT_CONTEXT = "engine-wait"  # asterisk-conf/extensions.conf: where callers wait for an agent


class AgentConnector:
    def __init__(self, engine: Engine, recorder: Recorder, retry_pause: float = 1.0) -> None:
        self.engine = engine
        self.recorder = recorder
        self.retry_pause = retry_pause
        cfg = engine.site["hotline"]
        self.agent = engine.site.agent(cfg["agent"])
        self.ring_timeout: int = cfg["ring_timeout"]
        self._agent_lock = asyncio.Lock()

    def _caller_alive(self, w: Waiting) -> bool:
        return w.uniqueid in self.engine.model.channels

    def _offer_settled(self, w: Waiting, leg: str, seen: list[bool]) -> bool:
        """The offer is over: answered and bridged, the agent leg came and went, or the caller left."""
        ch = self.engine.model.channels.get(leg)
        seen[0] = seen[0] or ch is not None
        if not self._caller_alive(w):
            return True
        return (ch is not None and ch.up and bool(ch.bridge)) or (ch is None and seen[0])

    def _caller_waiting(self, w: Waiting) -> bool:
        ch = self.engine.model.channels.get(w.uniqueid)
        return ch is None or ch.context == WAIT_CONTEXT

    async def __call__(self, w: Waiting) -> None:
        eng = self.engine
        attempt = 0
        # Bridge/MixMonitor on a channel still inside AGI would yank it out of the session (HANGUP, dead
        # mode); wait until the dialplan has taken the caller to the waiting context.
        if not await eng.until(lambda: self._caller_waiting(w), 10):
            log.warning("call %s: caller did not reach %s; connecting anyway", w.call_id, WAIT_CONTEXT)
        while self._caller_alive(w):
            # decide only on a picture of Asterisk that has been resynced since the last connect
            await eng.link.ready.wait()
            # one offer to the agent at a time; waiting callers take their turn in arrival order (FIFO lock)
            async with self._agent_lock:
                if await self._offer(w, attempt + 1):
                    return
            attempt += 1
            if self._caller_alive(w):
                await eng.clock.sleep(self.retry_pause)

    async def _offer(self, w: Waiting, attempt: int) -> bool:
        """Ring the agent once for this caller; True when the call is settled (connected or caller gone)."""
        eng = self.engine
        while self._caller_alive(w) and eng.model.agent_busy(self.agent.endpoint):
            await eng.until(lambda: not eng.model.agent_busy(self.agent.endpoint) or not self._caller_alive(w), 5)
        caller = eng.model.channels.get(w.uniqueid)
        if caller is None:
            return True
        leg = f"hl-{uuid.uuid4().hex[:20]}"
        eng.model.associate(leg, w.call_id, "agent", self.agent.id)
        await self.recorder.start(w.call_id, caller.name)
        if not self._caller_alive(w):
            return True
        await eng.fact("agent.offer", w.call_id, leg, f"offer:{leg}", agent=self.agent.id, leg=leg, attempt=attempt)
        try:
            await eng.link.action({
                "Action": "Originate",
                "Channel": f"PJSIP/{self.agent.endpoint}",
                "Application": "Bridge",
                "Data": caller.name,
                "Timeout": str(self.ring_timeout * 1000),
                "CallerID": f'"Hotline" <{w.caller}>',
                "ChannelId": leg,
                "Async": "true",
            })  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: originate to agent %s failed: %s", w.call_id, self.agent.id, exc)
            return False
        seen = [False]
        await eng.until(lambda: self._offer_settled(w, leg, seen), self.ring_timeout + 10)
        ch = eng.model.channels.get(leg)
        if ch is not None and ch.up and ch.bridge:
            log.info("call %s connected to agent %s", w.call_id, self.agent.id)
            return True
        if not self._caller_alive(w):
            if ch is not None:
                try:
                    await eng.link.action({"Action": "Hangup", "Channel": ch.name})
                except AmiError:
                    pass  # already gone
            return True
        log.info("call %s: agent %s did not answer (attempt %d)", w.call_id, self.agent.id, attempt)
        return False
