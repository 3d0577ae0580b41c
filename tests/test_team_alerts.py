"""The team page's alerts, without I/O: the AlertBook raises an alert the moment a [wallboard] threshold is
crossed (on a change, or on the engine clock's tick for a pause or wrap-up running over), once, and clears it
the moment it no longer holds; the stream's frames carry one team's agents, the services and those alerts."""

from __future__ import annotations

import json
from types import MappingProxyType

from engine.live.bus import Bus, Change
from engine.web.team.alerts import ALERT, WARN, AlertBook, agent_alerts, shown_state
from engine.web.team.stream import frames, team_filter
from engine.web.wallboard.settings import WallboardSettings

TH = WallboardSettings(waiting_over=60, pause_over=900, pause_limits=MappingProxyType({"break": 300}),
                       wrapup_over=120, sl_goal=0.8, sl_margin=0.05)  # fmt: skip
T0 = 1_000_000.0  # the fake engine clock's start; every time below is T0 + seconds


def agent(key: str, since: float, status: str = "available", state: str = "idle", reason: str = "",
          phase: str = "off") -> Change:  # fmt: skip
    return Change("agent", key, since, {"status": status, "state": state, "reason": reason, "since": since,
                                        "phase": phase, "device_busy": False, "call": None})  # fmt: skip


def service(key: str, longest: float = 0, sl: float | None = None) -> Change:
    return Change("service", key, T0, {"waiting": 1 if longest else 0, "longest_wait": longest, "service_level": sl,
                                       "sl_target": 20})  # fmt: skip


def ops(events) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.op, e.alert.id, e.alert.level) for e in events]


def test_a_pause_is_alerted_once_when_it_runs_over_its_reasons_limit_and_cleared_on_resume():
    book = AlertBook(TH)
    assert book.change(agent("1002", T0, "paused", reason="break"), T0) == []
    assert book.tick(T0 + 299) == [] and book.tick(T0 + 300) == [], "at the limit is not over it"
    (raised,) = book.tick(T0 + 300.5)
    a = raised.alert
    assert (raised.op, a.kind, a.key, a.level) == ("raised", "pause_over", "1002", ALERT)
    assert (a.limit, a.reason) == (300, "break"), "the reason's own limit"
    assert a.since == T0 + 300.5 and a.value == 300.5
    assert book.tick(T0 + 301) == [] and book.tick(T0 + 5000) == [], "raised once, however long it goes on"
    assert [x.id for x in book.alerts()] == ["pause_over/1002"]
    assert ops(book.change(agent("1002", T0 + 5001), T0 + 5001)) == [("cleared", "pause_over/1002", ALERT)]
    assert book.alerts() == [] and book.tick(T0 + 9000) == []


def test_a_pause_without_a_limit_of_its_own_uses_pause_over_and_a_new_reason_starts_again():
    book = AlertBook(TH)
    book.change(agent("1001", T0, "paused", reason="coaching"), T0)
    assert book.tick(T0 + 899) == []
    assert ops(book.tick(T0 + 901)) == [("raised", "pause_over/1001", ALERT)]
    assert book.alerts()[0].limit == 900
    # the agent's machine restarts time in state with the new reason: under its limit again
    assert ops(book.change(agent("1001", T0 + 950, "paused", reason="break"), T0 + 950)) == [
        ("cleared", "pause_over/1001", ALERT)]
    assert ops(book.tick(T0 + 1251)) == [("raised", "pause_over/1001", ALERT)]
    assert book.alerts()[0].reason == "break"


def test_a_wrap_up_overrun_the_acds_and_a_campaign_sessions():
    book = AlertBook(TH)
    book.change(agent("1001", T0, state="wrap_up"), T0)
    book.change(agent("2001", T0 + 10, phase="wrap"), T0 + 10)
    assert book.tick(T0 + 120) == []
    assert ops(book.tick(T0 + 121)) == [("raised", "wrapup_over/1001", ALERT)]
    assert ops(book.tick(T0 + 131)) == [("raised", "wrapup_over/2001", ALERT)]
    assert ops(book.change(agent("1001", T0 + 140), T0 + 140)) == [("cleared", "wrapup_over/1001", ALERT)]
    assert [a.id for a in book.alerts()] == ["wrapup_over/2001"]


def test_an_agent_not_timed_or_busy_is_never_in_alert():
    assert agent_alerts("2001", agent("2001", 0, "paused", reason="break").data, T0 + 10**6, TH) == []
    for state in ("on_call", "on_hold", "ringing", "reserved"):
        assert agent_alerts("1001", agent("1001", T0, "paused", state=state).data, T0 + 10**6, TH) == [], state
    assert agent_alerts("1001", agent("1001", T0, "logged_out").data, T0 + 10**6, TH) == []
    assert agent_alerts("1001", agent("1001", T0).data, T0 + 10**6, TH) == [], "idle and available for ages"
    # paused during a call: the pause shows (and counts) once the call and its wrap-up are over
    assert shown_state(agent("1001", T0, "paused", state="on_call").data) == "on_call"
    assert shown_state(agent("1001", T0, "paused").data) == "paused"


def test_a_long_wait_is_alerted_while_the_longest_caller_is_over_waiting_over():
    book = AlertBook(TH)
    assert book.change(service("hotline", 60), T0) == [], "at the limit is not over it"
    assert ops(book.change(service("hotline", 61), T0 + 1)) == [("raised", "waiting_over/hotline", ALERT)]
    assert book.change(service("hotline", 75), T0 + 15) == [], "the wait grows: still the same alert"
    assert book.alerts()[0].value == 61
    assert ops(book.change(service("hotline", 0), T0 + 16)) == [("cleared", "waiting_over/hotline", ALERT)]


def test_service_level_at_risk_then_under_goal_then_recovered():
    book = AlertBook(TH)
    assert book.change(service("hotline", sl=None), T0) == [], "no call counted yet: nothing to judge"
    assert book.change(service("hotline", sl=0.9), T0) == []
    assert ops(book.change(service("hotline", sl=0.84), T0 + 1)) == [("raised", "service_level/hotline", WARN)]
    assert book.alerts()[0].limit == TH.sl_goal + TH.sl_margin
    assert book.change(service("hotline", sl=0.83), T0 + 2) == [], "still at risk: no new event"
    # worse: the same alert raised again at its new level (the page replaces it), not cleared first
    assert ops(book.change(service("hotline", sl=0.7), T0 + 3)) == [("raised", "service_level/hotline", ALERT)]
    assert (book.alerts()[0].limit, book.alerts()[0].since) == (0.8, T0 + 3)
    assert ops(book.change(service("hotline", sl=0.86), T0 + 4)) == [("cleared", "service_level/hotline", ALERT)]


def test_a_snapshot_starts_the_book_over_and_other_topics_do_nothing():
    book = AlertBook(TH)
    book.change(service("hotline", 90), T0)
    states = [agent("1002", T0, "paused", reason="break"), service("support", 0, sl=0.5)]
    on = book.reset(states, T0 + 400)
    assert [(a.id, a.level) for a in on] == [("pause_over/1002", ALERT), ("service_level/support", ALERT)]
    assert "waiting_over/hotline" not in {a.id for a in book.alerts()}, "a snapshot replaces what was held"
    assert book.change(Change("campaign", "renewals", T0, {"abandon_rate": 0.5}), T0 + 401) == []
    assert book.tick(T0 + 402) == []


def _parse(texts: list[str]) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    out = []
    for text in texts:
        event, data = text.strip().split("\n")
        out.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def test_frames_carry_the_teams_agents_the_services_and_the_alerts_as_they_change():
    bus = Bus()
    bus.publish(agent("1002", T0, "paused", reason="break"))
    bus.publish(agent("2001", T0, "paused", reason="break"))  # another team's
    bus.publish(service("hotline", 10, sl=0.9))
    bus.publish(Change("campaign", "renewals", T0, {"lines": 1}))
    keep = team_filter(frozenset({"1001", "1002", "1003"}), lambda c: True)
    book = AlertBook(TH)
    ((event, body),) = _parse(frames(bus.snapshot(), T0 + 100, 5.0, keep, book))
    assert event == "snapshot" and body["now"] == T0 + 100 and body["alerts"] == []
    assert [(s["topic"], s["key"]) for s in body["states"]] == [("agent", "1002"), ("service", "hotline")]

    # another team's agent is never sent, but time moved on: the team's own pause ran over meanwhile
    msgs = _parse(frames(agent("2001", T0 + 301), T0 + 301, 6.0, keep, book))
    assert [(e, b["op"], b["alert"]["id"]) for e, b in msgs] == [("alert", "raised", "pause_over/1002")]
    assert msgs[0][1]["alert"]["reason"] == "break" and msgs[0][1]["alert"]["limit"] == 300

    msgs = _parse(frames(agent("1002", T0 + 302), T0 + 302, 7.0, keep, book))
    assert [e for e, _ in msgs] == ["change", "alert"], "the state first, then what it did to the alerts"
    assert msgs[0][1]["key"] == "1002" and msgs[1][1]["op"] == "cleared"

    msgs = _parse(frames(service("hotline", 61, sl=0.9), T0 + 303, 8.0, keep, book))
    assert [(e, b.get("op")) for e, b in msgs] == [("change", None), ("alert", "raised")]
    assert _parse(frames(None, T0 + 304, 9.0, keep, book)) == [("tick", {"now": T0 + 304, "wall": 9.0})]

    hidden = team_filter(frozenset({"1002"}), lambda c: c.key != "1002")  # the console's visible() says no
    assert not hidden(agent("1002", T0)) and hidden(service("hotline"))
