"""The dialer's public operations: every campaign of the site, one runner each (``dialer.runner``); the
``outbound`` AGI route, the ACD's loans of idle outbound agents and its guard's holds, agents' actions on
outbound calls, QA labels, and the factory the composition root calls.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

from acd.board import Board, Conflict
from dialer.dialing import Recording
from dialer.lead_source import Leads, StoredLeads
from dialer.runner import CampaignRunner
from dialer.state import Seat
from engine.app import Engine
from engine.asterisk.ami_codec import Frame
from engine.asterisk.fastagi import AgiChannel
from engine.model.facts import fact_key
from engine.ports import InboundView

log = logging.getLogger("hotline.dialer")


class Dialer:
    """Every campaign of the site, one runner each; the ``outbound`` AGI route finds the dial by uniqueid."""

    def __init__(self, engine: Engine, runners: list[CampaignRunner]) -> None:
        self.engine = engine
        self.runners = runners
        engine.frame_hooks.append(self._on_frame)

    def _on_frame(self, frame: Frame) -> None:
        for r in self.runners:
            r.on_frame(frame)

    async def outbound(self, chan: AgiChannel) -> None:
        for r in self.runners:
            d = r.dials.get(chan.uniqueid)
            if d is not None:
                await r.on_answer(d, chan)
                return
        log.warning("outbound AGI for an unknown dial %s: hung up", chan.uniqueid)
        await chan.command("HANGUP")

    # ---- cooperation with the ACD: an outbound agent lent to the hotline leaves the pool at once -----------
    # who holds an agent is the board's (acd.board); these carry out its operations and write the facts
    def session_for(self, agent_id: str) -> str | None:
        """The agent's session channel when it sits idle in it (free to take a hotline caller), else None."""
        found = self._seat(agent_id)
        return found[0].board.idle_session(agent_id) if found else None

    async def lend(self, agent_id: str, call_id: str) -> str | None:
        """Take an idle outbound agent out of pacing for an ACD call; returns its session channel (None: it
        is no longer idle in its session)."""
        found = self._seat(agent_id)
        if found is None:
            return None
        r, seat = found
        try:
            channel = r.board.lend(agent_id, call_id)
        except Conflict as exc:
            log.info("campaign %s: agent %s not lent: %s", r.c.name, agent_id, exc)
            return None
        await self.engine.fact("dialer.lent", call_id, seat.uniqueid, fact_key("dialer.lent", agent_id, call_id),
                               agent=agent_id, campaign=r.c.name)  # fmt: skip
        return channel

    async def give_back(self, agent_id: str, call_id: str) -> None:
        found = self._seat(agent_id)
        if found is None:
            return
        r, seat = found
        if r.board.give_back(agent_id):
            r.wake()
            await self.engine.fact("dialer.returned", call_id, seat.uniqueid,
                                   fact_key("dialer.returned", agent_id, call_id), agent=agent_id,
                                   campaign=r.c.name)  # fmt: skip

    async def reserve(self, agent_id: str, reason: str) -> None:
        """The hotline guard holds this agent: no new customers, out of the pacer's count, session kept."""
        runner, seat = self.seat_of(agent_id)
        runner.board.guard_reserve(agent_id)
        await self.engine.fact("dialer.reserved", "", seat.uniqueid,
                               fact_key("dialer.reserved", agent_id, self.engine.clock.now()), agent=agent_id,
                               campaign=runner.c.name, reason=reason)  # fmt: skip

    async def release(self, agent_id: str, reason: str) -> None:
        runner, seat = self.seat_of(agent_id)
        runner.board.guard_release(agent_id)
        runner.wake()
        await self.engine.fact("dialer.released", "", seat.uniqueid,
                               fact_key("dialer.released", agent_id, self.engine.clock.now()), agent=agent_id,
                               campaign=runner.c.name, reason=reason)  # fmt: skip

    async def qa_label(self, call_id: str, machine: bool) -> bool:
        """A QA label for one of our dials (its call id names the campaign, see ``_new_id``); ValueError for
        a call id no campaign of this site placed."""
        for r in sorted(self.runners, key=lambda r: -len(r.c.name)):  # "a-b" before "a": the longest name wins
            rest = call_id.removeprefix(f"dl-{r.c.name}-")
            if rest != call_id and re.fullmatch(r"\d+-\d+", rest):
                return await r.qa_label(call_id, machine)
        raise ValueError(f"QA label for {call_id!r}: not a dial of any campaign of this site")

    def _seat(self, agent_id: str) -> tuple[CampaignRunner, Seat] | None:
        return next(((r, r.seats[agent_id]) for r in self.runners if agent_id in r.seats), None)

    def seat_of(self, agent_id: str) -> tuple[CampaignRunner, Seat]:
        found = self._seat(agent_id)
        if found is None:
            raise ValueError(f"agent {agent_id} works no campaign")
        return found

    async def control(self, agent_id: str, action: str, arg: str = "") -> str:
        """Agent actions on outbound calls: ``disposition`` (code), ``callback`` / ``callback_any`` (minutes);
        in a preview campaign ``preview_next``, ``preview_dial``, ``preview_skip`` and ``preview_call`` (next and
        dial at once). Raises ValueError with the reason when the action does not fit."""
        runner, seat = self.seat_of(agent_id)
        preview = {"preview_next": runner.preview_next, "preview_dial": runner.preview_dial,
                   "preview_skip": runner.preview_skip, "preview_call": runner.preview_call}  # fmt: skip
        if action in preview:
            return await preview[action](seat)
        if action == "disposition":
            return await runner.disposition(seat, arg)
        if action in ("callback", "callback_any"):
            if not arg.isdigit():
                raise ValueError("a call back needs its delay in minutes")
            return await runner.call_back(seat, int(arg), own=action == "callback")
        raise ValueError(f"unknown outbound action {action!r}")

    async def record_definitions(self) -> None:
        """Store each campaign's definition unless that exact version is stored already (append-only), so
        reports can say which rules were in force. Only a SQL store keeps them (not the in-memory one)."""
        store = self.engine.store
        sql = getattr(store, "engine", None)
        if sql is None:
            return
        from dialer.definitions import CampaignVersions

        versions = CampaignVersions(sql)
        try:
            await store.write(versions.record([r.c for r in self.runners], self.engine.clock.now()))
        except Exception:  # noqa: BLE001 - a history row missing is no reason to leave the agents idle
            log.exception("campaign definitions could not be stored")

    async def run(self) -> None:
        await self.record_definitions()
        async with asyncio.TaskGroup() as tg:
            for r in self.runners:
                tg.create_task(r.run(), name=f"campaign:{r.c.name}")


def build_dialer(engine: Engine, recorder: Recording | None = None, inbound: InboundView | None = None,
                 synthetic: Callable[[], Leads] | None = None,
                 board: Board | None = None) -> Dialer | None:  # fmt: skip
    """One runner per campaign of the site; ``recorder`` records every conversation (the composition root
    passes the same recorder the ACD uses, so outbound recordings are finished and indexed alike); ``inbound``
    is the ACD's view of hotline callers, for the pacer's blended floor; ``synthetic`` makes the simulator's
    lead list for campaigns with ``leads = "synthetic"``; ``board`` the site's agent board, shared with the ACD."""
    runners = []
    for c in engine.site.campaigns:
        if c.leads == "synthetic":
            if synthetic is None:
                raise ValueError(f"campaign {c.name}: synthetic leads come from the simulator only")
            leads: Leads = synthetic()
        else:
            sql = getattr(engine.store, "engine", None)
            if sql is None:
                raise ValueError(f"campaign {c.name}: stored leads need the SQL store")
            leads = StoredLeads(sql, c.name, c.team)
        if c.profile == "uk" and c.amd and c.mode != "preview":  # HUMAN comes 0.8 s after the greeting
            log.warning("campaign %s: UK rule with AMD on: a verdict after answer + 2.3 s means the abandon message "
                        "at once (PaceBench runs the UK profile with AMD off)", c.name)  # fmt: skip
        runners.append(CampaignRunner(engine, c, leads, recorder=recorder, inbound=inbound, board=board))
    return Dialer(engine, runners) if runners else None
