"""What the ACD tells the world, in one place: the facts it writes to the ledger and the Asterisk-format
queue_log lines (``acd.queue_log``), each event a named method, so the keys (``fact_key``), the payloads and
the order of the two writes are decided here and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acd.agent_state import AgentMachine
from acd.queue_log import QueueLog
from acd.queued import Queued
from acd.router import Decision
from engine.config import Agent
from engine.model.facts import Fact, fact_key
from engine.ports import Ledger, Records

CALLBACK_KEY = "1"  # the key a waiting caller presses to be called back
SYNCED = "acd.agents_synced"
WRAP_UP = "agent.wrap_up"

# the queue_log line each agent control writes (queue, agent field, event); wrapup_end writes none
_MEMBER = {"login": "ADDMEMBER", "logout": "REMOVEMEMBER"}


class Notifier:
    def __init__(self, ledger: Ledger, queue_log: QueueLog, records: Records, agents: Mapping[str, Agent],
                 service: str) -> None:  # fmt: skip
        self.ledger = ledger
        self.queue_log = queue_log
        self.records = records
        self.agents = agents
        self.service = service  # the hotline's: agents' PAUSE lines name it

    # ---- agents -------------------------------------------------------------------------------------------------
    async def agent_control(self, now: float, agent_id: str, action: str, m: AgentMachine) -> None:
        """A person's control (login, logout, pause, resume, wrapup_end) after the machine took it."""
        agent = self.agents[agent_id]
        if action in _MEMBER:
            await self.queue_log.write(now, "MANAGER", self.service, f"PJSIP/{agent.endpoint}", _MEMBER[action], "")
        elif action == "pause":
            await self.queue_log.write(now, "NONE", self.service, agent.name, "PAUSE", m.reason)
        elif action == "resume":
            await self.queue_log.write(now, "NONE", self.service, agent.name, "UNPAUSE", "")
        await self.ledger.fact("agent.status", "", "", fact_key("agent.status", agent_id, action, now), agent=agent_id,
                               action=action, status=m.status.value, reason=m.reason, state=m.state.value)  # fmt: skip

    async def paused(self, now: float, agent_id: str, reason: str) -> None:
        """Paused by the ACD after too many unanswered offers in a row."""
        await self.ledger.fact("agent.paused", "", "", fact_key("agent.paused", agent_id, now), agent=agent_id,
                               reason=reason)  # fmt: skip
        await self.queue_log.write(now, "NONE", self.service, self.agents[agent_id].name, "PAUSE", reason)

    async def wrap_up(self, call_id: str, agent_id: str, began: float, ended: float) -> None:
        await self.ledger.fact(WRAP_UP, call_id, "", fact_key(WRAP_UP, call_id, agent_id), agent=agent_id,
                               seconds=round(ended - began, 3), began=round(began, 3))  # fmt: skip
        await self.records.update_record(call_id)  # the record was derived at the call's end, before this

    async def synced(self, link_up_at: float, states: dict[str, str]) -> None:
        await self.ledger.fact(SYNCED, "", "", fact_key(SYNCED, f"{link_up_at:.6f}"), link_up_at=round(link_up_at, 6),
                               agents=states)  # fmt: skip

    async def guard(self, now: float, agent_id: str, reserve: bool, reason: str) -> None:
        await self.ledger.fact("acd.guard", "", "", fact_key("acd.guard", agent_id, f"{now:.3f}"), agent=agent_id,
                               action="reserve" if reserve else "release", reason=reason,
                               service=self.service)  # fmt: skip

    # ---- callers in line ----------------------------------------------------------------------------------------
    async def enter_queue(self, now: float, call_id: str, service: str, caller: str, position: int) -> None:
        await self.queue_log.write(now, call_id, service, "NONE", "ENTERQUEUE", "", caller, position)

    async def abandon(self, at: float, q: Queued) -> None:
        await self.queue_log.write(at, q.waiting.call_id, q.service, "NONE", "ABANDON", q.position, q.position,
                                   int(at - q.queued_at))  # fmt: skip

    async def timed_out(self, now: float, q: Queued) -> None:
        """Past the service's maximum wait: off to the apology."""
        await self._exit_with_timeout(now, q)
        await self.ledger.fact("acd.timeout", q.waiting.call_id, q.waiting.uniqueid,
                               fact_key("acd.timeout", q.waiting.call_id), service=q.service,
                               waited=round(now - q.queued_at, 3))  # fmt: skip

    async def to_voicemail(self, now: float, q: Queued) -> None:
        await self._exit_with_timeout(now, q)
        await self.ledger.fact("acd.voicemail", q.waiting.call_id, q.waiting.uniqueid,
                               fact_key("acd.voicemail", q.waiting.call_id), service=q.service,
                               waited=round(now - q.queued_at, 3))  # fmt: skip

    async def _exit_with_timeout(self, now: float, q: Queued) -> None:
        await self.queue_log.write(now, q.waiting.call_id, q.service, "NONE", "EXITWITHTIMEOUT", q.position,
                                   q.position, int(now - q.queued_at))  # fmt: skip

    async def announce(self, now: float, q: Queued, what: str, variables: dict[str, str]) -> None:
        w = q.waiting
        await self.ledger.fact("acd.announce", w.call_id, w.uniqueid, fact_key("acd.announce", w.call_id, f"{now:.3f}"),
                               what=what, prompt=variables["HOTLINE_ANNOUNCE"], position=variables["HOTLINE_POS"],
                               wait_minutes=variables["HOTLINE_EWT"])  # fmt: skip

    # ---- offers and conversations -------------------------------------------------------------------------------
    @staticmethod
    def decision(now: float, d: Decision, q: Queued, n: int, candidates: Any) -> Fact:
        """The routing decision, written with the offer it leads to (or alone when the offer could not be made)."""
        # the time too: the counter starts again with the process, and a call routed again after a restart must
        # not have its new decision taken for the old one (an idempotent write would drop it)
        key = fact_key("route.decision", d.call_id, n, f"{now:.3f}")
        return Fact("route.decision", now, d.call_id, q.waiting.uniqueid, key,
                    {"agent": d.agent_id, "score": round(d.score, 2), "step": d.step, "service": q.service,
                     "strategy": d.strategy, "why": d.why, "candidates": candidates})  # fmt: skip

    async def offer_failed(self, decision: Fact) -> None:
        await self.ledger.record([decision])

    async def offer(self, decision: Fact, started: float, q: Queued, agent_id: str, leg: str,
                    session: bool = False) -> None:  # fmt: skip
        """The agent is rung (or, in its always-on session, about to be joined)."""
        call_id = q.waiting.call_id
        key = fact_key("agent.offer", leg, call_id) if session else fact_key("agent.offer", leg)
        data: dict[str, Any] = {"agent": agent_id, "leg": leg, "service": q.service}
        if session:
            data["session"] = True
        await self.ledger.record([decision, Fact("agent.offer", started, call_id, leg, key, data)])

    async def connect(self, now: float, q: Queued, agent_id: str, leg: str, rang: float) -> None:
        await self.queue_log.write(now, q.waiting.call_id, q.service, self.agents[agent_id].name, "CONNECT",
                                   int(now - q.queued_at), leg, int(rang))  # fmt: skip

    async def ring_no_answer(self, now: float, q: Queued, agent_id: str, rang: float) -> None:
        await self.queue_log.write(now, q.waiting.call_id, q.service, self.agents[agent_id].name, "RINGNOANSWER",
                                   int(rang * 1000))  # fmt: skip

    async def complete(self, ended: float, q: Queued, agent_id: str, connected: float, caller_left: bool) -> None:
        await self.queue_log.write(ended, q.waiting.call_id, q.service, self.agents[agent_id].name,
                                   "COMPLETECALLER" if caller_left else "COMPLETEAGENT",
                                   int(connected - q.queued_at), int(ended - connected), q.position)  # fmt: skip

    async def agent_ended(self, q: Queued, uniqueid: str, agent_id: str) -> None:
        """The agent ended the conversation from its keypad (``##``) in its always-on session."""
        call_id = q.waiting.call_id
        await self.ledger.fact("acd.agent_ended", call_id, uniqueid, fact_key("acd.agent_ended", call_id),
                               agent=agent_id, keys="##")  # fmt: skip

    # ---- call backs ---------------------------------------------------------------------------------------------
    async def callback_chosen(self, now: float, q: Queued, uniqueid: str, number: str) -> None:
        """The waiting caller pressed 1: it leaves the line and keeps its place."""
        w = q.waiting
        await self.queue_log.write(now, w.call_id, q.service, "NONE", "EXITWITHKEY", CALLBACK_KEY, q.position,
                                   q.position, int(now - q.queued_at))  # fmt: skip
        await self.ledger.fact("acd.callback", w.call_id, uniqueid, fact_key("acd.callback", w.call_id), number=number,
                               service=q.service, entered_at=q.entered_at, queued_at=q.queued_at, position=q.position,
                               waited=round(now - q.queued_at, 3), priority=w.priority,
                               skills=dict(w.skills))  # fmt: skip

    async def callback_from_menu(self, now: float, q: Queued, number: str) -> None:
        """The menu's call-back node: the call back enters the line."""
        w = q.waiting
        await self.enter_queue(now, w.call_id, q.service, number, q.position)
        await self.ledger.fact("acd.callback", w.call_id, w.uniqueid, fact_key("acd.callback", w.call_id),
                               number=number, service=q.service, entered_at=q.entered_at, queued_at=now,
                               position=q.position, waited=0.0, priority=0, skills={}, source="menu")  # fmt: skip

    async def callback_offer(self, decision: Fact, started: float, q: Queued, agent_id: str, leg: str,
                             attempt: int) -> None:  # fmt: skip
        call_id = q.waiting.call_id
        offer = Fact("acd.callback_offer", started, call_id, leg, fact_key("acd.callback_offer", leg),
                     {"agent": agent_id, "leg": leg, "attempt": attempt, "service": q.service})
        await self.ledger.record([decision, offer])

    async def callback_connected(self, now: float, q: Queued, agent_id: str, leg: str, rang: float, attempt: int,
                                 call: str) -> None:  # fmt: skip
        call_id = q.waiting.call_id
        await self.ledger.fact("acd.callback_connected", call_id, leg, fact_key("acd.callback_connected", call_id),
                               agent=agent_id, attempt=attempt, waited=round(now - q.queued_at, 3),
                               call=call)  # fmt: skip
        await self.connect(now, q, agent_id, leg, rang)

    async def callback_completed(self, ended: float, q: Queued, agent_id: str, leg: str, connected: float,
                                 attempt: int, caller_left: bool) -> None:  # fmt: skip
        call_id = q.waiting.call_id
        await self.ledger.fact("acd.callback_done", call_id, leg, fact_key("acd.callback_done", call_id),
                               outcome="connected", agent=agent_id, attempt=attempt,
                               talk=round(ended - connected, 3))  # fmt: skip
        await self.complete(ended, q, agent_id, connected, caller_left)

    async def callback_retry(self, q: Queued, leg: str, attempt: int, outcome: str, next_at: float) -> None:
        call_id = q.waiting.call_id
        await self.ledger.fact("acd.callback_attempt", call_id, leg, fact_key("acd.callback_attempt", call_id, attempt),
                               outcome=outcome, attempt=attempt, next_at=round(next_at, 3))  # fmt: skip

    async def callback_failed(self, q: Queued, agent_id: str, leg: str, attempt: int, outcomes: list[str]) -> None:
        call_id = q.waiting.call_id
        await self.ledger.fact("acd.callback_done", call_id, leg, fact_key("acd.callback_done", call_id),
                               outcome="failed", agent=agent_id, attempt=attempt, outcomes=list(outcomes))  # fmt: skip
