"""The hotline's first step over FastAGI: answer, play the greeting, read one digit, hand over.

The full menu interpreter (menus as data) replaces this; the hand-over contract stays: the
session ends itself with SET CONTEXT/EXTENSION (never a Redirect of a channel in AGI), the caller
waits in ``engine-wait`` and ``on_queued`` is called with the call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engine.app import Engine
from engine.asterisk.fastagi import AgiChannel
from engine.privacy import mask_number

log = logging.getLogger("hotline.ivr")

DIGITS = "0123456789*#"


@dataclass(frozen=True)
class Waiting:
    call_id: str
    uniqueid: str
    channel: str
    caller: str
    digit: str


class HotlineEntry:
    def __init__(self, engine: Engine, on_queued: Callable[[Waiting], Awaitable[None]]) -> None:
        self.engine = engine
        self.on_queued = on_queued
        cfg = engine.site["hotline"]
        self.prompt: str = cfg["prompt"]
        self.digit_timeout_ms: int = cfg["digit_timeout_ms"]

    async def __call__(self, agi: AgiChannel) -> None:
        uid = agi.uniqueid
        ch = self.engine.model.channels.get(uid)
        call_id = (ch.call_id or ch.linkedid) if ch else uid
        caller = agi.env.get("callerid")
        log.info("hotline call %s from %s on %s", call_id, mask_number(caller), agi.channel)
        # a carrier (or the load runner) may tag the call; kept on the record to join outside reports
        tag = await agi.command("GET FULL VARIABLE", "${PJSIP_HEADER(read,X-Hotline-Corr)}")
        if tag.ok and tag.result == "1" and tag.data:
            await self.engine.fact("call.tag", call_id, uid, f"tag:{call_id}", tag=tag.data[:120])
        await agi.answer()
        res = await agi.stream(self.prompt, DIGITS)
        digit = res.digit
        if digit is None:
            digit = await agi.wait_digit(self.digit_timeout_ms)
        await self.engine.fact("ivr.digit", call_id, uid, f"ivr.digit:{uid}", digit=digit or "")
        await agi.set_variable("HOTLINE_CALL", call_id)
        await agi.goto("engine-wait", "s", "1")
        # the caller is now the ACD's; the AGI session closes when this handler returns
        await self.engine.fact("call.queued", call_id, uid, f"queued:{call_id}", digit=digit or "")
        self.engine.spawn(self.on_queued(Waiting(call_id, uid, agi.channel, caller, digit or "")), f"connect:{call_id}")
