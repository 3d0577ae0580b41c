"""The agent board: who holds an agent, and every operation that would take an agent another side holds is
refused with a Conflict (table-driven), the invariants hold after each step, and the observer sees each change."""

from collections.abc import Callable

import pytest

from acd.agent_state import Effect, State
from acd.board import Board, Conflict, Holder, Phase

CAMPAIGN, HOTLINE = "c1", "h1"  # a campaign agent, an agent of the hotline only


def _board() -> Board:
    t = [100.0]

    def mono() -> float:
        t[0] += 1.0
        return t[0]

    b = Board.build([CAMPAIGN, HOTLINE], {CAMPAIGN: "renewals"}, monotonic=mono)
    for a in (CAMPAIGN, HOTLINE):
        b.machine(a).login(0.0)
    return b


def in_session(b: Board, a: str) -> None:
    b.session_joining(a)
    b.session_up(a, f"PJSIP/{a}-1")


def acd_reserve(b: Board, a: str) -> None:
    b.acd_reserve(a, "call-1", 1.0)


def lent_talking(b: Board, a: str) -> None:
    in_session(b, a)
    acd_reserve(b, a)
    b.lend(a, "call-1")
    b.machine(a).handle("ring", 2.0)
    b.machine(a).handle("answer", 3.0)


def dialer_talking(b: Board, a: str) -> None:
    in_session(b, a)
    b.dialer_take(a, "dl-1")


def dialer_wrap(b: Board, a: str) -> None:
    dialer_talking(b, a)
    b.wrap(a, 5.0)


def previewing(b: Board, a: str) -> None:
    in_session(b, a)
    b.preview_dial(a, "dl-2")


def guarded_idle(b: Board, a: str) -> None:
    in_session(b, a)
    b.guard_reserve(a)


def guarded_talking(b: Board, a: str) -> None:
    dialer_talking(b, a)
    b.guard_reserve(a)


def nothing(b: Board, a: str) -> None:
    pass


Setup = Callable[[Board, str], None]

# (how the agent got here, the agent) -> who holds it and its session's phase
HOLDERS: list[tuple[Setup, str, Holder, Phase]] = [
    (nothing, CAMPAIGN, Holder.NONE, Phase.OFF),
    (in_session, CAMPAIGN, Holder.DIALER, Phase.IDLE),
    (in_session, HOTLINE, Holder.NONE, Phase.IDLE),
    (acd_reserve, CAMPAIGN, Holder.ACD, Phase.OFF),  # rung on its phone: no session
    (lent_talking, CAMPAIGN, Holder.LENT, Phase.LENT),
    (lent_talking, HOTLINE, Holder.ACD, Phase.LENT),  # an always-on agent outside campaigns
    (dialer_talking, CAMPAIGN, Holder.DIALER, Phase.TALKING),
    (dialer_wrap, CAMPAIGN, Holder.DIALER, Phase.WRAP),
    (previewing, CAMPAIGN, Holder.DIALER, Phase.PREVIEW),
    (guarded_idle, CAMPAIGN, Holder.RESERVED, Phase.IDLE),
    (guarded_talking, CAMPAIGN, Holder.RESERVED, Phase.TALKING),  # its call goes on; no new customer after it
]


@pytest.mark.parametrize(("setup", "agent", "holder", "phase"), HOLDERS, ids=lambda v: getattr(v, "__name__", None))
def test_who_holds_the_agent(setup: Setup, agent: str, holder: Holder, phase: Phase) -> None:
    b = _board()
    setup(b, agent)
    assert (b.holder(agent), b[agent].phase) == (holder, phase)
    assert b.check() == [] and b.breaches == []


def _take(b: Board, a: str) -> None:
    b.dialer_take(a, "dl-9")


def _lend(b: Board, a: str) -> None:
    b.lend(a, "call-9")


def _acd(b: Board, a: str) -> None:
    b.acd_reserve(a, "call-9", 5.0)


def _preview(b: Board, a: str) -> None:
    b.preview_dial(a, "dl-9")


def _preview_answer(b: Board, a: str) -> None:
    b.preview_answered(a, "dl-9")


def _guard(b: Board, a: str) -> None:
    b.guard_reserve(a)


def _unguard(b: Board, a: str) -> None:
    b.guard_release(a)


def _up(b: Board, a: str) -> None:
    b.session_up(a, "PJSIP/x-2")


def _joining(b: Board, a: str) -> None:
    b.session_joining(a)


# (state, operation) -> refused: the other side holds the agent, or the operation does not fit its phase
CONFLICTS: list[tuple[Setup, Setup]] = [
    (lent_talking, _take),  # the ACD has it: no customer from the dialer
    (acd_reserve, _take),  # chosen by the router, not yet lent: the dialer keeps its hands off
    (guarded_idle, _take),  # the guard's: no new customer
    (dialer_talking, _take),  # one customer at a time
    (nothing, _take),  # no session
    (dialer_talking, _lend),  # the dialer's customer is on: no hotline caller joins
    (previewing, _lend),
    (lent_talking, _lend),  # lent once
    (dialer_talking, _acd),
    (dialer_wrap, _acd),
    (previewing, _acd),
    (lent_talking, _acd),
    (guarded_idle, _preview),  # reserved for the hotline: no preview dial
    (acd_reserve, _preview),
    (dialer_talking, _preview),
    (lent_talking, _preview_answer),
    (guarded_idle, _guard),  # reserved once
    (in_session, _unguard),  # nothing to release
    (dialer_talking, _up),  # a session is up already
    (in_session, _joining),
]


@pytest.mark.parametrize(("setup", "op"), CONFLICTS, ids=lambda f: f.__name__)
def test_an_agent_another_side_holds_is_refused_not_taken(setup: Setup, op: Setup) -> None:
    b = _board()
    setup(b, CAMPAIGN)
    before = (b.holder(CAMPAIGN), b[CAMPAIGN].phase, b[CAMPAIGN].call, b[CAMPAIGN].guarded)
    with pytest.raises(Conflict):
        op(b, CAMPAIGN)
    assert len(b.refused) == 1, "every refusal is counted"
    assert (b.holder(CAMPAIGN), b[CAMPAIGN].phase, b[CAMPAIGN].call, b[CAMPAIGN].guarded) == before, "unchanged"
    assert b.check() == []


def test_guard_rules_on_a_hotline_only_agent() -> None:
    b = _board()
    in_session(b, HOTLINE)
    with pytest.raises(Conflict, match="works no campaign"):
        b.guard_reserve(HOTLINE)
    with pytest.raises(Conflict, match="not the dialer's"):
        b.dialer_take(HOTLINE, "dl-1")


def test_a_loan_goes_dialer_to_acd_and_back_and_keeps_the_guards_hold() -> None:
    b = _board()
    seen: list[tuple[Holder, Phase, str]] = []
    b.observer = lambda r: seen.append((r.holder, r.phase, r.call))
    in_session(b, CAMPAIGN)
    b.guard_reserve(CAMPAIGN)
    assert b.holder(CAMPAIGN) is Holder.RESERVED and not b.free_for_dialer(CAMPAIGN)
    acd_reserve(b, CAMPAIGN)
    assert b.holder(CAMPAIGN) is Holder.ACD and b[CAMPAIGN].call == "call-1"
    assert b.lend(CAMPAIGN, "call-1") == f"PJSIP/{CAMPAIGN}-1"
    m = b.machine(CAMPAIGN)
    m.handle("ring", 2.0)
    m.handle("answer", 3.0)
    m.hang_up(4.0, 5.0)
    assert (m.state, b.holder(CAMPAIGN)) == (State.WRAP_UP, Holder.LENT), "the ACD's wrap-up, still lent"
    b.guard_release(CAMPAIGN)  # released while lent: given back to the dialer's pool, not the guard's
    m.handle("wrap_up_end", 9.0)
    assert b.give_back(CAMPAIGN)
    assert (b.holder(CAMPAIGN), b[CAMPAIGN].phase, b[CAMPAIGN].call) == (Holder.DIALER, Phase.IDLE, "")
    assert b.free_for_dialer(CAMPAIGN)
    assert not b.give_back(CAMPAIGN), "nothing lent any more"
    holders = [h for h, _, _ in seen]
    assert holders[:4] == [Holder.NONE, Holder.DIALER, Holder.RESERVED, Holder.ACD]  # joining, up, guard, ACD
    assert Holder.LENT in holders and holders[-1] is Holder.DIALER
    assert b.breaches == []


def test_a_session_ending_while_lent_leaves_nothing_to_give_back() -> None:
    b = _board()
    lent_talking(b, CAMPAIGN)
    b.session_down(CAMPAIGN)
    assert b[CAMPAIGN].phase is Phase.OFF and b[CAMPAIGN].session == ""
    assert not b.give_back(CAMPAIGN)
    assert b.holder(CAMPAIGN) is Holder.ACD, "the ACD's call is still on (the machine says so)"
    assert b.session_agent(f"PJSIP/{CAMPAIGN}-1") is None


def test_a_preview_answer_goes_to_its_agent_unless_its_session_is_gone() -> None:
    b = _board()
    previewing(b, CAMPAIGN)
    assert b.preview_answered(CAMPAIGN, "dl-2") and b[CAMPAIGN].phase is Phase.TALKING
    b.session_down(CAMPAIGN)
    assert not b.preview_answered(CAMPAIGN, "dl-3"), "no session: the customer hears the message"
    assert b.refused == []


def test_the_dialers_wrap_up_and_preview_return_the_agent_to_the_pool() -> None:
    b = _board()
    dialer_talking(b, CAMPAIGN)
    t0 = b[CAMPAIGN].phase_since
    assert b.wrap(CAMPAIGN, 5.0) == [Effect("wrap_up_timer", 5.0)] and b[CAMPAIGN].phase_since > t0
    assert b.wrap(CAMPAIGN, 5.0) == [], "wrapping up already: no second timer"
    assert b.preview_dial(CAMPAIGN, "dl-2") is None, "a preview dial ends the wrap-up"
    assert not b.wrap_end(CAMPAIGN), "no longer wrapping up"
    assert b.preview_over(CAMPAIGN) and b.free_for_dialer(CAMPAIGN)
    assert not b.preview_over(CAMPAIGN)


def test_check_names_an_agent_held_by_two_sides() -> None:
    b = _board()
    dialer_talking(b, CAMPAIGN)
    b.machine(CAMPAIGN).handle("adopt", 5.0)  # the ACD takes it behind the board's back
    assert b.check() == [f"{CAMPAIGN}: held by two sides (dialer talking, ACD on_call)"]
    assert b.breaches == b.check(), "seen at the change, through the machine's observer"


def test_an_unknown_agent_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="no such agent"):
        _board().lend("nobody", "call-1")


def test_the_guard_sees_its_campaign_agents_on_the_board() -> None:
    b = _board()
    assert [(s.agent, s.idle, s.available) for s in b.guard_view([CAMPAIGN, HOTLINE, "nobody"])] == [
        (CAMPAIGN, False, False)], "out of its session; the hotline-only and unknown agents are not the guard's"
    in_session(b, CAMPAIGN)
    (seat,) = b.guard_view([CAMPAIGN])
    assert (seat.idle, seat.available, seat.since) == (True, True, b[CAMPAIGN].phase_since)
    b.dialer_take(CAMPAIGN, "dl-1")
    (seat,) = b.guard_view([CAMPAIGN])
    assert (seat.idle, seat.available, seat.since) == (False, True, b[CAMPAIGN].phase_since)


def test_the_machine_owns_the_dialers_conversation_and_wrap_up() -> None:
    from acd.agent_state import InvalidTransition, Outbound

    b = _board()
    m = b.machine(CAMPAIGN)
    dialer_talking(b, CAMPAIGN)
    assert (m.outbound, m.state) == (Outbound.TALKING, State.IDLE), "the ACD's state is untouched"
    assert b.wrap(CAMPAIGN, 7.0) == [Effect("wrap_up_timer", 7.0)] and m.outbound is Outbound.WRAP
    assert b[CAMPAIGN].phase_since == m.outbound_since
    with pytest.raises(InvalidTransition):
        m.outbound_connect(1.0)  # a new customer only after the wrap-up
    assert b.wrap_end(CAMPAIGN) and m.outbound is Outbound.NONE and b[CAMPAIGN].phase is Phase.IDLE
    b.dialer_take(CAMPAIGN, "dl-2")
    b.session_down(CAMPAIGN)  # the session ended mid-call: no wrap-up follows
    assert m.outbound is Outbound.NONE and b.wrap(CAMPAIGN, 7.0) == [] and b[CAMPAIGN].phase is Phase.OFF
    assert b.check() == [] and b.refused == []
