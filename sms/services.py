"""A campaign's batch of messages: each recipient checked at send time (already sent, do-not-contact, opted out,
the send window in their own time, the template's fields), sent at the campaign's rate, and written as facts.

It is handed its ports (the ledger, the gateway, the do-not-contact check, the clock), so a test runs it on
fakes and the command on the real ones. A gateway that is down is waited for (``retry_for``), then the batch
stops with the reason; run again, it sends only what is not yet sent. A send that got no answer is held until
its delivery report shows the gateway took it (``confirm_wait``), else it is sent again as a new attempt; so is
a send an earlier run began and never finished (killed mid-batch): its intent is in the ledger (sms/writer.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dialer.phone import PhoneError, parse_phone, time_zone
from dialer.window import minutes
from engine.clock import Clock
from engine.ports import Ledger
from engine.privacy import mask_number
from sms import facts
from sms.encoding import Encoded, encode
from sms.kannel import KannelGateway, Sent
from sms.settings import SmsSettings
from sms.template import Template, TemplateError
from sms.writer import FactWriter

log = logging.getLogger("hotline.sms")
Blocked = Callable[[str], Awaitable[bool]]  # a number on the campaign's or the global do-not-contact list
BACKOFF = (1.0, 2.0, 4.0, 8.0)  # seconds between tries of a gateway that is down (then the last, again)
CONFIRM_POLL = 0.5
# sends at once: Kannel's smsbox answers a send that asks for delivery reports only after about 20 ms, so one
# at a time would cap a batch near 45 a second whatever its rate
IN_FLIGHT = 32
OPT_OUT_OVERLAP = 60.0  # seconds each read of the opt-outs goes back over the last
OPT_OUT_EVERY = 0.1  # seconds between reads of the opt-outs: at most this old when a message goes


@dataclass(frozen=True)
class Recipient:
    phone: str  # E.164
    fields: dict[str, str]
    tz: str = ""  # IANA zone when the list gives one
    ref: str = ""  # the event a message after a call is about ("" in a batch): one message per number and event

    @property
    def who(self) -> tuple[str, str]:
        return self.phone, self.ref


@dataclass
class Tally:
    total: int = 0
    sent: int = 0
    parts: int = 0
    already: int = 0  # sent by an earlier run
    skipped: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    resent: int = 0  # sends with no answer and no delivery report, sent again
    confirmed: int = 0  # sends with no answer whose delivery report showed them taken
    stopped: str = ""  # why the batch stopped before its end

    def as_dict(self) -> dict[str, object]:
        return {"total": self.total, "sent": self.sent, "parts": self.parts, "already_sent": self.already,
                "skipped": dict(self.skipped), "refused": self.refused, "resent": self.resent,
                "confirmed_by_report": self.confirmed, "stopped": self.stopped}  # fmt: skip


class GatewayDown(RuntimeError):
    pass


def _landline(phone: str) -> bool:
    """A fixed line takes no SMS (a number whose plan does not tell, as the US's, is tried)."""
    try:
        return parse_phone(phone).kind == "fixed"
    except PhoneError:
        return False


async def _each(recipients: Iterable[Recipient] | AsyncIterable[Recipient]) -> AsyncIterator[Recipient]:
    if isinstance(recipients, AsyncIterable):
        async for r in recipients:
            yield r
    else:
        for r in recipients:
            yield r


class Outbox:
    def __init__(self, campaign: str, template: Template, rules: SmsSettings, *, ledger: Ledger,
                 gateway: KannelGateway, blocked: Blocked, clock: Clock, site_tz: str,
                 rate: float | None = None, since: float | None = None) -> None:  # fmt: skip
        """``since``: how far back the campaign's own facts are read (messages after calls: a few days; a batch:
        all of them, None)."""
        if not facts.CAMPAIGN_NAME.fullmatch(campaign):
            raise ValueError(f"campaign {campaign!r}: use 1-60 letters, digits, '_', '.' or '-'")
        self.campaign, self.template, self.rules = campaign, template, rules
        self.ledger, self.gateway, self.blocked, self.clock = ledger, gateway, blocked, clock
        self.site_tz = site_tz
        self.interval = 1.0 / (rate or rules.rate)
        self.next_at = float("-inf")
        self.opted_out: set[str] = set()
        self.opt_outs_read = float("-inf")
        self.opt_outs_checked = float("-inf")
        self.tally = Tally()
        self.since = since
        self.down_noted = False  # the gateway's outage is logged once, by the first send to meet it
        self.writer = FactWriter(ledger)
        self.attempt: dict[tuple[str, str], int] = {}  # tried by an earlier run without an outcome: next attempt

    def dlr_url(self, phone: str, attempt: int, ref: str = "") -> str:
        # Kannel fills in %d (the report's type) and %A (the SMSC's reply); our own values hold no '%'
        base = f"{self.rules.callback_url}/sms/kannel/dlr?token={self.rules.token}&c={self.campaign}"
        return f"{base}&to={phone.lstrip('+')}&a={attempt}{f'&r={ref}' if ref else ''}&type=%d&reply=%A"

    async def _opted_out(self, phone: str) -> bool:
        # read again every OPT_OUT_EVERY, from a little before the last read's newest: a reply a moment ago stops
        # the next send, and one written late by another process (its time a bit behind ours) is not missed
        if self.clock.monotonic() - self.opt_outs_checked < OPT_OUT_EVERY:
            return phone in self.opted_out
        self.opt_outs_checked = self.clock.monotonic()
        new = await self.ledger.facts(facts.OPT_OUTS, ("sms.opt_out",), since=self.opt_outs_read - OPT_OUT_OVERLAP)
        for f in new:
            self.opted_out.add(f.data["phone"])
            self.opt_outs_read = max(self.opt_outs_read, f.at)
        return phone in self.opted_out

    def _open(self, r: Recipient, now: float) -> bool:
        zone = ZoneInfo(r.tz or time_zone(r.phone) or self.site_tz)
        start, end = self.rules.window
        return start <= minutes(now, zone) < end

    async def _skip(self, r: Recipient, reason: str, detail: str = "") -> None:
        now = self.clock.now()
        day = dt.datetime.fromtimestamp(now, ZoneInfo(self.site_tz)).date().isoformat()
        self.writer.note(facts.skipped(self.campaign, r.phone, reason, now, day, detail, r.ref))
        self.tally.skipped[reason] += 1

    async def run(self, recipients: Iterable[Recipient] | AsyncIterable[Recipient],
                  progress: Callable[[Tally], None] | None = None) -> Tally:  # fmt: skip
        writing = asyncio.create_task(self.writer.run(), name=f"sms-{self.campaign}-facts")
        try:
            done = await self._resume()
            return await self._run(recipients, done, progress)
        finally:
            await self.writer.flush()
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)

    async def _run(self, recipients: Iterable[Recipient] | AsyncIterable[Recipient], done: set[str],
                   progress: Callable[[Tally], None] | None) -> Tally:  # fmt: skip
        slots = asyncio.Semaphore(IN_FLIGHT)
        sending: set[asyncio.Task[None]] = set()
        failure: list[BaseException] = []

        async def send(r: Recipient, text: str, enc: Encoded) -> None:
            try:
                await self._send(r, text, enc)
            except GatewayDown as exc:
                self.tally.stopped = self.tally.stopped or str(exc)
            except BaseException as exc:  # noqa: BLE001 - handed to the batch, which stops and raises it
                failure.append(exc)
            finally:
                slots.release()

        try:
            async for r in _each(recipients):
                if self.tally.stopped or failure:
                    break
                self.tally.total += 1
                if r.who in done:
                    self.tally.already += 1
                else:
                    done.add(r.who)  # a number twice in the list gets one message
                    ready = await self._one(r)
                    if ready is not None:
                        await slots.acquire()
                        task = asyncio.create_task(send(r, *ready), name=f"sms-{self.campaign}")
                        sending.add(task)
                        task.add_done_callback(sending.discard)
                if progress is not None:
                    progress(self.tally)
        finally:
            await asyncio.gather(*sending, return_exceptions=True)
        if failure:
            raise failure[0]
        return self.tally

    async def _one(self, r: Recipient) -> tuple[str, Encoded] | None:
        """The text to send ``r``, once its turn at the rate has come, or None: skipped, with its reason written.
        The turn comes first, so the checks are made at the moment of sending; a skip uses no turn."""
        turn = max(self.next_at, self.clock.monotonic())  # the checks below take part of the turn's interval
        wait = turn - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)
        dnc, opted_out = await asyncio.gather(self.blocked(r.phone), self._opted_out(r.phone))
        if dnc:
            return await self._skip(r, "dnc")
        if opted_out:
            return await self._skip(r, "opted_out")
        if _landline(r.phone):
            return await self._skip(r, "landline")
        if not self._open(r, self.clock.now()):
            return await self._skip(r, "window")
        try:
            text = self.template.render(r.fields)
        except TemplateError as exc:
            return await self._skip(r, "bad", str(exc))
        enc = encode(text)
        if enc.parts > self.rules.max_parts:
            return await self._skip(r, "too_long", f"{enc.parts} parts, at most {self.rules.max_parts}")
        self.next_at = turn + self.interval
        return text, enc

    async def _send(self, r: Recipient, text: str, enc: Encoded) -> None:
        attempt, down_since, tries = self.attempt.pop(r.who, 1), None, 0
        if attempt > 1:
            self.tally.resent += 1
        while True:
            await self.writer.durable(facts.sending(self.campaign, r.phone, attempt, self.clock.now(), enc.parts,
                                                    enc.coding, r.ref))  # fmt: skip
            reply = await self.gateway.send(r.phone, text, enc, self.dlr_url(r.phone, attempt, r.ref))
            now = self.clock.now()
            if reply.sent is Sent.ACCEPTED:
                if self.down_noted:
                    self.down_noted = False
                    log.info("sms %s: the gateway takes messages again", self.campaign)
                return await self._sent(r, attempt, enc)
            if reply.sent is Sent.REFUSED:
                self.writer.note(facts.refused(self.campaign, r.phone, attempt, now, reply.detail, r.ref))
                self.tally.refused += 1
                log.warning("sms %s: the gateway refused the message to %s: %s", self.campaign,
                            mask_number(r.phone), reply.detail)  # fmt: skip
                return
            if reply.sent is Sent.UNCERTAIN:
                self.writer.note(facts.uncertain(self.campaign, r.phone, attempt, now, reply.detail, r.ref))
                if await self._reported({(*r.who, attempt)}):
                    self.tally.confirmed += 1
                    return await self._sent(r, attempt, enc, confirmed="dlr")
                log.warning("sms %s: no answer and no delivery report for %s (attempt %d): sending it again",
                            self.campaign, mask_number(r.phone), attempt)  # fmt: skip
                self.tally.resent += 1
                attempt += 1
                continue
            # down: wait for it, up to retry_for
            mono = self.clock.monotonic()
            down_since = mono if down_since is None else down_since
            if mono - down_since >= self.rules.retry_for:
                raise GatewayDown(f"the gateway has been down for {self.rules.retry_for:.0f} s ({reply.detail}); "
                                  "run the command again to send the rest")  # fmt: skip
            if not self.down_noted:
                self.down_noted = True
                log.warning("sms %s: the gateway is down (%s): waiting up to %.0f s", self.campaign, reply.detail,
                            self.rules.retry_for)  # fmt: skip
            await self.clock.sleep(BACKOFF[min(tries, len(BACKOFF) - 1)])
            tries += 1

    async def _sent(self, r: Recipient, attempt: int, enc: Encoded, confirmed: str = "") -> None:
        now = self.clock.now()
        self.writer.note(facts.sent(self.campaign, r.phone, attempt, now, enc.parts, enc.coding, confirmed, r.ref))
        self.tally.sent += 1
        self.tally.parts += enc.parts

    async def _reported(self, wanted: set[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
        """Which of these (number, event, attempt) a delivery report comes for: the gateway had taken them. No report
        can come while the gateway is down, so it waits for the gateway first (up to ``retry_for``: GatewayDown),
        then ``confirm_wait`` for the reports."""
        call = facts.campaign_call(self.campaign)
        start, tries = self.clock.monotonic(), 0
        while not await self.gateway.alive():
            if self.clock.monotonic() - start >= self.rules.retry_for:
                raise GatewayDown(f"the gateway has been down for {self.rules.retry_for:.0f} s; run the command "
                                  "again to send the rest")  # fmt: skip
            await self.clock.sleep(BACKOFF[min(tries, len(BACKOFF) - 1)])
            tries += 1
        end = self.clock.monotonic() + self.rules.confirm_wait
        while True:
            reports = await self.ledger.facts(call, ("sms.dlr",), since=self.since)
            seen = {(f.data["phone"], f.data.get("ref", ""), f.data["attempt"]) for f in reports}
            if wanted <= seen or self.clock.monotonic() >= end:
                return wanted & seen
            await self.clock.sleep(CONFIRM_POLL)

    async def _resume(self) -> set[tuple[str, str]]:
        """What earlier runs finished (sent or refused), by number and event. A send an earlier run began and
        never finished counts as sent if its delivery report came, else it is sent again as its next attempt."""
        call = facts.campaign_call(self.campaign)
        rows = await self.ledger.facts(call, ("sms.sent", "sms.refused", "sms.sending"), since=self.since)
        done = {(f.data["phone"], f.data.get("ref", "")) for f in rows if f.kind != "sms.sending"}
        begun: dict[tuple[str, str], dict[str, Any]] = {}  # (number, event) -> its latest unfinished attempt
        for f in rows:
            who = (f.data["phone"], f.data.get("ref", ""))
            if f.kind == "sms.sending" and who not in done:
                if f.data["attempt"] >= begun.get(who, {}).get("attempt", 0):
                    begun[who] = f.data
        if not begun:
            return done
        log.info("sms %s: %d message(s) an earlier run began and did not finish: waiting up to %.0f s for their "
                 "delivery reports", self.campaign, len(begun), self.rules.confirm_wait)  # fmt: skip
        taken = await self._reported({(*who, d["attempt"]) for who, d in begun.items()})
        for who, d in begun.items():
            if (*who, d["attempt"]) in taken:
                now = self.clock.now()
                self.writer.note(facts.sent(self.campaign, who[0], d["attempt"], now, d["parts"], d["coding"], "dlr",
                                            who[1]))  # fmt: skip
                self.tally.confirmed += 1
                done.add(who)
            else:
                self.attempt[who] = d["attempt"] + 1
        log.info("sms %s: of those, %d were taken by the gateway, %d are sent again",
                 self.campaign, len(begun) - len(self.attempt), len(self.attempt))  # fmt: skip
        return done
