"""Service statistics follow docs/metrics.md: AHT and occupancy include wrap-up, and each service's service level
uses its own ``sl_target``. Expected figures are worked out by hand from records and agent timelines built
here, then the unchanged engine on the virtual PBX shows wrap-up reaching AHT and a 30 s target counted."""

import asyncio
import tempfile
from pathlib import Path

import pytest

from acd.agent_state import AgentMachine
from acd.occupancy import agent_time
from engine.store.stats import by_service, service_stats, targets_of
from sim import world
from sim.day import scratch_site, simulate
from sim.pbx.model import CalleeBehavior, CallerScript

T0 = 1_800_000_000.0


def _rec(service, outcome, wait, talk=None, hold=0.0, wrap=0.0, handle=None):  # type: ignore[no-untyped-def]
    answered = outcome == "answered"
    return {"service": service, "outcome": outcome, "queued_at": 100.0, "queue_wait": wait if answered else None,
            "ended_at": 100.0 + wait if not answered else 100.0 + wait + (talk or 0), "talk_time": talk,
            "hold_time": hold, "wrap_up_time": wrap, "handle_time": handle}  # fmt: skip


RECORDS = [
    _rec("hotline", "answered", 10.0, talk=100.0, hold=10.0, wrap=5.0, handle=115.0),
    _rec("hotline", "answered", 20.0, talk=50.0, wrap=5.0, handle=55.0),
    _rec("support", "answered", 20.0, talk=30.0),  # an older row: no handle time stored
    _rec("support", "answered", 40.0, talk=20.0, hold=5.0, wrap=10.0),
    _rec("hotline", "abandoned", 18.0),  # after 15 s: late for the hotline
    _rec("support", "abandoned", 25.0),  # within support's 30 s: not late
    _rec("support", "abandoned", 3.0),  # short abandon
]


def test_each_service_level_uses_its_own_target():
    s = service_stats(RECORDS, sl_targets={"hotline": 15.0, "support": 30.0})
    # within target: hotline 10 s (not 20 s), support 20 s (not 40 s) = 2; late abandons: hotline's 18 s only
    assert s["service_level"] == round(2 / (4 + 1), 4)
    assert s["sl_targets"] == {"hotline": 15.0, "support": 30.0} and s["service_level_threshold"] is None
    per = by_service(RECORDS, {"hotline": 15.0, "support": 30.0})
    assert per["hotline"]["service_level"] == round(1 / (2 + 1), 4) and per["hotline"]["service_level_threshold"] == 15
    assert per["support"]["service_level"] == round(1 / 2, 4) and per["support"]["service_level_threshold"] == 30
    assert per["support"]["short_abandoned"] == 1 and per["support"]["abandoned"] == 1


def test_aht_is_talk_hold_and_wrap_up_per_handled_call():
    s = service_stats(RECORDS)
    # (100 + 10 + 5) + (50 + 5) + 30 + (20 + 5 + 10) = 235 over 4 answered
    assert s["aht"] == 58.8
    assert s["wrap_up"] == 20.0


def test_targets_come_from_the_site_file(tmp_path):
    site = _site(tmp_path, sl_target=30)
    assert targets_of(site) == {"hotline": 30.0}


def test_occupancy_counts_wrap_up_and_outbound_and_leaves_out_pauses():
    m = AgentMachine("1001", wrap_up=10.0)
    m.login(0.0)
    m.handle("reserve", 100.0)
    m.handle("ring", 100.0)
    m.handle("answer", 105.0)
    m.handle("hold", 150.0)
    m.handle("unhold", 170.0)
    m.handle("hangup", 200.0)
    m.pause("after call", 210.0)  # paused during wrap-up: the wrap-up is still work
    m.handle("wrap_up_end", 230.0)
    m.resume(300.0)
    m.device(True, 500.0)  # a call of the agent's own from the phone
    m.device(False, 560.0)
    m.logout(700.0)
    t = agent_time(m, 0.0, 800.0)
    # on call 105-200 (hold included) + wrap-up 200-230 = 125; own call 500-560 = 60;
    # paused 230-300 + logged out 700-800 = 170; available 0-105, 300-500, 560-700 = 445
    assert (t.handling, t.outbound, t.excluded, t.available) == (125.0, 60.0, 170.0, 445.0)
    assert t.occupancy == pytest.approx(185.0 / (185.0 + 445.0))
    s = service_stats([], agent_time=t.as_dict())
    assert s["occupancy"] == round(185.0 / 630.0, 4)


# ---- the engine on the virtual PBX in virtual time ------------------------------------------------------------
SERVICE = """
[[services]]
name = "hotline"
skills = {{ hotline = 80 }}
wrap_up = 5
sl_target = {sl_target}
"""


def _site(wd: Path, sl_target: int):  # type: ignore[no-untyped-def]
    def text(secret: Path) -> str:
        head = world.site_text(ami_port=5038, agi_port=4573, secret_file=secret,
                               store_url="sqlite+aiosqlite:///unused.db", recordings=wd / "rec",
                               queue_log=wd / "queue_log", outbound_agents=0)  # fmt: skip
        head = head.split("[[agents]]\nid = \"1002\"")[0]  # the hotline agent alone, the case's own service
        return head + SERVICE.format(sl_target=sl_target)

    return scratch_site(wd, text)


def test_on_the_virtual_pbx_wrap_up_enters_aht_and_a_30_s_target_is_used():
    talks = {"13900000001": 60.0, "13900000002": 30.0, "13900000003": 20.0}
    arrive = {"13900000001": 0.0, "13900000002": 40.0, "13900000003": 45.0}
    with tempfile.TemporaryDirectory() as tmp:
        site = _site(Path(tmp), sl_target=30)
        callers = [(T0 + arrive[n], CallerScript(caller=n, digits=[(1.5, "2")], talk=t)) for n, t in talks.items()]
        sim = asyncio.run(simulate(site, callers, T0, 400.0, seed=1,
                                   phones=lambda endpoint, offer: CalleeBehavior("answer", 1.0)))  # fmt: skip
    rows = {r["caller"]: r for r in sim.rows}
    assert [rows[n]["outcome"] for n in talks] == ["answered"] * 3
    # every call ends in the service's 5 s wrap-up, measured from the agent's machine, and is in handle time
    for n, talk in talks.items():
        r = rows[n]
        assert r["service"] == "hotline"
        assert r["wrap_up_time"] == pytest.approx(5.0, abs=0.01)
        assert r["talk_time"] == pytest.approx(talk, abs=0.5)
        assert r["handle_time"] == pytest.approx(r["talk_time"] + r["hold_time"] + 5.0, abs=0.01)
    wraps = [f for f in sim.facts if f.kind == "agent.wrap_up"]
    assert sorted(f.call_id for f in wraps) == sorted(rows[n]["call_id"] for n in talks)
    # the second caller waits for the first call and its wrap-up: longer than 15 s, within 30 s
    waits = [rows[n]["queue_wait"] for n in talks]
    assert waits[0] < 15.0 < waits[1] <= 30.0 < waits[2], waits
    s = service_stats(sim.rows, sl_targets=targets_of(site), agent_time=sim.agent_time)
    assert s["service_level"] == round(2 / 3, 4) and s["service_level_threshold"] == 30.0
    assert s["aht"] == pytest.approx(sum(talks.values()) / 3 + 5.0, abs=0.5)
    # the agent's time: the three calls and their wrap-ups are work, the rest of the logged-in time is idle
    at = sim.agent_time
    assert at is not None
    assert at["handling_seconds"] == pytest.approx(sum(talks.values()) + 3 * 5.0, abs=3.0)
    assert at["outbound_seconds"] == 0.0
    busy = at["handling_seconds"]
    assert s["occupancy"] == pytest.approx(busy / (busy + at["available_seconds"]), abs=1e-3)
