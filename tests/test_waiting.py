"""While callers wait: announcements, the call-back offer that keeps the caller's place, voicemail steps,
and the hotline guard. The brains on their own, then the unchanged engine on the virtual PBX in virtual
time (the same flows run on the real Asterisk in tests/asterisk/test_acd.py)."""

import asyncio
import tempfile
from pathlib import Path

from acd.board import Holder
from acd.guard import Guard, GuardSeat, Release, Reserve
from acd.waiting import Announce, CallbackPlan, CallerPlan, HoldTime, OfferCallback, StepAction, ToVoicemail, WaitRules
from acd.waiting import next_action as act
from engine.model.records import derive
from engine.store.stats import service_stats
from sim import world
from sim.day import scratch_site, simulate
from sim.pbx.model import CalleeBehavior, CallerScript
from tests.board_watch import BoardWatch

T0 = 1_800_000_000.0  # a Friday 2027-01-15 08:00 UTC: 16:00 in Shanghai


# ---- the brains -----------------------------------------------------------------------------------------------
def test_hold_time_is_app_queues_running_average_in_whole_minutes():
    h = HoldTime()
    assert h.minutes() is None, "no estimate before the first answered call"
    h.answered(100.0)
    assert h.value == 100.0 and h.minutes() == 2
    h.answered(20.0)
    assert h.value == (3 * 100.0 + 20.0) / 4 and h.minutes() == 2
    h.answered(0.0)
    assert h.minutes() == 1, "never 'zero minutes'"


def test_periodic_announcements_count_from_the_queue_and_from_the_last_thing_heard():
    rules = WaitRules(announce_every=30)
    plan = CallerPlan(entered_at=0.0, queued_at=10.0)
    hold = HoldTime(95.0)
    assert act(rules, plan, 39.0, 3, hold) is None
    assert act(rules, plan, 40.0, 3, hold) == Announce("", 3, 2)
    assert act(rules, plan, 69.0, 2, hold) is None
    assert act(rules, plan, 70.0, 1, hold) == Announce("", 1, 2)
    quiet = WaitRules(announce_every=30, announce_position=False, announce_wait=False)
    assert act(quiet, CallerPlan(0.0, 0.0), 100.0, 1, hold) is None


def test_rule_steps_play_once_in_order_and_voicemail_ends_the_wait():
    rules = WaitRules(steps=(StepAction(20, announce="busy-now"), StepAction(40, offer_callback=True),
                             StepAction(90, voicemail=True)))  # fmt: skip
    plan = CallerPlan(entered_at=0.0, queued_at=5.0)
    hold = HoldTime()
    assert act(rules, plan, 19.0, 1, hold) is None
    assert act(rules, plan, 21.0, 1, hold) == Announce("busy-now")
    assert act(rules, plan, 22.0, 1, hold) is None, "a step plays once"
    assert act(rules, plan, 45.0, 1, hold) == OfferCallback("")
    assert act(rules, plan, 60.0, 1, hold) is None
    assert act(rules, plan, 95.0, 1, hold) == ToVoicemail()
    # a withheld number cannot be called back: no offer, the next step still comes
    plan = CallerPlan(0.0, 0.0)
    assert act(rules, plan, 45.0, 1, hold, callback_possible=False) == Announce("busy-now")
    assert act(rules, plan, 46.0, 1, hold, callback_possible=False) is None


def test_a_failed_call_back_is_retried_in_place_then_given_up():
    cb = CallbackPlan("13800138000")
    assert cb.failed("noanswer", 100.0, 120.0, 3) and cb.not_before == 220.0
    assert cb.failed("busy", 300.0, 120.0, 3)
    assert not cb.failed("noanswer", 500.0, 120.0, 3)
    assert cb.outcomes == ["noanswer", "busy", "noanswer"]


def test_the_guard_reserves_when_a_hotline_caller_waits_and_releases_when_calm():
    g = Guard(after=5.0, release_after=60.0)
    seats = [GuardSeat("2001", idle=False, since=100.0), GuardSeat("2002", idle=False, since=40.0),
             GuardSeat("2003", idle=False, since=10.0, available=False)]  # fmt: skip
    assert g.step(200.0, None, seats) is None
    assert g.step(200.0, 4.9, seats) is None
    r = g.step(201.0, 5.0, seats)
    assert isinstance(r, Reserve) and r.agent == "2002", "the longest call of the agents in a session"
    assert g.step(202.0, 6.0, seats) is None, "one agent at a time"
    assert g.step(210.0, None, seats) is None
    assert g.step(230.0, 1.0, seats) is None, "a new caller: the calm starts again"
    assert g.step(240.0, None, seats) is None
    rel = g.step(300.0, None, seats)
    assert isinstance(rel, Release) and rel.agent == "2002"
    idle = [GuardSeat("2001", idle=True, since=150.0), GuardSeat("2002", idle=False, since=40.0)]
    r = g.step(400.0, 9.0, idle)
    assert isinstance(r, Reserve) and r.agent == "2001", "an idle agent takes the caller now"


# ---- the engine in virtual time -----------------------------------------------------------------------------
SITE = """
[[services]]
name = "hotline"
skills = {{ hotline = 80 }}
wrap_up = 5
announce_every = {every}
rules = [ {rules} ]
{service_extra}"""


def _site(wd: Path, rules: str, every: int = 15, extra: str = "", outbound_agents: int = 0,
          service_extra: str = ""):  # type: ignore[no-untyped-def]  # fmt: skip
    def text(secret: Path) -> str:
        head = world.site_text(ami_port=5038, agi_port=4573, secret_file=secret,
                               store_url="sqlite+aiosqlite:///unused.db", recordings=wd / "rec",
                               queue_log=wd / "queue_log", outbound_agents=outbound_agents)  # fmt: skip
        # one hotline agent: the demo's overflow agents and its service are replaced by the case's own
        head = head.split("[[agents]]\nid = \"1002\"")[0]
        head = head.replace('service = "hotline"\n', f'service = "hotline"\n{extra}')
        tail = ""
        ids = world.outbound_agent_ids(outbound_agents)
        if ids:
            tail = "".join(f'\n[[agents]]\nid = "{a}"\nauto_login = true\n' for a in ids)
            tail += world.CAMPAIGN.format(agents=", ".join(f'"{a}"' for a in ids), amd="true", window="08:00-21:00",
                                          mode="predictive", record="false", amd_sample="false")  # fmt: skip
        return head + tail + SITE.format(every=every, rules=rules, service_extra=service_extra)

    return scratch_site(wd, text)


def _phones(endpoint: str, offer: int) -> CalleeBehavior:
    return CalleeBehavior("answer", 1.0)  # every agent answers in a second


def _run(site, callers, length, carrier=None, on_engine=None):  # type: ignore[no-untyped-def]
    return asyncio.run(simulate(site, [(T0 + at, s) for at, s in callers], T0, length, seed=1, carrier=carrier,
                                phones=_phones, on_engine=on_engine))  # fmt: skip


def _queue_log(wd: Path) -> list[list[str]]:
    return [line.split("|") for line in (wd / "queue_log").read_text().splitlines()]


def test_a_call_back_keeps_its_place_and_announcements_never_delay_a_connect():
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        site = _site(wd, "{ after = 15, offer_callback = true }")
        callers = [
            (0.0, CallerScript(caller="13900000001", digits=[(1.5, "2")], talk=120.0)),  # A: talks to 1001
            # B presses 1 at the offer (15 s after it called), hangs up, and is called back in its place
            (5.0, CallerScript(caller="13900000002", digits=[(1.5, "2"), (17.5, "1")], talk=30.0)),
            (8.0, CallerScript(caller="13900000003", digits=[(1.5, "2")], talk=20.0)),  # C: waits, presses nothing
        ]
        sim = _run(site, callers, 400.0, carrier=lambda number: CalleeBehavior("answer", 3.0, talk=25.0))
        facts, rows = sim.facts, {r["caller"]: r for r in sim.rows}
        qlog = _queue_log(wd)
    a, b, c = (rows[f"1390000000{i}"] for i in (1, 2, 3))
    assert a["outcome"] == "answered" and c["outcome"] == "answered"
    assert b["outcome"] == "callback", "reported apart from abandons"
    stats = service_stats(sim.rows)
    assert stats["callbacks"] == 1 and stats["abandoned"] == 0 and stats["short_abandoned"] == 0

    b_call = b["call_id"]
    (req,) = [f for f in facts if f.kind == "acd.callback"]
    assert req.call_id == b_call and req.data["number"] == "+8613900000002", "called back in E.164"
    (connected,) = [f for f in facts if f.kind == "acd.callback_connected"]
    (done,) = [f for f in facts if f.kind == "acd.callback_done"]
    assert connected.call_id == b_call and connected.data["agent"] == "1001" and done.data["outcome"] == "connected"
    # B called before C and keeps that place: the call back comes when A's call and wrap-up end, before C
    a_end = a["connected_at"] + a["talk_time"]
    assert a_end + 5.0 <= connected.at - 3.0 <= a_end + 5.0 + 2.0, "placed when its turn came (agent rings first)"
    assert c["connected_at"] > done.at, "C, who came later, waits for B's call back"
    assert c["connected_at"] - (done.at + 5.0) <= 2.0, "then C at once (ring 1 s)"
    # the call back shows in queue_log as a key exit, then a connect and a completion under B's call id
    b_rows = [r for r in qlog if r[1] == b_call]
    events = [r[4] for r in b_rows]
    assert events == ["ENTERQUEUE", "EXITWITHKEY", "CONNECT", "COMPLETECALLER"], events
    exit_row = b_rows[1]
    assert exit_row[5:7] == ["1", "1"], "key 1 at position 1 (A was already talking)"

    # C heard its position while waiting: 2nd behind B (whose call back holds its place), then 1st
    c_call = c["call_id"]
    ann = [f for f in facts if f.kind == "acd.announce" and f.call_id == c_call]
    said = [f.data["position"] for f in ann if f.data["what"] == "announce"]
    assert said[0] == "2" and said[-1] == "1" and len(said) >= 5, said
    assert all(f.data["wait_minutes"] == "1" for f in ann if f.data["what"] == "announce"), "A's wait: about 1 s"
    offers = [f for f in facts if f.kind == "acd.announce" and f.data["what"] == "callback_offer"]
    assert {f.call_id for f in offers} == {b_call, c_call}, "each caller is offered once"
    # never while an agent is being offered: announcements stop once C's offer starts
    c_offer = min(f.at for f in facts if f.kind == "agent.offer" and f.call_id == c_call)
    assert max(f.at for f in ann) < c_offer


def test_a_call_back_nobody_answers_is_tried_callback_attempts_times_callback_retry_apart():
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        # values unlike the defaults (3, 120) and unlike each other, so a swap of the two cannot pass
        site = _site(wd, "{ after = 15, offer_callback = true }", every=0,
                     service_extra="callback_attempts = 2\ncallback_retry = 40\n")  # fmt: skip
        callers = [
            (0.0, CallerScript(caller="13900000001", digits=[(1.5, "2")], talk=60.0)),  # keeps the agent busy
            (5.0, CallerScript(caller="13900000002", digits=[(1.5, "2"), (17.5, "1")], talk=30.0)),  # B: call back
        ]
        carrier = lambda number: CalleeBehavior("never")  # noqa: E731 - B's phone rings out every time
        sim = _run(site, callers, 600.0, carrier=carrier)
        qlog = _queue_log(wd)
    b_call = {r["caller"]: r for r in sim.rows}["13900000002"]["call_id"]
    mine = [f for f in sim.facts if f.call_id == b_call]
    offers = [f for f in mine if f.kind == "acd.callback_offer"]
    failed = [f for f in mine if f.kind == "acd.callback_attempt"]
    assert [f.data["attempt"] for f in offers] == [1, 2], "exactly callback_attempts tries"
    (done,) = [f for f in mine if f.kind == "acd.callback_done"]
    assert len(failed) == 1 and failed[0].data["outcome"] == "noanswer"
    assert failed[0].data["next_at"] == round(failed[0].at + 40.0, 3), "the next try is callback_retry later"
    assert 40.0 <= offers[1].at - failed[0].at <= 40.0 + 1.5, "and it comes then (the dispatcher ticks every 1 s)"
    assert offers[1].at - offers[0].at >= 30.0 + 40.0, "the customer rang 30 s, then the pause"
    assert done.data["outcome"] == "failed" and done.data["attempt"] == 2
    assert done.data["outcomes"] == ["noanswer", "noanswer"]
    assert [r[4] for r in qlog if r[1] == b_call] == ["ENTERQUEUE", "EXITWITHKEY"], "never connected"


def test_a_rule_step_sends_a_long_waiter_to_voicemail():
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        site = _site(wd, "{ after = 30, voicemail = true }", every=0)
        callers = [(0.0, CallerScript(caller="13900000001", digits=[(1.5, "2")], talk=200.0)),
                   (5.0, CallerScript(caller="13900000002", digits=[(1.5, "2")], talk=30.0))]  # fmt: skip
        sim = _run(site, callers, 300.0)
        qlog = _queue_log(wd)
    rows = {r["caller"]: r for r in sim.rows}
    b = rows["13900000002"]
    assert b["outcome"] == "voicemail" and b["agent_id"] == ""
    (vm,) = [f for f in sim.facts if f.kind == "acd.voicemail"]
    assert vm.call_id == b["call_id"] and vm.at - b["arrived_at"] >= 30.0
    assert [r[4] for r in qlog if r[1] == b["call_id"]] == ["ENTERQUEUE", "EXITWITHTIMEOUT"]
    assert any(f.kind == "ivr.message" and f.call_id == b["call_id"] for f in sim.facts), "the voicemail AGI ran"


def test_the_guard_takes_an_outbound_agent_off_the_dialer_for_the_hotline_and_gives_it_back():
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        site = _site(wd, "", every=0, extra='guard_agents = ["2001", "2002"]\nguard_after = 5\nguard_release = 60\n',
                     outbound_agents=3)  # fmt: skip
        callers = [(300.0, CallerScript(caller="13900000001", digits=[(1.5, "2")], talk=600.0)),
                   (320.0, CallerScript(caller="13900000002", digits=[(1.5, "2")], talk=60.0))]  # fmt: skip
        watch = BoardWatch()
        sim = _run(site, callers, 1500.0, carrier=world.carrier(5), on_engine=watch.attach)
    facts = sim.facts
    rows = {r["caller"]: r for r in sim.rows}
    b = rows["13900000002"]
    guard = [f for f in facts if f.kind == "acd.guard"]
    assert [f.data["action"] for f in guard] == ["reserve", "release"], guard
    reserved, released = guard
    agent = reserved.data["agent"]
    assert agent in ("2001", "2002") and reserved.at - b["queued_at"] >= 5.0 - 1e-3
    assert b["outcome"] == "answered" and b["agent_id"] == agent, "the reserved agent took the hotline caller"
    assert b["ring_time"] < 0.5, "in its always-on session"
    # while reserved, the dialer gives it no customer; afterwards it dials again
    connects = [f for f in facts if f.kind == "outbound.connect" and f.data["agent"] == agent]
    assert not [f for f in connects if reserved.at < f.at < released.at]
    assert [f for f in connects if f.at > released.at], "back to the campaign"
    assert released.at - b["connected_at"] >= 60.0 - 1.0, "after a minute with no hotline caller waiting"
    kinds = [f.kind for f in facts if f.kind in ("dialer.reserved", "dialer.released")]
    assert kinds == ["dialer.reserved", "dialer.released"]
    assert derive(facts)  # the ledger still derives
    # on the agent board: the guard's hold, then the loan, then the dialer's again; never two sides at once
    watch.assert_clean()
    assert {Holder.DIALER, Holder.RESERVED, Holder.LENT} <= watch.holders[agent]
    assert watch.board is not None and watch.board.holder(agent) is Holder.DIALER and not watch.board[agent].guarded


def test_two_hashes_within_the_window_end_a_session_call():
    from acd.sessions import EndKeys

    keys = EndKeys(window=1.5)
    assert not keys.press("PJSIP/a-1", "#", 10.0)
    assert keys.press("PJSIP/a-1", "#", 11.0), "## within 1.5 s"
    assert not keys.press("PJSIP/a-1", "#", 20.0)
    assert not keys.press("PJSIP/a-1", "#", 21.6), "too slow: this press starts a new pair"
    assert keys.press("PJSIP/a-1", "#", 22.0)
    assert not keys.press("PJSIP/a-1", "#", 30.0) and not keys.press("PJSIP/a-1", "5", 30.5)
    assert not keys.press("PJSIP/a-1", "#", 31.0), "another digit between breaks the pair"
    assert not keys.press("PJSIP/b-2", "#", 31.2), "per channel"


def test_an_always_on_agent_outside_campaigns_takes_callers_in_its_open_call():
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        site = _site(wd, "", every=0)
        text = site.path.read_text().replace('name = "Hotline Agent"\n', 'name = "Hotline Agent"\nalways_on = true\n')
        site.path.write_text(text)
        from engine.config import load_site

        site = load_site(site.path)
        offers: list[str] = []

        def phones(endpoint: str, offer: int) -> CalleeBehavior:
            offers.append(endpoint)
            return CalleeBehavior("answer", 1.0)

        callers = [(at, CallerScript(caller=f"1390000000{i}", digits=[(1.5, "2")], talk=30.0))
                   for i, at in enumerate((20.0, 30.0, 100.0))]  # fmt: skip
        sim = asyncio.run(simulate(site, [(T0 + at, s) for at, s in callers], T0, 200.0, seed=1, phones=phones))
    rows = sorted(sim.rows, key=lambda r: r["arrived_at"])
    assert [r["outcome"] for r in rows] == ["answered"] * 3 and {r["agent_id"] for r in rows} == {"1001"}
    assert all(r["ring_time"] < 0.5 for r in rows), "joined the open call: no ringing"
    assert offers == ["agent1001"], "the phone was called once, for the session"
    first, second, third = rows
    assert second["connected_at"] >= first["connected_at"] + 30.0 + 5.0 - 0.01, "after the first call and wrap-up"
    ups = [f for f in sim.facts if f.kind == "acd.session" and f.data["state"] == "up"]
    assert len(ups) == 1 and ups[0].data["agent"] == "1001"


def test_a_call_back_left_in_the_menu_is_placed_in_its_turn():
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        site = _site(wd, "", every=0)

        def hook(eng):  # type: ignore[no-untyped-def]
            async def menu() -> None:  # what the IVR's call-back node hands over (ivr/session.py on_callback)
                await eng.clock.sleep(10.0)
                await eng.features["acd"].menu_callback("menu-cb-1", "", "13900000077", "hotline")
                await eng.features["acd"].menu_callback("menu-cb-2", "", "anonymous", "hotline")

            eng.spawn(menu(), "menu")

        callers = [(0.0, CallerScript(caller="13900000001", digits=[(1.5, "2")], talk=60.0)),
                   (20.0, CallerScript(caller="13900000002", digits=[(1.5, "2")], talk=20.0))]  # fmt: skip
        sim = asyncio.run(simulate(site, [(T0 + at, s) for at, s in callers], T0, 300.0, seed=1,
                                   carrier=lambda n: CalleeBehavior("answer", 2.0, talk=15.0), phones=_phones,
                                   on_engine=hook))  # fmt: skip
    facts = sim.facts
    rows = {r["caller"]: r for r in sim.rows}
    (req,) = [f for f in facts if f.kind == "acd.callback"]
    assert req.call_id == "menu-cb-1" and req.data["source"] == "menu", "a withheld number is not queued"
    (conn,) = [f for f in facts if f.kind == "acd.callback_connected"]
    (done,) = [f for f in facts if f.kind == "acd.callback_done"]
    a_end = rows["13900000001"]["connected_at"] + rows["13900000001"]["talk_time"]
    assert conn.at - a_end <= 5.0 + 1.0 + 2.0 + 0.5, "placed when the agent was free after A"
    assert rows["13900000002"]["connected_at"] > done.at, "the later caller waits its turn"
