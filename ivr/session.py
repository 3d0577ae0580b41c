"""The IVR over FastAGI: a thin shell that runs the sans-I/O interpreter on one AGI session.

It also owns what is shared between sessions: the current menu (reloaded when the file changes, kept
when the new file is invalid), the snapshot the degraded script reads, the session limit (the next
caller skips the menu), and the post-call survey route.

Hand-over contract with the ACD: the session ends itself with SET CONTEXT/EXTENSION/PRIORITY (never a
Redirect of a channel in AGI); the caller waits in ``engine-wait`` and ``on_queued`` gets a ``Waiting``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.asterisk.fastagi import AgiChannel, AgiHangup
from engine.clock import Clock
from engine.dialplan import FIRST, START, TRANSFER_CONTEXT, WAIT_CONTEXT
from engine.model.facts import Fact, fact_key
from engine.ports import Calls, Ledger, Spawner
from engine.privacy import mask_number
from ivr.bundle import write_snapshot
from ivr.interpreter import (
    CallbackRequest,
    Handover,
    Hangup,
    Interpreter,
    Play,
    RecordMessage,
    SayDigits,
    SetLanguage,
    SetVariables,
    Step,
    Transfer,
    WaitDigit,
    survey,
)
from ivr.menu import MenuError
from ivr.model import Menu
from ivr.places import IvrPlaces
from ivr.settings import IvrSettings
from ivr.site_menu import SiteMenu

log = logging.getLogger("hotline.ivr")


@dataclass(frozen=True)
class Waiting:
    call_id: str
    uniqueid: str
    channel: str
    caller: str
    digit: str = ""
    service: str = ""
    priority: int = 0
    skills: dict[str, int] = field(default_factory=dict)
    survey: bool = False


VOICEMAIL_PROMPT = "vm-intro"  # "please leave your message after the tone" (a menu prompt of that name wins)
VOICEMAIL_BYE = "vm-goodbye"
VOICEMAIL_SECONDS = 120


class IvrService:
    """``settings``: the ``[ivr]`` section; ``site_menu``: what the menu needs of the rest of the site;
    ``places``: its files as this machine sees them."""

    def __init__(self, settings: IvrSettings, site_menu: SiteMenu, places: IvrPlaces, *, ledger: Ledger,
                 calls: Calls, spawner: Spawner, clock: Clock,
                 on_queued: Callable[[Waiting], Awaitable[None]]) -> None:  # fmt: skip
        self.site_menu = site_menu
        self.ledger = ledger
        self.calls = calls
        self.spawner = spawner
        self.clock = clock
        self.on_queued = on_queued
        # the ACD's call-back queue (set by the composition root): a menu's call back is placed like one chosen
        # while waiting, when the caller's turn comes
        self.on_callback: Callable[[str, str, str, str], Awaitable[None]] | None = None
        self.places = places
        self.max_sessions = settings.max_sessions
        self.reload_interval = settings.reload_interval
        self.messages_dir = site_menu.messages_dir
        self.active = 0
        self.overflowed = 0
        self.menu_path = site_menu.path
        self._mtime = 0.0
        self.menu: Menu = site_menu.builtin
        if self.menu_path is not None:
            problems = self.reload()
            if problems:
                # `hotline check` refuses such a site; a menu made invalid between check and start is still refused
                raise MenuError(problems)

    # ---- the menu: load, reload, snapshot -------------------------------------------------------------
    def _load(self) -> Menu:
        assert self.menu_path is not None
        return self.site_menu.load(self.menu_path)

    def reload(self) -> list[str]:
        """Load the menu file again; on any problem keep the running menu and return the problems."""
        if self.menu_path is None:
            return []
        try:
            self._mtime = self.menu_path.stat().st_mtime
            menu = self._load()
        except MenuError as exc:
            return exc.problems
        except OSError as exc:
            return [f"{self.menu_path}: {exc}"]
        self.menu = menu
        self.write_snapshot()
        log.info("menu %s loaded: %d node(s)", self.menu_path, len(menu.nodes))
        return []

    def write_snapshot(self) -> None:
        """The last valid menu, for the classic AGI script the dialplan falls back to (atomic replace)."""
        snap = self.places.snapshot
        if snap is None:
            return
        data = self.site_menu.snapshot(self.menu, self.places.prompt_dir)
        try:
            write_snapshot(snap, data)
        except OSError as exc:
            log.warning("could not write the menu snapshot %s: %s", snap, exc)

    async def watch(self) -> None:
        """Named task: reload the menu when its file changes; an invalid file leaves the running menu."""
        if self.menu_path is None:
            return
        while True:
            await asyncio.sleep(self.reload_interval)
            try:
                mtime = self.menu_path.stat().st_mtime
            except OSError:
                continue
            if mtime == self._mtime:
                continue
            problems = self.reload()
            if problems:
                log.error("menu %s not reloaded, the running menu stays:\n  %s", self.menu_path,
                          "\n  ".join(problems))  # fmt: skip
                await self.ledger.fact("ivr.reload_refused", "", "", fact_key("ivr.reload_refused", mtime),
                                       problems=problems[:20])  # fmt: skip
            else:
                await self.ledger.fact("ivr.reloaded", "", "", fact_key("ivr.reloaded", mtime),
                                       nodes=len(self.menu.nodes))  # fmt: skip

    # ---- one caller -------------------------------------------------------------------------------------
    def prompt_file(self, prompt: str, language: str) -> str:
        """A prompt the menu defines is played from the built folder; otherwise it is an Asterisk sound name."""
        if self.menu.prompts.get(prompt):
            return f"{self.places.prompt_dir.rstrip('/')}/{language}/{prompt}"
        return prompt

    async def __call__(self, agi: AgiChannel) -> None:
        uid = agi.uniqueid
        model = self.calls.model
        ch = model.channels.get(uid)
        if ch is None and agi.env.get("context") in model.trunk_contexts:
            # came in while the AMI link was down: the first event the model sees of it (mid-call, once the link
            # is back) must still name it a caller, or no later start finds it open to close
            model.associate(uid, uid, "caller")
        call_id = (ch.call_id or ch.linkedid) if ch else uid
        log.info("hotline call %s from %s on %s", call_id, mask_number(agi.env.get("callerid")), agi.channel)
        # a carrier (or the load runner) may tag the call; kept on the record to join outside reports
        tag = await agi.command("GET FULL VARIABLE", "${PJSIP_HEADER(read,X-Hotline-Corr)}")
        if tag.ok and tag.result == "1" and tag.data:
            await self.ledger.fact("call.tag", call_id, uid, fact_key("call.tag", call_id), tag=tag.data[:120])
        menu = self.menu  # a reload mid-call does not change this caller's menu
        if self.active >= self.max_sessions:
            await self._overflow(agi, call_id, menu)
            return
        self.active += 1
        try:
            await self._run(agi, call_id, menu)
        finally:
            self.active -= 1

    async def _overflow(self, agi: AgiChannel, call_id: str, menu: Menu) -> None:
        """The 9th caller: no menu, a short greeting, straight to the default service."""
        self.overflowed += 1
        uid = agi.uniqueid
        await self.ledger.fact("ivr.overflow", call_id, uid, fact_key("ivr.overflow", uid), active=self.active,
                               limit=self.max_sessions, service=menu.default_service)  # fmt: skip
        await agi.answer()
        if menu.overflow_prompt:
            await agi.stream(self.prompt_file(menu.overflow_prompt, menu.languages[0]))
        await self._hand_over(agi, call_id, Handover(menu.default_service, node="(overflow)"), "", menu)

    async def _run(self, agi: AgiChannel, call_id: str, menu: Menu) -> None:
        uid = agi.uniqueid
        # the engine's clock, not the wall: hours and holidays follow virtual time in simulations
        now = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC)
        it = Interpreter(menu, now, case=f"case-{call_id}")
        seq = 0
        last_digit = ""
        # Step facts are written beside the session, not between its commands: Asterisk reads and drops
        # the channel's frames while it waits for the next AGI command, so a digit pressed then is lost.
        writes: list[asyncio.Task[None]] = []
        await agi.answer()
        cmd = it.start()
        try:
            while not it.done:
                reply: str | float | None = None
                if isinstance(cmd, Step):
                    seq += 1
                    if cmd.kind == "digit":
                        last_digit = cmd.detail
                    fact = Fact("ivr.step", self.clock.now(), call_id, uid, fact_key("ivr.step", uid, seq),
                                {"node": cmd.node, "step": cmd.kind, "detail": cmd.detail, "seq": seq})  # fmt: skip
                    writes.append(self.spawner.spawn(self.ledger.record([fact]), f"ivr-step:{uid}:{seq}"))
                elif isinstance(cmd, Play):
                    reply = await self._play(agi, cmd)
                elif isinstance(cmd, WaitDigit):
                    reply = await agi.wait_digit(int(cmd.seconds * 1000))
                elif isinstance(cmd, SayDigits):
                    reply = (await agi.command("SAY DIGITS", cmd.digits, cmd.escape)).digit
                elif isinstance(cmd, SetLanguage):
                    await agi.set_variable("CHANNEL(language)", cmd.language)
                elif isinstance(cmd, SetVariables):
                    for k, v in cmd.values.items():
                        await agi.set_variable(k, v)
                    if cmd.tags:
                        await self.ledger.fact("ivr.tags", call_id, uid, fact_key("ivr.tags", uid, seq),
                                               tags=list(cmd.tags))  # fmt: skip
                    if cmd.values:  # what the caller keyed in (an account) reaches the agent's page from here
                        await self.ledger.fact("ivr.variables", call_id, uid, fact_key("ivr.variables", uid, seq),
                                               variables=dict(cmd.values))  # fmt: skip
                elif isinstance(cmd, CallbackRequest):
                    await self.ledger.fact("ivr.callback", call_id, uid, fact_key("ivr.callback", uid),
                                           number=cmd.number, service=cmd.service)  # fmt: skip
                    log.info("call %s: call back requested to %s", call_id, mask_number(cmd.number))
                    if self.on_callback is not None:  # the ACD places it in the caller's place in line
                        await self.on_callback(call_id, uid, cmd.number, cmd.service)
                elif isinstance(cmd, RecordMessage):
                    reply = await self._record(agi, call_id, cmd)
                cmd = it.send(reply)
        except AgiHangup:
            step = it.hung_up()
            await self.ledger.fact("ivr.step", call_id, uid, fact_key("ivr.step", uid, seq + 1), node=step.node,
                                   step="hangup", detail="", seq=seq + 1)  # fmt: skip
            raise
        finally:
            await asyncio.gather(*writes, return_exceptions=True)
        if isinstance(cmd, Handover):
            await self._hand_over(agi, call_id, cmd, last_digit, menu)
        elif isinstance(cmd, Transfer):
            await self.ledger.fact("ivr.transfer", call_id, uid, fact_key("ivr.transfer", uid), number=cmd.number,
                                   node=cmd.node)  # fmt: skip
            await agi.goto(TRANSFER_CONTEXT, cmd.number, FIRST)
        elif isinstance(cmd, Hangup):
            await self.ledger.fact("ivr.end", call_id, uid, fact_key("ivr.end", uid), node=cmd.node)
            await agi.command("HANGUP")

    async def _play(self, agi: AgiChannel, cmd: Play) -> str | None:
        path = self.prompt_file(cmd.prompt, cmd.language)
        if cmd.wait > 0:
            res = await agi.command("GET OPTION", path, cmd.escape, str(int(cmd.wait * 1000)))
        else:
            res = await agi.stream(path, cmd.escape)
        return res.digit

    async def _record(self, agi: AgiChannel, call_id: str, cmd: RecordMessage) -> float | None:
        """A voicemail or complaint, recorded next to the call recordings and linked to a case."""
        path = f"{self.messages_dir}/{cmd.case}"
        res = await agi.command("RECORD FILE", path, "wav", "#", str(cmd.max_seconds * 1000), "BEEP", "s=4",
                                timeout=cmd.max_seconds + 30)  # fmt: skip
        seconds = round(res.endpos / 8000, 1) if res.endpos is not None else None
        ok = res.ok and res.result != "-1"
        await self.ledger.record([Fact("ivr.message", self.clock.now(), call_id, agi.uniqueid,
                                       fact_key("ivr.message", agi.uniqueid), {"kind": cmd.kind, "case": cmd.case,
                                       "file": path + ".wav", "seconds": seconds, "ok": ok})])  # fmt: skip
        return seconds if ok else None

    async def _hand_over(self, agi: AgiChannel, call_id: str, h: Handover, digit: str, menu: Menu) -> None:
        uid = agi.uniqueid
        await agi.set_variable("HOTLINE_CALL", call_id)
        await agi.goto(WAIT_CONTEXT, START, FIRST)
        # the caller is now the ACD's; the AGI session closes when this handler returns
        await self.ledger.fact("call.queued", call_id, uid, fact_key("call.queued", call_id), digit=digit,
                               service=h.service, priority=h.priority, skills=h.skills, node=h.node)  # fmt: skip
        w = Waiting(call_id, uid, agi.channel, agi.env.get("callerid"), digit, h.service, h.priority, dict(h.skills),
                    h.survey and bool(menu.survey))  # fmt: skip
        self.spawner.spawn(self.on_queued(w), f"connect:{call_id}")

    # ---- a rule step's voicemail (the ACD sends a caller who waited too long) -----------------------------
    async def voicemail(self, agi: AgiChannel) -> None:
        """FastAGI route ``voicemail``: the message is recorded next to the call recordings and linked to the
        call's case, like the menu's record node."""
        got = await agi.command("GET VARIABLE", "HOTLINE_CALL")
        call_id = got.data if got.ok and got.result == "1" and got.data else agi.uniqueid
        try:
            await agi.stream(self.prompt_file(VOICEMAIL_PROMPT, self.menu.languages[0]))
            await self._record(agi, call_id, RecordMessage("voicemail", f"case-{call_id}", VOICEMAIL_SECONDS))
            await agi.stream(self.prompt_file(VOICEMAIL_BYE, self.menu.languages[0]))
            await agi.command("HANGUP")
        except AgiHangup:
            pass  # the message (if any) was stored by _record before the caller hung up

    # ---- the post-call survey ---------------------------------------------------------------------------
    async def survey(self, agi: AgiChannel) -> None:
        """FastAGI route ``survey``: the caller stayed on after the agent hung up; 1-5 is stored against the
        call and the agent who talked to the caller."""
        uid = agi.uniqueid
        got = await agi.command("GET VARIABLE", "HOTLINE_CALL")
        call_id = got.data if got.ok and got.result == "1" and got.data else uid
        lang = await agi.command("GET VARIABLE", "CHANNEL(language)")
        language = lang.data if lang.ok and lang.data in self.menu.languages else self.menu.languages[0]
        agent = await self._agent_of(call_id)
        menu = self.menu
        if not menu.survey:
            await agi.command("HANGUP")
            return
        gen = survey(menu, language)
        score: int | None = None
        try:
            cmd = next(gen)
            while True:
                if isinstance(cmd, Play):
                    reply = await self._play(agi, cmd)
                elif isinstance(cmd, WaitDigit):
                    reply = await agi.wait_digit(int(cmd.seconds * 1000))
                else:
                    reply = None
                cmd = gen.send(reply)
        except StopIteration as stop:
            score = stop.value
        except AgiHangup:
            score = None
        await self.ledger.fact("ivr.survey", call_id, uid, fact_key("ivr.survey", call_id), score=score, agent=agent)
        log.info("call %s: survey score %s for agent %s", call_id, score, agent)
        if not agi.hung_up:
            await agi.command("HANGUP")

    async def _agent_of(self, call_id: str) -> str:
        """The agent whose leg was bridged with the caller (the last offer that reached a bridge)."""
        facts = await self.ledger.facts(call_id)
        bridged = {f.uniqueid for f in facts if f.kind == "bridge.enter"}
        offers = [f for f in facts if f.kind == "agent.offer" and f.data.get("leg") in bridged]
        return str(offers[-1].data.get("agent", "")) if offers else ""
