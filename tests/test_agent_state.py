import pytest

from acd.agent_state import AgentMachine, InvalidTransition, State, Status


def test_a_call_cycle_with_wrap_up():
    a = AgentMachine("1001", wrap_up=10)
    assert [e.kind for e in a.login(0)] == ["available"]
    assert [e.kind for e in a.handle("reserve", 1)] == ["unavailable"]
    a.handle("ring", 1.1)
    a.handle("answer", 4)
    a.handle("hold", 10)
    a.handle("unhold", 20)
    effects = a.handle("hangup", 60)
    assert effects[0].kind == "wrap_up_timer" and effects[0].value == 10
    assert a.state is State.WRAP_UP and not a.routable
    assert [e.kind for e in a.handle("wrap_up_end", 65)] == ["available"]  # early end
    assert [s for _, _, s in a.history] == ["idle", "reserved", "ringing", "on_call", "on_hold", "on_call",
                                            "wrap_up", "idle"]  # fmt: skip


def test_consecutive_misses_pause_the_agent():
    a = AgentMachine("1001", max_misses=2)
    a.login(0)
    for t in (1, 20):
        a.handle("reserve", t)
        a.handle("ring", t)
        effects = a.handle("no_answer", t + 15)
    assert any(e.kind == "auto_paused" for e in effects)
    assert a.status is Status.PAUSED and a.reason == "no answer" and not a.routable
    a.resume(60)
    assert a.routable and a.misses == 0


def test_an_answer_resets_the_miss_count():
    a = AgentMachine("1001", max_misses=2)
    a.login(0)
    for event in ("reserve", "ring", "no_answer", "reserve", "ring", "answer", "hangup", "wrap_up_end",
                  "reserve", "ring", "no_answer"):  # fmt: skip
        a.handle(event, 1)
    assert a.status is Status.AVAILABLE


def test_busy_phone_is_never_offered_a_call():
    a = AgentMachine("1001")
    a.login(0)
    assert [e.kind for e in a.device(True, 1)] == ["unavailable"]  # e.g. a direct call on the phone
    with pytest.raises(InvalidTransition):
        a.handle("reserve", 2)
    a.device(False, 3)
    a.handle("reserve", 4)


def test_paused_and_logged_out_agents_are_not_routable_and_bad_events_are_refused():
    a = AgentMachine("1001")
    assert not a.routable
    a.login(0)
    a.pause("lunch", 1)
    assert not a.routable and a.reason == "lunch"
    with pytest.raises(InvalidTransition):
        a.handle("answer", 2)
    with pytest.raises(InvalidTransition):
        a.login(3)
    a.resume(4)
    a.handle("reserve", 5)
    with pytest.raises(InvalidTransition):
        a.logout(6)  # not while a call is being offered
    a.handle("release", 7)
    a.logout(8)
    assert a.status is Status.LOGGED_OUT


def test_zero_wrap_up_returns_to_idle_at_once():
    a = AgentMachine("1001", wrap_up=0)
    a.login(0)
    for e in ("reserve", "ring", "answer"):
        a.handle(e, 1)
    effects = a.handle("hangup", 2)
    assert a.state is State.IDLE and any(e.kind == "available" for e in effects)
