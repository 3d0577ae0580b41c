"""While callers wait, the ACD's part that acts on ``acd/waiting.py``: position and wait announcements, a rule
step's prompt, the call-back offer and voicemail, sent with AMI Setvar and Redirect. Asked only after every
connect that could be made, never for a caller whose agent is being rung.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from acd.line import Line
from acd.notifier import Notifier
from acd.queued import Queued
from acd.waiting import Announce, HoldTime, OfferCallback, StepAction, ToVoicemail, WaitRules, next_action
from dialer.phone import callback_number
from engine.asterisk.ami_link import AmiError
from engine.config import ServiceConfig
from engine.dialplan import ANNOUNCE_CONTEXT, FIRST, OFFER_EXTEN, START, VOICEMAIL_CONTEXT, WAIT_CONTEXT
from engine.ports import Actions, Calls

log = logging.getLogger("hotline.acd")


def wait_rules(services: Sequence[ServiceConfig]) -> dict[str, WaitRules]:
    """What waiting callers hear per service: periodic announcements and the rule steps' actions."""
    out = {}
    for sv in services:
        steps = tuple(StepAction(float(r["after"]), str(r.get("announce", "")), bool(r.get("offer_callback")),
                                 bool(r.get("voicemail"))) for r in sv.rules)  # fmt: skip
        out[sv.name] = WaitRules(sv.announce_every, sv.announce_position, sv.announce_wait, steps)
    return out


class WaitingActions:
    def __init__(self, actions: Actions, calls: Calls, line: Line, notifier: Notifier,
                 rules: dict[str, WaitRules], region: str) -> None:  # fmt: skip
        self.actions = actions
        self.calls = calls
        self.line = line
        self.notifier = notifier
        self.rules = rules
        self.region = region
        self.hold_times: dict[str, HoldTime] = {}  # per service: the expected wait, from answered waits
        # a prompt name to the file Asterisk plays (the IVR's built prompts, else an Asterisk sound)
        self.prompt_file: Callable[[str], str] = lambda prompt: prompt

    def answered(self, service: str, waited: float) -> None:
        self.hold_times.setdefault(service, HoldTime()).answered(waited)

    async def step(self, now: float) -> None:
        """The one thing each waiting caller should hear now, if any, sent to it."""
        offering = self.line.being_offered()
        positions = self.line.positions()
        for call_id, q in list(self.line.queued.items()):
            rules = self.rules.get(q.service)
            if rules is None or q.plan is None or q.callback is not None or call_id in offering:
                continue
            ch = self.calls.model.channels.get(q.waiting.uniqueid)
            if ch is None or ch.context != WAIT_CONTEXT:
                continue  # gone, or hearing something already: the next tick
            hold = self.hold_times.setdefault(q.service, HoldTime())
            action = next_action(rules, q.plan, now, positions.get(call_id, q.position), hold,
                                 callback_number(q.waiting.caller, self.region) is not None)  # fmt: skip
            if action is not None:
                await self._play(q, ch.name, action, now)

    async def _play(self, q: Queued, channel: str, action: Announce | OfferCallback | ToVoicemail,
                    now: float) -> None:  # fmt: skip
        w = q.waiting
        if isinstance(action, ToVoicemail):
            self.line.leave(w.call_id)
            await self.notifier.to_voicemail(now, q)
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
        await self.notifier.announce(now, q, what, variables)
        await self._send(channel, ANNOUNCE_CONTEXT, exten, variables, w.call_id)

    async def _send(self, channel: str, context: str, exten: str, variables: dict[str, str], call_id: str) -> None:
        try:
            for name, value in variables.items():
                await self.actions.action({"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value})
            await self.actions.action({"Action": "Redirect", "Channel": channel, "Context": context,
                                       "Exten": exten, "Priority": FIRST})  # fmt: skip
        except AmiError as exc:
            log.warning("call %s: could not send the caller to %s: %s", call_id, context, exc)
