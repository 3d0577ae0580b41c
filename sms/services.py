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
from zoneinfo import ZoneInfo

from dialer.phone import PhoneError, parse_phone, time_zone
from dialer.window import minutes
from engine.clock import Clock
from engine.model.facts import Fact
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
MAX_ATTEMPTS = 5  # sends of one message with no answer and no report: then the gateway counts as down
REFUSED_IN_A_ROW = 5  # the same refusal this many times in a row stops the batch: the gateway refuses them all
REPORT_SKEW = 300.0  # seconds a report's time may lie before its try: the engine writes it, on its own clock


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
        self.refusals: tuple[int, str] = (0, "")  # the same refusal how many times in a row

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
            try:
                done = await self._resume()
            except GatewayDown as exc:
                self.tally.stopped = str(exc)
                return self.tally
            return await self._run(recipients, done, progress)
        finally:
            await self.writer.flush()
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)

    async def _run(self, recipients: Iterable[Recipient] | AsyncIterable[Recipient], done: set[tuple[str, str]],
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
                    await slots.acquire()  # first a free slot, then the checks: they hold at the moment of sending
                    ready = await self._ready(r)
                    if ready is None:
                        slots.release()
                    else:
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

    async def _turn(self) -> None:
        """Wait for the next turn at the campaign's rate, and take it."""
        turn = max(self.next_at, self.clock.monotonic())
        self.next_at = turn + self.interval
        wait = turn - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)

    async def _barred(self, r: Recipient) -> str | None:
        """Why ``r`` may not be sent to now (do-not-call, opted out, outside the window), or None: asked again
        before every try, since a reply or a closing window can come while a try waits."""
        dnc, opted_out = await asyncio.gather(self.blocked(r.phone), self._opted_out(r.phone))
        if dnc:
            return "dnc"
        if opted_out:
            return "opted_out"
        return None if self._open(r, self.clock.now()) else "window"

    async def _ready(self, r: Recipient) -> tuple[str, Encoded] | None:
        """The text to send ``r``, once its turn at the rate has come, or None: skipped, with its reason written."""
        try:
            kind = parse_phone(r.phone).kind
        except PhoneError as exc:  # e.g. a case's number kept as Asterisk gave it
            return await self._skip(r, "bad_number", str(exc))
        if kind == "fixed":  # a fixed line takes no SMS (a number whose plan does not tell, as the US's, is tried)
            return await self._skip(r, "landline")
        try:
            text = self.template.render(r.fields)
        except TemplateError as exc:
            return await self._skip(r, "bad", str(exc))
        enc = encode(text)
        if enc.parts > self.rules.max_parts:
            return await self._skip(r, "too_long", f"{enc.parts} parts, at most {self.rules.max_parts}")
        await self._turn()
        why = await self._barred(r)
        return (text, enc) if why is None else await self._skip(r, why)

    async def _send(self, r: Recipient, text: str, enc: Encoded) -> None:
        attempt, down_since, tries = self.attempt.pop(r.who, 1), None, 0
        if attempt > 1:
            self.tally.resent += 1
        while True:
            at = self.clock.now()
            await self.writer.durable(facts.sending(self.campaign, r.phone, attempt, at, enc.parts, enc.coding, r.ref))
            reply = await self.gateway.send(r.phone, text, enc, self.dlr_url(r.phone, attempt, r.ref))
            now = self.clock.now()
            if reply.sent is Sent.ACCEPTED:
                self.refusals = (0, "")
                if self.down_noted:
                    self.down_noted = False
                    log.info("sms %s: the gateway takes messages again", self.campaign)
                return await self._sent(r, attempt, enc)
            if reply.sent is Sent.REFUSED:
                return self._refused(r, attempt, now, reply.detail)
            if reply.sent is Sent.UNCERTAIN:
                self.writer.note(facts.uncertain(self.campaign, r.phone, attempt, now, reply.detail, r.ref))
                if await self._reported({(*r.who, attempt)}, since=at - REPORT_SKEW):
                    self.tally.confirmed += 1
                    return await self._sent(r, attempt, enc, confirmed="dlr")
                if attempt >= MAX_ATTEMPTS:  # a gateway that takes the connection and never answers is down
                    raise GatewayDown(f"the gateway answered none of {attempt} sends to one number and sent no "
                                      f"report for them ({reply.detail}); run the command again later")  # fmt: skip
                log.warning("sms %s: no answer and no delivery report for %s (attempt %d): sending it again",
                            self.campaign, mask_number(r.phone), attempt)  # fmt: skip
                self.tally.resent += 1
                attempt += 1
            else:  # down: wait for it, up to retry_for
                mono = self.clock.monotonic()
                down_since = mono if down_since is None else down_since
                if mono - down_since >= self.rules.retry_for:
                    raise GatewayDown(f"the gateway has been down for {self.rules.retry_for:.0f} s ({reply.detail}); "
                                      "run the command again to send the rest")  # fmt: skip
                if not self.down_noted:
                    self.down_noted = True
                    log.warning("sms %s: the gateway is down (%s): waiting up to %.0f s", self.campaign,
                                reply.detail, self.rules.retry_for)  # fmt: skip
                await self.clock.sleep(BACKOFF[min(tries, len(BACKOFF) - 1)])
                tries += 1
            await self._turn()  # a try again takes a turn too: no burst when the gateway comes back
            why = await self._barred(r)
            if why is not None:
                return await self._skip(r, why)

    def _refused(self, r: Recipient, attempt: int, now: float, detail: str) -> None:
        """This message refused (a later run tries it again). The same refusal many times in a row is the
        gateway refusing every message (no sender set, say): the batch stops instead of refusing them all."""
        self.writer.note(facts.refused(self.campaign, r.phone, attempt, now, detail, r.ref))
        self.tally.refused += 1
        log.warning("sms %s: the gateway refused the message to %s: %s", self.campaign, mask_number(r.phone), detail)
        count = self.refusals[0] + 1 if self.refusals[1] == detail else 1
        self.refusals = (count, detail)
        if count >= REFUSED_IN_A_ROW and not self.tally.stopped:
            why = f"the gateway refused {count} messages in a row: {detail}"
            self.tally.stopped = f"{why}; mend the gateway or the site file, then run it again"

    async def _sent(self, r: Recipient, attempt: int, enc: Encoded, confirmed: str = "") -> None:
        now = self.clock.now()
        self.writer.note(facts.sent(self.campaign, r.phone, attempt, now, enc.parts, enc.coding, confirmed, r.ref))
        self.tally.sent += 1
        self.tally.parts += enc.parts

    async def _reported(self, wanted: set[tuple[str, str, int]], since: float) -> set[tuple[str, str, int]]:
        """Which of these (number, event, attempt) a delivery report came for, of that attempt or an earlier one
        (reports written since ``since``): the gateway had taken them. No report can come while the gateway is
        down, so it waits for the gateway first (up to ``retry_for``: GatewayDown), then ``confirm_wait``."""
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
            first: dict[tuple[str, str], int] = {}  # (number, event) -> its earliest attempt reported
            for f in await self.ledger.facts(call, ("sms.dlr",), since=since):
                who = (f.data["phone"], f.data.get("ref", ""))
                first[who] = min(first.get(who, f.data["attempt"]), f.data["attempt"])
            taken = {w for w in wanted if w[:2] in first and first[w[:2]] <= w[2]}
            if taken == wanted or self.clock.monotonic() >= end:
                return taken
            await self.clock.sleep(CONFIRM_POLL)

    async def _resume(self) -> set[tuple[str, str]]:
        """What earlier runs sent, by number and event. A send an earlier run began and never finished counts as
        sent if a delivery report of it came, else it is sent again as its next attempt."""
        call = facts.campaign_call(self.campaign)
        rows = await self.ledger.facts(call, ("sms.sent", "sms.refused", "sms.sending"), since=self.since)
        done = {(f.data["phone"], f.data.get("ref", "")) for f in rows if f.kind == "sms.sent"}
        ended = {(f.data["phone"], f.data.get("ref", ""), f.data["attempt"]) for f in rows if f.kind == "sms.refused"}
        begun: dict[tuple[str, str], Fact] = {}  # (number, event) -> its latest unfinished attempt
        for f in rows:
            who = (f.data["phone"], f.data.get("ref", ""))
            if f.kind == "sms.sending" and who not in done and (*who, f.data["attempt"]) not in ended:
                if f.data["attempt"] >= (begun[who].data["attempt"] if who in begun else 0):
                    begun[who] = f
        if not begun:
            return done
        log.info("sms %s: %d message(s) an earlier run began and did not finish: waiting up to %.0f s for their "
                 "delivery reports", self.campaign, len(begun), self.rules.confirm_wait)  # fmt: skip
        since = min(f.at for f in begun.values()) - REPORT_SKEW
        taken = await self._reported({(*who, f.data["attempt"]) for who, f in begun.items()}, since)
        for who, f in begun.items():
            d = f.data
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
