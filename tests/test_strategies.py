"""A service's strategy chooses among several free agents: the unchanged engine on the virtual PBX in virtual
time, one day of traffic per strategy, and what `hotline why` says about each choice."""

import asyncio
import tempfile
from pathlib import Path

import pytest

from acd.why import explain_call
from sim import world
from sim.day import scratch_site, simulate
from sim.pbx.model import CalleeBehavior, CallerScript

T0 = 1_800_000_000.0  # a Friday 2027-01-15 08:00 UTC: 16:00 in Shanghai

# site order 1001, 1002, 1003: a generalist, a one-skill agent, and one in between; all can take the hotline
AGENTS = """
[[agents]]
id = "1001"
name = "Generalist"
skills = { hotline = 90, sales = 90, billing = 90 }

[[agents]]
id = "1002"
name = "Specialist"
skills = { hotline = 60 }

[[agents]]
id = "1003"
name = "Two skills"
skills = { hotline = 80, sales = 50 }

[[services]]
name = "hotline"
skills = { hotline = 50 }
wrap_up = 2
"""

# (arrival s, talk s): every caller finds at least two agents free; the agents answer in 1 s
TRAFFIC = [(60.0, 40.0), (120.0, 80.0), (150.0, 40.0), (160.0, 15.0), (250.0, 15.0)]


def _site(wd: Path, strategy: str):  # type: ignore[no-untyped-def]
    def text(secret: Path) -> str:
        head = world.site_text(ami_port=5038, agi_port=4573, secret_file=secret,
                               store_url="sqlite+aiosqlite:///unused.db", recordings=wd / "rec",
                               queue_log=wd / "queue_log")  # fmt: skip
        return head.split("[[agents]]")[0] + AGENTS + f'strategy = "{strategy}"\n'

    return scratch_site(wd, text)


def _day(strategy: str):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        site = _site(Path(tmp), strategy)
        callers = [(T0 + at, CallerScript(caller=f"1390000000{i}", digits=[(1.5, "2")], talk=talk))
                   for i, (at, talk) in enumerate(TRAFFIC, start=1)]  # fmt: skip
        sim = asyncio.run(simulate(site, callers, T0, 400.0, seed=1,
                                   phones=lambda endpoint, offer: CalleeBehavior("answer", 1.0)))  # fmt: skip
    rows = sorted(sim.rows, key=lambda r: r["arrived_at"])
    assert [r["outcome"] for r in rows] == ["answered"] * len(TRAFFIC)
    decisions = sorted((f for f in sim.facts if f.kind == "route.decision"), key=lambda f: f.at)
    assert [d.call_id for d in decisions] == [r["call_id"] for r in rows], "one decision per caller, in order"
    assert [r["agent_id"] for r in rows] == [d.data["agent"] for d in decisions]
    return [r["agent_id"] for r in rows], decisions, sim.facts


@pytest.mark.parametrize(
    "strategy, expected",
    [
        # everyone idle since login, ties go to the site order; then whoever has been free the longest:
        # 1001 since its first call ended (~106 s) beats 1003 (free since the start) only once 1003 took one
        ("longest_idle", ["1001", "1002", "1003", "1001", "1001"]),
        # the one-skill agent whenever it is free; 1003 (2 skills) before the generalist; the generalist
        # only when it is the only one free (4th caller: 1002 and 1003 on calls)
        ("least_skilled", ["1002", "1002", "1003", "1001", "1002"]),
        # in turn in the site's order: after 1001 (4th) comes 1002, though 1001 was idle longer at 250 s
        ("round_robin", ["1001", "1002", "1003", "1001", "1002"]),
        # 5th caller: 1001 answered 2 calls, 1002 and 1003 one each; of these two 1003 is idle longer
        ("fewest_calls", ["1001", "1002", "1003", "1001", "1003"]),
    ],
)
def test_the_services_strategy_chooses_among_free_agents(strategy, expected):
    agents, decisions, _ = _day(strategy)
    assert agents == expected
    for d in decisions:
        assert d.data["strategy"] == strategy
        chosen = next(c["reason"] for c in d.data["candidates"] if c["agent"] == d.data["agent"])
        assert chosen.startswith("chosen, ") and strategy in chosen


def test_why_names_the_strategy_and_the_ranks_it_compared():
    agents, decisions, facts = _day("least_skilled")
    first = decisions[0]
    reasons = {c["agent"]: c["reason"] for c in first.data["candidates"]}
    assert reasons["1002"].startswith("chosen, by least_skilled: 1 skill, level 60 on the needed skills")
    assert "first of 3 free agents able to take it" in reasons["1002"]
    assert reasons["1001"].startswith("eligible, ranked lower by least_skilled: 3 skills, level 90")
    assert reasons["1003"].startswith("eligible, ranked lower by least_skilled: 2 skills, level 80")
    # the 4th caller found only the generalist free: the strategy had no choice, and says so
    fourth = {c["agent"]: c["reason"] for c in decisions[3].data["candidates"]}
    assert fourth["1001"].startswith("chosen, the only free agent able to take it, so least_skilled had no choice")
    assert fourth["1002"] == fourth["1003"] == "on-call", fourth
    lines = explain_call([f for f in facts if f.call_id == first.call_id])
    assert "strategy least_skilled" in lines[0] and "agent 1002" in lines[0] and lines[0].endswith("-> answered")


def test_an_agent_who_did_not_answer_is_not_rung_again_for_that_caller_while_another_can_take_it():
    # least_skilled ranks the one-skill 1002 first, but its phone never answers: after one ring timeout the
    # caller goes to the next agent at once (as with any strategy), not to 1002 again until it is paused
    with tempfile.TemporaryDirectory() as tmp:
        site = _site(Path(tmp), "least_skilled")

        def phones(endpoint: str, offer: int) -> CalleeBehavior:
            return CalleeBehavior("never") if endpoint == "agent1002" else CalleeBehavior("answer", 1.0)

        callers = [(T0 + 60.0, CallerScript(caller="13900000001", digits=[(1.5, "2")], talk=20.0))]
        sim = asyncio.run(simulate(site, callers, T0, 200.0, seed=1, phones=phones))
    (row,) = sim.rows
    offers = [f for f in sim.facts if f.kind == "agent.offer"]
    assert [o.data["agent"] for o in offers] == ["1002", "1003"], "the next in least_skilled's order: 2 skills"
    assert row["outcome"] == "answered" and row["agent_id"] == "1003"
    assert offers[1].at - offers[0].at <= 15.0 + 1.0, "one ring timeout, then the next agent"
    second = sorted((f for f in sim.facts if f.kind == "route.decision"), key=lambda f: f.at)[1]
    reasons = {c["agent"]: c["reason"] for c in second.data["candidates"]}
    assert reasons["1003"].startswith("chosen, by least_skilled: 2 skills"), reasons
    assert reasons["1002"].startswith("eligible, ranked lower by least_skilled: did not answer this caller"), reasons
