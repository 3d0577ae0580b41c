"""Abandons counted as people: without AMD, machines are live calls to the engine and are abandoned more often
than people (they pick up later); agents' dispositions say which connected calls were machines, and the pacer
counts each abandon as a person by the share of people agents met at its ringing time (dialer.person_share)."""

from __future__ import annotations

import asyncio

from dialer.pacer import ForecastPacer
from dialer.pacing import Abandoned, AgentSaid, Connected, DialResolved, Floor
from dialer.person_share import BAND, PRIOR, PersonShare
from sim.day import run_day
from sim.pacebench.floor import run_floor
from sim.pacebench.world import Cell, World
from sim.synthetic_leads import synthetic_number
from sim.world import far_end
from tests.test_vtime import MemoryLeads, shell_free_inbound


def _floor() -> Floor:
    return Floor(now=0.0, idle=0, talking=[30.0] * 16, wrapping=[], ringing=[], waiting=0, logged_in=16,
                 line_limit=96, seconds_left=3600.0)  # fmt: skip


def _day_of(pacer: ForecastPacer, said: bool) -> ForecastPacer:
    # 100 people connected after 6 s of ringing, 100 machines after 18 s; 10 abandons after 18 s of ringing
    for rang, machine in ((6.0, False), (18.0, True)):
        for _ in range(100):
            pacer.on(DialResolved("live", rang), 0.0)
            pacer.on(Connected(0.5), 0.0)
            if said:
                pacer.on(AgentSaid(machine, rang), 0.0)
    for _ in range(10):
        pacer.on(DialResolved("live", 18.0), 0.0)
        pacer.on(Abandoned(18.0), 0.0)
    return pacer


def test_the_share_of_people_by_ringing_time_leans_toward_everyone_a_person():
    s = PersonShare()
    assert s.share(18.0) == 1.0  # nobody has said anything: every answer counts as a person
    for _ in range(100):
        s.agent_said(True, 18.0)
        s.agent_said(False, 5.0)
    assert s.share(18.0 + BAND / 2) == PRIOR / (100 + PRIOR)  # the same band, shrunk toward 1
    assert s.share(5.0 + BAND / 4) == 1.0 and s.share(300.0) == 1.0  # other bands are not touched
    assert s.heard == 200


def test_abandons_where_agents_met_machines_count_less_and_the_pacer_spends_what_they_free():
    told, untold = _day_of(ForecastPacer(amd=False), True), _day_of(ForecastPacer(amd=False), False)
    # no word from agents: the measured count, all 10
    assert untold.people_abandons == 10 and untold.people_lives == 210
    machine_share = PRIOR / (100 + PRIOR)
    assert abs(told.people_abandons - 10 * machine_share) < 1e-9
    assert abs(told.people_lives - (100 + 10 * machine_share)) < 1e-9
    assert told.allowed_rate(_floor()) > untold.allowed_rate(_floor())
    # abandons where agents met people count in full
    people = _day_of(ForecastPacer(amd=False), True)
    for _ in range(5):
        people.on(Abandoned(6.0), 0.0)
    assert abs(people.people_abandons - told.people_abandons - 5) < 1e-9
    # an abandon whose ringing time is not known counts as a person
    unknown = _day_of(ForecastPacer(amd=False), True)
    unknown.on(Abandoned(), 0.0)
    assert abs(unknown.people_abandons - told.people_abandons - 1) < 1e-9


def test_without_amd_the_pacers_count_of_people_abandoned_is_nearer_the_truth_than_the_measured_rate():
    cell = Cell("t", 16, 0.30, amd=False)
    pacer = ForecastPacer(amd=False)
    r = run_floor(cell, World(cell, 12), pacer, 12)
    truth = r.abandoned_humans / r.humans
    measured = r.measured_abandons / r.measured_lives
    estimate = pacer.people_abandons / pacer.people_lives
    assert measured > truth * 1.15  # the gap this closes: machines are abandoned more than people
    assert abs(estimate - truth) < abs(measured - truth) / 2, (truth, measured, estimate)
    assert truth <= 0.03 and r.silent == 0


def test_an_agents_answering_machine_disposition_reaches_the_engines_pacer_once():
    seen: list = []
    said: dict = {}

    def hook(eng):  # type: ignore[no-untyped-def]
        dialer = eng.features["dialer"]
        runner = dialer.runners[0]
        runner.leads = MemoryLeads(400)
        on = runner.pacer.on

        def record(ev, now):  # type: ignore[no-untyped-def]
            seen.append(ev)
            on(ev, now)

        runner.pacer.on = record

        async def agent_says() -> None:
            seat = runner.seats["2002"]
            while seat.last is None or seat.state != "wrap":
                await eng.clock.sleep(1)
            said["rang"] = seat.last.extra["rang"]
            said["reply"] = await dialer.control("2002", "disposition", "8")
            await dialer.control("2002", "disposition", "8")  # entered twice: the pacer hears it once

        eng.spawn(agent_says(), "agent-2002")

    asyncio.run(run_day(hours=0.3, seed=4, outbound_agents=3, amd=False, on_engine=hook,
                        inbound=shell_free_inbound()))  # fmt: skip
    assert "answering machine" in said["reply"]
    words = [e for e in seen if isinstance(e, AgentSaid)]
    assert words == [AgentSaid(True, said["rang"])]
    # the ringing time it carries is the one the pacer was told when the call turned live
    assert DialResolved("live", said["rang"]) in seen


def test_the_virtual_days_agents_give_each_conversation_its_disposition_machines_as_answering_machines():
    facts: list = []
    asyncio.run(run_day(hours=0.3, seed=5, outbound_agents=4, amd=False, facts_out=facts, dispositions=True,
                        inbound=shell_free_inbound()))  # fmt: skip
    phone = {f.call_id: synthetic_number(f.data["lead"]) for f in facts if f.kind == "outbound.placed"}
    ended = {f.call_id for f in facts if f.kind == "outbound.talk_end"}
    said = [f for f in facts if f.kind == "outbound.disposition"]
    assert len(said) == len({f.call_id for f in said}), "one disposition per conversation"
    # each conversation over before the last wrap-ups got its word; a machine's is "answering machine"
    assert len(said) >= len(ended) - 4 and {f.call_id for f in said} <= ended
    codes = {f.call_id: f.data["code"] for f in said}
    truth = {c: far_end(phone[c], 5)[1] for c in codes}
    assert {codes[c] for c in codes if truth[c] == "machine"} == {"8"}
    assert {codes[c] for c in codes if truth[c] == "person"} == {"2"}


def test_a_campaign_without_amd_and_no_answering_machine_disposition_is_warned_about(monkeypatch, caplog):
    import dialer.settings

    warned = []
    for codes in ({"1": "sale", "2": "no sale"}, dict(dialer.settings.DEFAULT_DISPOSITIONS)):
        monkeypatch.setattr(dialer.settings, "DEFAULT_DISPOSITIONS", codes)
        caplog.clear()
        asyncio.run(run_day(hours=0.02, seed=5, outbound_agents=2, amd=False, inbound=shell_free_inbound()))
        warned.append([r.getMessage() for r in caplog.records if "answering machine" in r.getMessage()])
    assert len(warned[0]) == 1 and "renewals" in warned[0][0] and warned[1] == []
