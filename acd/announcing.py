"""While callers wait, the dispatcher's part that acts on ``acd/waiting.py``: position and wait
announcements, a rule step's prompt, the call-back offer and voicemail, sent with AMI Setvar and Redirect.
Asked only after every connect that could be made, never for a caller whose agent is being rung.

A mixin of :class:`acd.dispatcher.Dispatcher`: the attributes below are the dispatcher's, listed so the
interface this part leans on is written down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.queue_log import QueueLog
from acd.queued import Queued
from acd.router import Router
from acd.waiting import Announce, HoldTime, OfferCallback, StepAction, ToVoicemail, WaitRules, next_action
from dialer.phone import callback_number
from engine.app import Engine
from engine.asterisk.ami_link import AmiError
from engine.config import Site
from engine.dialplan import ANNOUNCE_CONTEXT, FIRST, OFFER_EXTEN, START, VOICEMAIL_CONTEXT, WAIT_CONTEXT
from engine.model.facts import fact_key

log = logging.getLogger("hotline.acd")


def wait_rules(site: Site) -> dict[str, WaitRules]:
    """What waiting callers hear per service: periodic announcements and the rule steps' actions."""
    out = {}
    for sv in site.services:
        steps = tuple(StepAction(float(r["after"]), str(r.get("announce", "")), bool(r.get("offer_callback")),
                                 bool(r.get("voicemail"))) for r in sv.rules)  # fmt: skip
        out[sv.name] = WaitRules(sv.announce_every, sv.announce_position, sv.announce_wait, steps)
    return out


class WaitingActions:
    engine: Engine
    router: Router
    queue_log: QueueLog
    queued: dict[str, Queued]
    wait_rules: dict[str, WaitRules]
    hold_times: dict[str, HoldTime]
    _offering: dict[str, str]
    prompt_file: Callable[[str], str]
    region: str

    def _positions(self) -> dict[str, int]:
        """Each waiting caller's place in its service (call backs hold places too)."""
        by_service: dict[str, list[tuple[float, str]]] = {}
        for call_id, q in self.queued.items():
            by_service.setdefault(q.service, []).append((q.entered_at, call_id))
        out = {}
        for line in by_service.values():
            for i, (_, call_id) in enumerate(sorted(line), start=1):
                out[call_id] = i
        return out

    async def _waiting_actions(self, now: float) -> None:
        offering = set(self._offering.values())
        positions = self._positions()
        for call_id, q in list(self.queued.items()):
            rules = self.wait_rules.get(q.service)
            if rules is None or q.plan is None or q.callback is not None or call_id in offering:
                continue
            ch = self.engine.model.channels.get(q.waiting.uniqueid)
            if ch is None or ch.context != WAIT_CONTEXT:
                continue  # gone, or hearing something already: the next tick
            hold = self.hold_times.setdefault(q.service, HoldTime())
            action = next_action(rules, q.plan, now, positions.get(call_id, q.position), hold,
                                 callback_number(q.waiting.caller, self.region) is not None)  # fmt: skip
            if action is not None:
                await self._play(q, ch.name, action, now)

    async def _play(self, q: Queued, channel: str, action: Announce | OfferCallback | ToVoicemail,
                    now: float) -> None:  # fmt: skip
        eng = self.engine
        w = q.waiting
        if isinstance(action, ToVoicemail):
            del self.queued[w.call_id]
            self.router.remove(w.call_id)
            await self.queue_log.write(now, w.call_id, q.service, "NONE", "EXITWITHTIMEOUT", q.position, q.position,
                                       int(now - q.queued_at))  # fmt: skip
            await eng.fact("acd.voicemail", w.call_id, w.uniqueid, fact_key("acd.voicemail", w.call_id),
                           service=q.service, waited=round(now - q.queued_at, 3))  # fmt: skip
            await self._send(channel, VOICEMAIL_CONTEXT, START, {}, w.call_id)
            return
        if isinstance(action, OfferCallback):
            variables = {"HOTLINE_ANNOUNCE": self.prompt_file(action.prompt or "callback-offer"),
                         "HOTLINE_POS": "", "HOTLINE_EWT": ""}  # fmt: skip
            exten, what = OFFER_EXTEN, "callback_offer"
        else:
            variables = {
                "HOTLINE_ANNOUNCE": self.prompt_file(action.prompt) if action.prompt else "",
                "HOTLINE_POS": "" if action.position is None else str(action.position),
                "HOTLINE_EWT": "" if action.wait_minutes is None else str(action.wait_minutes),
            }
            exten, what = START, "announce"
        await eng.fact("acd.announce", w.call_id, w.uniqueid, fact_key("acd.announce", w.call_id, f"{now:.3f}"),
                       what=what, prompt=variables["HOTLINE_ANNOUNCE"], position=variables["HOTLINE_POS"],
                       wait_minutes=variables["HOTLINE_EWT"])  # fmt: skip
        await self._send(channel, ANNOUNCE_CONTEXT, exten, variables, w.call_id)

    async def _send(self, channel: str, context: str, exten: str, variables: dict[str, str], call_id: str) -> None:
        try:
            for name, value in variables.items():
                await self.engine.link.action({"Action": "Setvar", "Channel": channel, "Variable": name,
                                               "Value": value})  # fmt: skip
            await self.engine.link.action({"Action": "Redirect", "Channel": channel, "Context": context,
                                           "Exten": exten, "Priority": FIRST})  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: could not send the caller to %s: %s", call_id, context, exc)
