"""The engine's sender of messages after calls: a named task that reads what calls for one (sms/notices.py) and
sends it through the batch machinery (sms/services.py), so the same checks, facts and recovery apply.

It works from the ledger, not from memory: every ``RESCAN`` seconds of the engine's clock, and at once when a
fact or record that may call for a message arrives, it reads the triggers of the last ``HORIZON`` (none from
before the engine first had the rule: ``sms.rule``) and sends what no fact says was sent. A message outside
the send window is tried again at the next pass, once the window opens; one missed while the engine was down,
at its first pass after it starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from engine.clock import Clock
from engine.model.facts import Fact, fact_key
from engine.ports import Ledger
from sms.kannel import GatewayRefusesUs, KannelGateway
from sms.notices import FACT_OF, Notice, NoticeRule, notices_of_fact, notices_of_record
from sms.services import Outbox
from sms.settings import SmsSettings

log = logging.getLogger("hotline.sms")
RESCAN = 60.0  # seconds of the engine's clock between passes
HORIZON = 2 * 86400.0  # how far back a pass looks: a message not sent within two days is not sent

Records = Callable[[float], Awaitable[list[Mapping[str, Any]]]]  # call records ended since a time
Blocked = Callable[[str, str], Awaitable[bool]]  # (number, campaign): on a do-not-call list


class NoticeSender:
    def __init__(self, rules: list[NoticeRule], settings: SmsSettings, *, ledger: Ledger, records: Records,
                 blocked: Blocked, clock: Clock, site_tz: str, region: str) -> None:  # fmt: skip
        self.rules, self.settings = rules, settings
        self.ledger, self.records, self.blocked, self.clock = ledger, records, blocked, clock
        self.site_tz, self.region = site_tz, region
        self.kinds = tuple(sorted({FACT_OF[r.on] for r in rules if r.on in FACT_OF}))
        self.wake = asyncio.Event()
        self.passes = 0
        self.since_rule: dict[str, float] = {}  # rule name -> when the engine first had it
        self.paths: dict[str, frozenset[str]] = {}  # call -> the menu nodes it passed (an ended call's is final)

    async def learn_rules(self) -> None:
        """A rule answers for what happens from when the engine first had it, not for the days before (a survey
        rule added today texts no one who called yesterday): that moment is a fact, kept across restarts."""
        now = self.clock.now()
        await self.ledger.record([Fact("sms.rule", now, "sms:rules", "", fact_key("sms.rule", r.name),
                                       {"name": r.name, "on": r.on}) for r in self.rules])  # fmt: skip
        for f in await self.ledger.facts("sms:rules", ("sms.rule",)):
            self.since_rule.setdefault(f.data["name"], f.at)

    def on_facts(self, new: list[Fact]) -> None:
        """Fact hook: a trigger wakes the task (it reads the ledger itself)."""
        if any(f.kind in self.kinds for f in new):
            self.wake.set()

    def on_record(self, row: Mapping[str, Any]) -> None:
        if row.get("connected_at") and any(r.on == "call" for r in self.rules):
            self.wake.set()

    async def due(self, now: float) -> list[Notice]:
        since = now - HORIZON
        tz = ZoneInfo(self.site_tz)
        out: list[Notice] = []
        if self.kinds:
            for f in await self.ledger.facts(None, self.kinds, since):
                out += [n for n in notices_of_fact(self.rules, f, tz) if f.at >= self._from(n.rule)]
        if any(r.on == "call" for r in self.rules):
            for row in await self.records(since):
                ended = float(row.get("ended_at") or 0)
                out += [n for n in notices_of_record(self.rules, row, self.region) if ended >= self._from(n.rule)]
        return [n for n in out if not n.rule.node or n.rule.node in await self._path(n.call, n.rule.on == "call")]

    async def _path(self, call: str, ended: bool) -> frozenset[str]:
        """The menu nodes a call passed; kept for an ended call only (a live one's steps may still be on their
        way to the ledger: the next pass reads them again)."""
        if not call:
            return frozenset()
        if call in self.paths:
            return self.paths[call]
        path = frozenset(str(f.data.get("node", "")) for f in await self.ledger.facts(call, ("ivr.step",)))
        if ended:
            if len(self.paths) >= 10_000:  # the last two days' calls are a few hundred: keep the memory bounded
                self.paths.clear()
            self.paths[call] = path
        return path

    def _from(self, rule: NoticeRule) -> float:
        return self.since_rule.get(rule.name, float("inf"))

    async def send(self, gateway: KannelGateway) -> None:
        """One pass: each rule's due messages through an Outbox of its own (sent ones are not sent again)."""
        now = self.clock.now()
        notices = await self.due(now)
        for rule in self.rules:
            mine = [n.to for n in notices if n.rule is rule]
            if not mine:
                continue

            async def blocked(phone: str, campaign: str = rule.name) -> bool:
                return await self.blocked(phone, campaign)

            box = Outbox(rule.name, rule.template, self.settings, ledger=self.ledger, gateway=gateway,
                         blocked=blocked, clock=self.clock, site_tz=self.site_tz, since=now - HORIZON)  # fmt: skip
            tally = await box.run(mine)
            if tally.sent or tally.stopped:
                log.info("sms %s: %d message(s) after calls sent%s", rule.name, tally.sent,
                         f"; stopped: {tally.stopped}" if tally.stopped else "")  # fmt: skip
        self.passes += 1

    async def run(self) -> None:
        """Named task ``sms-notices``: a pass at start, then at every trigger or ``RESCAN`` seconds."""
        import httpx2 as httpx

        s = self.settings
        async with httpx.AsyncClient(timeout=10) as client:
            gateway = KannelGateway(s.gateway, s.username, s.password, s.sender, client)
            while not self.since_rule:
                try:
                    await self.learn_rules()
                except Exception:  # noqa: BLE001 - the store may be starting: try again
                    log.exception("sms: reading the rules' first days failed")
                    await self.clock.sleep(RESCAN)
            while True:
                self.wake.clear()
                try:
                    await self.send(gateway)
                except GatewayRefusesUs as exc:
                    log.error("sms: %s: no message after calls is sent until the site file is mended", exc)
                    return
                except Exception:  # noqa: BLE001 - the calls go on; the next pass tries again
                    log.exception("sms: a pass of the messages after calls failed")
                sleep = asyncio.ensure_future(self.clock.sleep(RESCAN))
                woken = asyncio.ensure_future(self.wake.wait())
                try:
                    await asyncio.wait({sleep, woken}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleep.cancel()
                    woken.cancel()
