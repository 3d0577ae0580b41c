"""The routing brain: plain data in, decisions out."""

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.router import AgentProfile, Caller, NaiveRouter, Router, RuleStep, Service

SALES = Service("sales", {"mandarin": 50, "sales": 60}, steps=(RuleStep(30, lower={"sales": 20}),))
SUPPORT = Service("support", {"mandarin": 50, "support": 50}, priority=1)
AGENTS = [
    AgentProfile("a1", {"mandarin": 90, "sales": 80}),
    AgentProfile("a2", {"mandarin": 90, "sales": 30, "support": 70}),
    AgentProfile("a3", {"english": 90, "sales": 90}),
]


def router() -> Router:
    r = Router([SALES, SUPPORT], AGENTS)
    for a in AGENTS:
        r.set_available(a.id, 0.0)
    return r


def test_skill_levels_decide_eligibility():
    r = router()
    r.enqueue(Caller("c1", "sales", entered_at=100.0))
    assert r.best_caller_for("a1", 101.0).call_id == "c1"
    assert r.best_caller_for("a2", 101.0) is None, "sales 30 < 60"
    assert r.best_caller_for("a3", 101.0) is None, "no mandarin"


def test_rule_step_widens_the_pool_for_a_caller_already_waiting():
    r = router()
    r.enqueue(Caller("c1", "sales", entered_at=100.0))
    assert r.best_caller_for("a2", 120.0) is None
    d = r.best_caller_for("a2", 131.0)
    assert d is not None and d.call_id == "c1" and d.step == 1


def test_fair_order_across_services_uses_priority_and_time_in_system():
    r = router()
    r.enqueue(Caller("sales-early", "sales", entered_at=0.0))
    r.enqueue(Caller("support-late", "support", entered_at=50.0))
    # a2 serves both (sales only after the step): support has priority 1 = 60 s; sales waited 50 s longer
    d = r.best_caller_for("a2", 100.0)
    assert d.call_id == "support-late"  # 60 + 50 > 100
    r2 = router()
    r2.enqueue(Caller("sales-early", "sales", entered_at=0.0))
    r2.enqueue(Caller("support-late", "support", entered_at=90.0))
    assert r2.best_caller_for("a2", 100.0).call_id == "sales-early"  # 100 > 60 + 10


def test_strategies_pick_among_free_agents():
    svc = Service("s", {"x": 10}, strategy="least_skilled")
    agents = [AgentProfile("generalist", {"x": 90, "y": 90, "z": 90}), AgentProfile("specialist", {"x": 50})]
    r = Router([svc], agents)
    r.set_available("generalist", 0.0)  # idle longer
    r.set_available("specialist", 10.0)
    r.enqueue(Caller("c", "s", 20.0))
    assert r.best_agent_for("c", 21.0).agent_id == "specialist"
    r = Router([Service("s", {"x": 10})], agents)  # longest idle
    r.set_available("generalist", 0.0)
    r.set_available("specialist", 10.0)
    r.enqueue(Caller("c", "s", 20.0))
    assert r.best_agent_for("c", 21.0).agent_id == "generalist"


def test_free_agents_take_callers_in_fair_order_each_given_by_its_services_strategy():
    sales = Service("sales", {"x": 10}, strategy="least_skilled")
    support = Service("support", {"x": 10}, priority=1, strategy="longest_idle")
    agents = [AgentProfile("generalist", {"x": 90, "y": 90}), AgentProfile("specialist", {"x": 50})]
    r = Router([sales, support], agents)
    r.set_available("generalist", 0.0)  # idle longer
    r.set_available("specialist", 10.0)
    r.enqueue(Caller("sales-1", "sales", entered_at=0.0))
    r.enqueue(Caller("support-1", "support", entered_at=50.0))
    # support's priority (60 s) + 50 s beats sales' 100 s: support first, to the longest idle (its strategy)
    d = r.next_decision(100.0)
    assert (d.call_id, d.agent_id, d.strategy) == ("support-1", "generalist", "longest_idle")
    assert d.why == "by longest_idle: idle 100 s, first of 2 free agents able to take it"
    r.assigned(d)
    d = r.next_decision(100.0)
    assert (d.call_id, d.agent_id) == ("sales-1", "specialist")
    assert d.why == "the only free agent able to take it, so least_skilled had no choice"
    r.assigned(d)
    assert r.next_decision(100.0) is None


def test_round_robin_takes_agents_in_turn_and_fewest_calls_counts_answered_calls():
    agents = [AgentProfile(a, {"x": 50}) for a in ("a", "b", "c")]
    r = Router([Service("s", {"x": 10}, strategy="round_robin")], agents)
    got = []
    for i in range(5):
        for a in ("a", "b", "c"):
            if a not in got[-1:]:
                r.set_available(a, 0.0)  # everyone free again but the agent who took the last call
        r.enqueue(Caller(f"c{i}", "s", float(i)))
        d = r.next_decision(10.0 + i)
        r.assigned(d)
        got.append(d.agent_id)
    assert got == ["a", "b", "c", "a", "b"]
    r = Router([Service("s", {"x": 10}, strategy="fewest_calls")], agents)
    for a, idle in (("a", 0.0), ("b", 5.0), ("c", 9.0)):
        r.set_available(a, idle)
    r.answered("a")
    r.answered("b")
    r.enqueue(Caller("c0", "s", 10.0))
    assert r.next_decision(11.0).agent_id == "c", "no call yet, though idle the shortest"
    r.answered("c")
    r.answered("c")
    assert r.next_decision(11.0).agent_id == "a", "one call each for a and b: then the longest idle"


def test_assigned_caller_leaves_the_queue_and_explanations_name_reasons():
    r = router()
    c = Caller("c1", "sales", entered_at=100.0)
    r.enqueue(c)
    d = r.best_agent_for("c1", 101.0)
    assert d.agent_id == "a1"
    r.assigned(d)
    assert r.waiting() == 0 and r.best_caller_for("a1", 102.0) is None
    r.set_available("a2", 50.0)
    reasons = {e["agent"]: e["reason"] for e in r.explain(c, "a1", 101.0, states={"a1": "on call"})}
    assert reasons["a1"].startswith("chosen")
    assert reasons["a2"] == "skill sales level 30 < 60"
    assert reasons["a3"] == "lacks skill mandarin"


skills = st.sampled_from(["s0", "s1", "s2", "s3"])
levels = st.integers(0, 100)


@settings(max_examples=150, deadline=None)
@given(
    agents=st.lists(st.dictionaries(skills, levels, min_size=1, max_size=4), min_size=1, max_size=6),
    callers=st.lists(st.tuples(st.integers(0, 2), st.floats(0, 300), st.integers(0, 2),
                               st.dictionaries(skills, levels, max_size=1)), min_size=1, max_size=25),
    now=st.floats(300, 900),
)  # fmt: skip
def test_indexed_router_decides_like_the_full_scan(agents, callers, now):
    services = [
        Service("a", {"s0": 40}, steps=(RuleStep(60, lower={"s0": 10}), RuleStep(400, raise_priority=2))),
        Service("b", {"s1": 50, "s2": 30}, priority=1, strategy="least_skilled"),
        Service("c", {"s3": 70}, strategy="round_robin", steps=(RuleStep(120, add_groups=frozenset({"g"})),)),
    ]
    profiles = [AgentProfile(f"x{i}", sk, frozenset({"g"}) if i % 3 == 0 else frozenset()) for i, sk in
                enumerate(agents)]  # fmt: skip
    fast, slow = Router(services, profiles), NaiveRouter(services, profiles)
    for i, (svc, entered, prio, needs) in enumerate(callers):
        c = Caller(f"c{i:02d}", "abc"[svc], entered, prio, needs)
        fast.enqueue(c)
        slow.enqueue(c)
    for p in profiles:
        a, b = fast.best_caller_for(p.id, now), slow.best_caller_for(p.id, now)
        assert (a and (a.call_id, a.score)) == (b and (b.call_id, b.score))
    # a round with every agent free: the same connects in the same order, whatever the strategy
    for r in (fast, slow):
        for i, p in enumerate(profiles):
            r.set_available(p.id, float(i % 3))
    for _ in profiles:
        a, b = fast.next_decision(now), slow.next_decision(now)
        assert (a and (a.call_id, a.agent_id, a.why)) == (b and (b.call_id, b.agent_id, b.why))
        if a is None:
            break
        fast.assigned(a)
        slow.assigned(b)


def test_route_bench_runs_both_routers_on_the_same_world():
    from acd.bench import bench_route

    rep = bench_route(agents=60, skills=12, waiting=80, decisions=150, seed=3)
    assert rep["same_decisions"] is True
    assert rep["indexed"]["matched"] == rep["naive"]["matched"] > 0
    assert {"p50_ms", "p99_ms", "decisions_per_second"} <= set(rep["indexed"])


def test_next_decision_compares_each_class_with_each_free_agent_once(monkeypatch):
    """With several agents free, nobody able to take anyone (the costliest case) and decisions asked again and
    again, an agent's skills are compared with a class's requirements once per rule step, not once per ask
    and free agent."""
    import acd.router as router_module

    checks = []

    def counting(agent, req):
        checks.append((agent.id, req))
        return why_not(agent, req)

    why_not = router_module.why_not
    monkeypatch.setattr(router_module, "why_not", counting)
    services = [Service(f"s{i}", {f"k{i}": 50}) for i in range(10)]
    agents = [AgentProfile(f"a{i}", {"other": 90}) for i in range(8)]
    r = Router(services, agents)
    for a in agents:
        r.set_available(a.id, 0.0)
    for i, s in enumerate(services):
        for j in range(3):
            r.enqueue(Caller(f"c{i}-{j}", s.name, entered_at=float(j)))
    for now in (10.0, 11.0, 12.0, 13.0, 14.0):
        assert r.next_decision(now) is None
    assert len(checks) == len(set(checks)) <= len(services) * len(agents)
    r.enqueue(Caller("late", "s3", entered_at=20.0))  # joins a class: what is known about it still holds
    r.set_available("a0", None)
    assert r.next_decision(21.0) is None
    assert len(checks) == len(set(checks))


coarse = st.sampled_from([5, 20, 35, 55, 75, 95])  # few levels: thresholds and rule steps matter more often
enqueue = st.tuples(st.just("enqueue"), st.integers(0, 2), st.floats(0, 20), st.integers(0, 2),
                   st.dictionaries(skills, coarse, max_size=1))  # fmt: skip
free = st.tuples(st.just("free"), st.integers(0, 7), st.floats(0, 50))
wait = st.tuples(st.just("wait"), st.floats(0, 80))
ops = st.lists(st.one_of(
    enqueue, enqueue, free, free, wait, wait,
    st.tuples(st.just("busy"), st.integers(0, 7)),
    st.tuples(st.just("leave"), st.integers(0, 40)),
    st.tuples(st.just("grant"), st.integers(0, 7), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("decide"), st.integers(1, 4)),
), min_size=1, max_size=60)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(agents=st.lists(st.dictionaries(skills, coarse, min_size=1, max_size=4), min_size=1, max_size=8), ops=ops)
def test_indexed_router_decides_like_the_full_scan_as_agents_free_up_and_callers_come_and_go(agents, ops):
    """Several agents free at once while callers join, leave and cross rule steps, agents come and go and the
    guard grants and revokes: every decision is the full scan's."""
    services = [
        Service("a", {"s0": 40}, steps=(RuleStep(30, lower={"s0": 10}), RuleStep(90, raise_priority=2))),
        Service("b", {"s1": 50, "s2": 30}, priority=1, strategy="least_skilled"),
        Service("c", {"s3": 70}, strategy="round_robin", steps=(RuleStep(60, add_groups=frozenset({"g"})),)),
    ]
    profiles = [AgentProfile(f"x{i}", sk, frozenset({"g"}) if i % 3 == 0 else frozenset()) for i, sk in
                enumerate(agents)]  # fmt: skip
    fast, slow = Router(services, profiles), NaiveRouter(services, profiles)
    now, joined = 0.0, 0
    for op in ops:
        for r in (fast, slow):
            if op[0] == "enqueue":
                _, svc, before, prio, needs = op
                r.enqueue(Caller(f"c{joined:02d}", "abc"[svc], now - before, prio, needs))
            elif op[0] == "free":
                r.set_available(profiles[op[1] % len(profiles)].id, now - op[2])
            elif op[0] == "busy":
                r.set_available(profiles[op[1] % len(profiles)].id, None)
            elif op[0] == "leave":
                r.remove(f"c{op[1]:02d}")
            elif op[0] == "grant":
                r.grant(profiles[op[1] % len(profiles)].id, "abc"[op[2]], op[3])
        joined += op[0] == "enqueue"
        now += op[1] if op[0] == "wait" else 0.0
        for _ in range(op[1] if op[0] == "decide" else 1):
            a, b = fast.next_decision(now), slow.next_decision(now)
            assert (a and (a.call_id, a.agent_id, a.score, a.step, a.why)) == (
                b and (b.call_id, b.agent_id, b.score, b.step, b.why))  # fmt: skip
            if a is None or op[0] != "decide":
                break
            fast.assigned(a)
            slow.assigned(b)


def test_a_class_no_free_agent_could_take_is_taken_once_its_rule_step_lowers_the_bar():
    r = Router([Service("a", {"s0": 40}, steps=(RuleStep(30, lower={"s0": 10}),))],
               [AgentProfile("x0", {"s0": 20}), AgentProfile("x1", {"s1": 90})])  # fmt: skip
    r.enqueue(Caller("c", "a", entered_at=0.0))
    r.set_available("x0", 0.0)
    r.set_available("x1", 0.0)
    assert r.next_decision(10.0) is None, "s0 20 < 40"
    d = r.next_decision(40.0)
    assert d is not None and (d.call_id, d.agent_id, d.step) == ("c", "x0", 1)


def test_route_bench_with_several_agents_free_decides_like_the_full_scan():
    from acd.bench import bench_route

    rep = bench_route(agents=60, skills=12, waiting=80, decisions=150, seed=3, free=8)
    assert rep["same_decisions"] is True
    assert rep["indexed"]["matched"] == rep["naive"]["matched"] > 0


def test_a_caller_put_back_before_its_old_entry_left_the_heap_is_offered_to_the_agent_it_did_not_miss():
    """All agents busy after a decision leave the caller's old heap entry in place; the unanswered offer puts it
    back: no crash comparing callers, and its latest push (with the agent who missed it) is the one that counts."""
    r = Router([Service("hotline", {"x": 1})], [AgentProfile("a", {"x": 50}), AgentProfile("b", {"x": 50})])
    r.set_available("a", 0.0)
    r.enqueue(Caller("c1", "hotline", 1.0))
    d = r.next_decision(5.0)
    assert d is not None and d.agent_id == "a"
    r.assigned(d)
    assert r.next_decision(5.0) is None  # nobody free: the heaps are not walked
    r.enqueue(Caller("c1", "hotline", 1.0, missed=frozenset({"a"})))  # a did not answer: back in its place
    r.set_available("a", 6.0)  # a, idle the longest, would come first but for the miss
    r.set_available("b", 7.0)
    d = r.next_decision(8.0)
    assert d is not None and (d.call_id, d.agent_id) == ("c1", "b")
    r.assigned(d)
    assert r.next_decision(8.0) is None and r.waiting() == 0
