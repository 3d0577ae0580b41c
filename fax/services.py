"""The fax lines at work: calls in on a fax number received (or answered busy), jobs sent in order as lines come
free and dialed again by rule, each result a fact. The engine's ``fax-sender`` task runs ``run``; the menu's
route hands fax numbers' calls to ``front``; the dialplan's hang-up handler reports each fax on ``done``.

Where a result comes from: a fax that was answered ends in the ``fax-done`` route with res_fax's status and
error (read in the hang-up handler, so a far end that hangs up mid-page is reported too); a dial never answered
ends with Asterisk's Hangup cause. A line whose word never comes is freed after ``GRACE`` with that said.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dialer.outcomes import classify
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiDisconnected, AmiError, AmiTimeout, Resync
from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.clock import Clock
from engine.dialplan import FAX_BUSY_EXTEN, FAX_IN_CONTEXT, FAX_OUT_CONTEXT, FIRST, START
from engine.model.facts import Fact, fact_key
from engine.ports import Actions, Calls, Ledger, Spawner
from engine.privacy import mask_number
from fax import facts as ff
from fax.images import ImageError, tiff_pages, tiff_to_pdf
from fax.lines import Lines
from fax.report import FaxRow, open_jobs
from fax.settings import FaxSettings

log = logging.getLogger("hotline.fax")

POLL = 1.0  # seconds between looks for new jobs (the send command writes them to the ledger)
GRACE = 30.0  # seconds a line waits for its fax's word after the call ended
LOOKBACK = 7 * 86400.0
RETRIED = frozenset({"busy", "no_answer", "congestion", "rejected", "failed"})
EVENTS = frozenset({"Hangup", "OriginateResponse", "Newstate"})


@dataclass
class Dial:
    job: FaxRow
    attempt: int
    channel: str
    answered: bool = False
    reason_code: int | None = None


def _digits(number: str) -> str:
    return number.lstrip("+")


class FaxService:
    def __init__(self, settings: FaxSettings, *, actions: Actions, calls: Calls, ledger: Ledger, spawner: Spawner,
                 clock: Clock, case_of: Callable[[str], Awaitable[str]] | None = None) -> None:  # fmt: skip
        """``case_of``: a number's live case a fax from it joins ("" for none: the fax opens its own)."""
        self.s = settings
        self.case_of = case_of
        self.actions = actions
        self.calls = calls
        self.ledger = ledger
        self.spawner = spawner
        self.clock = clock
        self.lines = Lines(settings.lines)
        self.numbers = {_digits(n) for n in settings.numbers}
        self.jobs: dict[str, FaxRow] = {}  # open jobs by id
        self.later: dict[str, float] = {}  # job -> when it may be dialed again
        self.dials: dict[str, Dial] = {}  # channel id -> the dial
        self.words: set[str] = set()  # channels whose fax-done came
        self.early: dict[str, dict[str, Any]] = {}  # the last run's dials reported before ``_recover``
        self.recovered = False
        self._seen_since = 0.0
        self._wake = asyncio.Event()

    # ---- calls in --------------------------------------------------------------------------------------------
    def front(self, menu: Callable[[AgiChannel], Awaitable[None]]) -> Callable[[AgiChannel], Awaitable[None]]:
        """The ``ivr`` route's handler: a fax number's call is received here, any other goes to the menu."""

        async def handler(agi: AgiChannel) -> None:
            if _digits(agi.env.get("arg_1")) in self.numbers:
                await self.receive(agi)
            else:
                await menu(agi)

        return handler

    async def receive(self, agi: AgiChannel) -> None:
        uid, did = agi.uniqueid, agi.env.get("arg_1")
        number = agi.env.get("callerid")
        number = "" if number in ("", "unknown", "<unknown>") else number
        if not self.lines.take_in(uid):
            reason = f"all {self.s.lines} fax lines in use"
            await self.ledger.fact(ff.REFUSED, uid, uid, fact_key(ff.REFUSED, uid), number=number, did=did,
                                   reason=reason)  # fmt: skip
            log.warning("fax call %s from %s answered busy: %s", uid, mask_number(number), reason)
            await agi.goto(FAX_IN_CONTEXT, FAX_BUSY_EXTEN, FIRST)
            return
        local = self.s.local_dir / "in" / f"{uid}.tif"
        try:
            await asyncio.to_thread(local.parent.mkdir, parents=True, exist_ok=True)
            await self.ledger.fact(ff.RECEIVING, uid, uid, fact_key(ff.RECEIVING, uid), number=number, did=did,
                                   file=str(local))  # fmt: skip
            await agi.set_variable("HOTLINE_FAX_FILE", self.s.seen_by_asterisk(local))
            await agi.set_variable("HOTLINE_FAX_STATION", self.s.station_id)
            await agi.goto(FAX_IN_CONTEXT, START, FIRST)
        except AgiHangup:
            self.lines.release(uid)
            await self._done(uid, "failed", "in", reason="the caller hung up before the fax began")
            raise
        except OSError as exc:
            # the fax folder cannot be written: refused (busy), said with the folder, and the line given back
            self.lines.release(uid)
            reason = f"cannot use {local.parent}: {exc.strerror or exc}"
            await self.ledger.fact(ff.REFUSED, uid, uid, fact_key(ff.REFUSED, uid), number=number, did=did,
                                   reason=reason)  # fmt: skip
            log.error("fax call %s answered busy: %s", uid, reason)
            await agi.goto(FAX_IN_CONTEXT, FAX_BUSY_EXTEN, FIRST)
            return
        log.info("fax call %s from %s on %s: receiving", uid, mask_number(number), did)

    # ---- the dialplan's word at the end of each fax ------------------------------------------------------------
    async def done(self, agi: AgiChannel) -> None:
        """``fax-done``: in|out, status, status text, error, pages, remote station id, rate, resolution."""
        args = agi.env.args + [""] * 8
        way, status, text, error, pages, station = (args[0], args[1], unquote(args[2]), unquote(args[3]),
                                                    args[4], unquote(args[5]))  # fmt: skip
        ch = agi.uniqueid
        self.words.add(ch)
        word = {"status": status, "text": text, "error": error, "pages": int(pages) if pages.isdigit() else 0,
                "station": station.strip(), "rate": args[6], "resolution": args[7]}  # fmt: skip
        if way.startswith("i"):
            self.words.discard(ch)  # kept only while a Hangup may still be waiting for it
            self.spawner.spawn(self._received(ch, word), f"fax-received:{ch}")
        else:
            self.spawner.spawn(self._dial_over(ch, word), f"fax-sent:{ch}")

    async def _received(self, uid: str, word: dict[str, Any]) -> None:
        self.lines.release(uid)
        local = self.s.local_dir / "in" / f"{uid}.tif"
        if word["status"] != "SUCCESS":
            await asyncio.to_thread(local.unlink, True)  # a cut-off fax keeps no half image
            await self._done(uid, "failed", "in", pages=word["pages"], station=word["station"], reason=_why(word))
            log.warning("fax call %s failed: %s", uid, _why(word))
            return
        await self._index(uid, local, word, "received")

    async def _index(self, uid: str, local: Path, word: dict[str, Any], result: str) -> None:
        """The received TIFF as a PDF, then its fact (a fax is indexed whole or not at all)."""
        pdf = local.with_suffix(".pdf")
        began = await self.ledger.facts(uid, (ff.RECEIVING,))
        number = str(began[0].data.get("number", "")) if began else ""
        try:
            pages = await asyncio.to_thread(tiff_pages, local)
            await asyncio.to_thread(tiff_to_pdf, local, pdf)
        except (ImageError, OSError) as exc:
            await self._done(uid, "failed", "in", number=number, station=word["station"],
                             reason=f"received, but not readable: {exc}")  # fmt: skip
            return
        case = await self.case_of(number) if self.case_of is not None and number else ""
        await self._done(uid, result, "in", number=number, pages=pages, station=word["station"], pdf=str(pdf),
                         reason=word.get("note", ""), rate=word["rate"], resolution=word["resolution"],
                         case=case)  # fmt: skip
        await asyncio.to_thread(local.unlink, True)  # only once the PDF is indexed: a failure keeps the image
        log.info("fax call %s: %d page(s) from station %r kept as %s", uid, pages, word["station"], pdf)

    async def _done(self, fax_id: str, result: str, way: str, **data: Any) -> None:
        await self.ledger.fact(ff.DONE, fax_id, fax_id, ff.done_key(fax_id), result=result, way=way, **data)

    # ---- sending ---------------------------------------------------------------------------------------------
    async def run(self) -> None:
        """The ``fax-sender`` task: take up jobs left open by the last run, then dial jobs as lines come free."""
        await self.actions.ready.wait()
        await self.calls.caught_up(5.0)  # the model as Asterisk has it, before judging what the last run left
        await self._recover()
        self.recovered = True
        while True:
            self._wake.clear()
            if self.actions.ready.is_set():  # no dial while the link is down: it would only use up an attempt
                try:
                    await self.step()
                except Exception:  # noqa: BLE001 - a store or AMI error now: the next round tries again
                    log.exception("fax: a round of the sender failed; trying again in %g s", POLL)
            try:
                await asyncio.wait_for(self._wake.wait(), POLL)
            except TimeoutError:
                pass

    async def step(self) -> None:
        """New jobs from the ledger; jobs whose wait is over back in line; as many dialed as lines are free."""
        await self._look()
        now = self.clock.now()
        for job, at in sorted(self.later.items(), key=lambda kv: kv[1]):
            if at <= now:
                del self.later[job]
                self.lines.wait(job)
        while (job := self.lines.next_out()) is not None:
            if job in self.jobs:
                await self._dial(self.jobs[job])
            else:
                self.lines.release(job)

    async def _look(self) -> None:
        facts = await self.ledger.facts(None, ff.KINDS, max(self._seen_since - 60.0, self.clock.now() - LOOKBACK))
        for job_id, row in open_jobs(facts).items():
            if job_id in self.jobs or row.status == "dialing":
                continue
            self.jobs[job_id] = row
            if row.next_at and row.next_at > self.clock.now():
                self.later[job_id] = row.next_at
            else:
                self.lines.wait(job_id)
        if facts:
            self._seen_since = max(f.at for f in facts)

    async def _recover(self) -> None:
        """Dials the last run left without an end: still live in Asterisk, they keep their line and are awaited;
        reported meanwhile (a ``fax-done`` that came before this), they end with that word; else their result
        cannot be known, and a fax is not sent twice on a guess: ended as uncertain. Faxes in whose end was not
        heard are indexed from what Asterisk left, as uncertain too."""
        facts = await self.ledger.facts(None, ff.KINDS, self.clock.now() - LOOKBACK)
        model = self.calls.model
        for job_id, row in open_jobs(facts).items():
            if row.status != "dialing":
                continue
            channel = ff.channel_of(job_id, row.attempts)
            if channel in model.channels or channel in self.early:
                self.jobs[job_id] = row
                self.lines.held[channel] = "out"
                self.dials[channel] = Dial(row, row.attempts, channel, answered=channel in self.early
                                           or model.channels[channel].up)  # fmt: skip
                if channel in self.early:
                    await self._dial_over(channel, self.early.pop(channel))
                continue
            await self._uncertain(Dial(row, row.attempts, channel), "the engine was away when its last dial ended")
        ended = {f.call_id for f in facts if f.kind == ff.DONE}
        for f in facts:
            if f.kind != ff.RECEIVING or f.call_id in ended:
                continue
            if f.call_id in model.channels:
                self.lines.held[f.call_id] = "in"
                continue
            try:
                await self._in_lost(f.call_id, Path(str(f.data.get("file", ""))), "the engine was away when it ended")
            except Exception:  # noqa: BLE001 - one fax that cannot be read must not stop the sender's start
                log.exception("fax call %s: could not be taken up after a restart", f.call_id)

    async def _in_lost(self, uid: str, local: Path, why: str) -> None:
        """A fax in whose end was never reported: indexed from the pages Asterisk kept, as uncertain; none, failed."""
        word = {"station": "", "rate": "", "resolution": "", "note": f"{why}: its pages are what Asterisk kept"}
        if local.exists() and await asyncio.to_thread(tiff_pages, local) > 0:
            await self._index(uid, local, word, "uncertain")
        else:
            await self._done(uid, "failed", "in", reason=f"{why}; no page kept")

    async def _uncertain(self, d: Dial, why: str) -> None:
        """A dial that may have sent the fax, with no word of how it ended: the job ends, never sent again."""
        self.dials.pop(d.channel, None)
        self.lines.release(d.channel)
        self.jobs.pop(d.job.id, None)
        self._wake.set()
        await self._end_attempt(d.job, d.attempt, "unknown", why)
        await self._done(d.job.id, "uncertain", "out", number=d.job.number, case=d.job.case, attempts=d.attempt,
                         reason=f"{why}: check with the far end before sending it again")  # fmt: skip
        log.warning("fax %s: uncertain: %s", d.job.id, why)

    async def _dial(self, job: FaxRow) -> None:
        n = job.attempts + 1
        job.attempts = n
        job.status = "dialing"
        channel = ff.channel_of(job.id, n)
        self.lines.dialing(job.id, channel)
        self.dials[channel] = Dial(job, n, channel)
        await self.ledger.fact(ff.ATTEMPT, job.id, channel, ff.attempt_key(job.id, n), attempt=n, channel=channel)
        action: dict[str, Any] = {
            "Action": "Originate", "Channel": f"PJSIP/{job.number}@{self.s.trunk}", "Context": FAX_OUT_CONTEXT,
            "Exten": START, "Priority": FIRST, "Timeout": str(self.s.ring_timeout * 1000), "ChannelId": channel,
            "Async": "true", "Variable": [f"HOTLINE_FAX_FILE={job.tiff}",
                                          f"HOTLINE_FAX_STATION={self.s.station_id}"],
        }  # fmt: skip
        if self.s.caller_id:
            action["CallerID"] = self.s.caller_id
        log.info("fax %s: dial %d to %s, %d page(s)", job.id, n, mask_number(job.number), job.pages)
        try:
            await self.actions.action(action)
        except (AmiTimeout, AmiDisconnected) as exc:
            # Asterisk may be dialing all the same: the line stays held until the dial shows or surely did not
            log.warning("fax %s: dial %d: no answer to the Originate (%s)", job.id, n, exc)
            self.spawner.spawn(self._unsure_dial(self.dials[channel]), f"fax-dial-unsure:{channel}")
        except AmiError as exc:
            await self._dial_over(channel, None, "failed", f"Asterisk refused the dial: {exc}")

    async def _unsure_dial(self, d: Dial) -> None:
        """An Originate with no answer: once its ring time is over, a dial Asterisk never showed was not made
        (dialed again by rule); one it showed is settled by its own events."""
        await self.clock.sleep(self.s.ring_timeout + 15.0)
        await self.calls.caught_up(5.0)
        model = self.calls.model
        seen = d.channel in model.channels or d.channel in model.ended or d.channel in model.originated
        if d.channel in self.dials and not seen:
            await self._dial_over(d.channel, None, "failed", "Asterisk never showed the dial")

    def on_frame(self, frame: Frame) -> None:
        uid = frame.get("Uniqueid")
        d = self.dials.get(uid)
        if frame.event == "Newstate" and d is not None and frame.get("ChannelState") == "6":
            d.answered = True
        elif frame.event == "OriginateResponse" and d is not None and frame.get("Response").lower() == "failure":
            d.reason_code = int(frame.get("Reason") or 0) if frame.get("Reason").isdigit() else 0
            self.spawner.spawn(self._never_answered(d, None), f"fax-dial-failed:{uid}")
        elif frame.event == "Hangup":
            cause = int(frame.get("Cause")) if frame.get("Cause").isdigit() else None
            if d is not None and not d.answered:
                self.spawner.spawn(self._never_answered(d, cause), f"fax-dial-ended:{uid}")
            elif (d is not None or self.lines.held.get(uid) == "in") and uid not in self.words:
                self.spawner.spawn(self._no_word(uid), f"fax-no-word:{uid}")

    async def on_resync(self, resync: Resync) -> None:
        """The AMI link is back: a fax that ended while it was down had no Hangup to tell. Its word may still come
        (the FastAGI route does not need the link); else, after ``GRACE``, it ends as one with no word."""
        live = {f.get("Uniqueid") for f in resync.channels}
        for channel in list(self.lines.held):
            if channel not in live and not ff.JOB.fullmatch(channel):  # a job's own name: its dial not made yet
                self.spawner.spawn(self._no_word(channel), f"fax-no-word:{channel}")

    async def _never_answered(self, d: Dial, cause: int | None) -> None:
        if cause is None:
            await self.clock.sleep(2.0)  # a Hangup with its cause may follow the failed originate
        if d.channel in self.dials and not d.answered:
            outcome = classify("", cause, d.reason_code)
            await self._dial_over(d.channel, None, outcome, f"{outcome.replace('_', ' ')}"
                                  + (f" (cause {cause})" if cause is not None else ""))  # fmt: skip

    async def _no_word(self, channel: str) -> None:
        await self.clock.sleep(GRACE)
        if channel in self.words:
            self.words.discard(channel)
            return
        reason = "the call ended with no word from Asterisk's fax application"
        d = self.dials.get(channel)
        if d is not None and not d.answered:
            await self._dial_over(channel, None, "failed", "the dial ended unanswered while the AMI link was down")
        elif d is not None:
            await self._uncertain(d, reason)  # answered: the fax may well have gone
        elif self.lines.release(channel):
            await self._in_lost(channel, self.s.local_dir / "in" / f"{channel}.tif", reason)

    async def _dial_over(self, channel: str, word: dict[str, Any] | None, outcome: str = "", reason: str = "") -> None:
        """One dial's end: with ``word`` from the fax application (answered), else ``outcome`` and ``reason``."""
        self.words.discard(channel)
        d = self.dials.pop(channel, None)
        if d is None and word is not None and not self.recovered and ff.job_of(channel):
            self.early[channel] = word  # the last run's dial, reported before this run took its jobs up
            return
        self.lines.release(channel)
        self._wake.set()
        if d is None:
            return
        job = d.job
        if word is not None:
            outcome = "sent" if word["status"] == "SUCCESS" else "failed"
            reason = "" if outcome == "sent" else _why(word)
        if outcome == "sent":
            await self._end_attempt(job, d.attempt, outcome, "")
            await self._done(job.id, "sent", "out", number=job.number, pages=word["pages"] if word else job.pages,
                             station=word["station"] if word else "", attempts=d.attempt, case=job.case)  # fmt: skip
            self.jobs.pop(job.id, None)
            log.info("fax %s sent: %d page(s) on dial %d", job.id, job.pages, d.attempt)
            return
        again = outcome in RETRIED and d.attempt < self.s.attempts
        retry_at = self.clock.now() + self.s.retry_wait if again else None
        await self._end_attempt(job, d.attempt, outcome, reason, retry_at)
        if again:
            assert retry_at is not None
            self.later[job.id] = retry_at
            log.warning("fax %s: dial %d %s: %s; again in %g s", job.id, d.attempt, outcome, reason, self.s.retry_wait)
            return
        self.jobs.pop(job.id, None)
        await self._done(job.id, "failed", "out", number=job.number, reason=reason, attempts=d.attempt, case=job.case)
        log.warning("fax %s failed after %d dial(s): %s", job.id, d.attempt, reason)

    async def _end_attempt(self, job: FaxRow, n: int, outcome: str, reason: str, retry_at: float | None = None) -> None:
        await self.ledger.record(
            [
                Fact(
                    ff.ATTEMPT_END,
                    self.clock.now(),
                    job.id,
                    ff.channel_of(job.id, n),
                    ff.attempt_end_key(job.id, n),
                    {"attempt": n, "outcome": outcome, "reason": reason, "retry_at": retry_at},
                )
            ]
        )

    def wake(self) -> None:
        self._wake.set()


def _why(word: dict[str, Any]) -> str:
    """Asterisk's words for a fax that did not go through: its error and its status text."""
    parts = [p for p in (word.get("error", ""), word.get("text", "")) if p and p not in ("NO_ERROR", "OK")]
    return ": ".join(dict.fromkeys(parts)) or f"fax status {word.get('status') or 'unknown'}"


def new_job_id() -> str:
    return "fx" + uuid.uuid4().hex[:10]
