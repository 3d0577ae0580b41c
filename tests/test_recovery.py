"""Closing calls that ended while the engine was away, from Asterisk's CEL and CDR (engine/model/reconstruct.py).

The CEL rows in tests/fixtures/cel/answered-call.csv were written by the lab's Asterisk 22 for one call: a caller
answered by the menu, bridged to agent 1001's leg ``hl-a4ce…`` 3 s later, the caller hanging up 6 s after that.
Here the engine "dies" at different moments of that call: the ledger holds only what the model saw before.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from engine.asterisk.ami_codec import Frame
from engine.asterisk.call_logs import CdrCall, parse_cdr_calls, parse_cel
from engine.model.calls import CallModel
from engine.model.facts import Fact
from engine.model.reconstruct import APPROXIMATE, RECONSTRUCTED, close_call
from engine.model.records import derive_one
from engine.recovery import read_since
from sim.vtime import MemoryStore

CEL = parse_cel((Path(__file__).parent / "fixtures" / "cel" / "answered-call.csv").read_text())
CALLER = "1796143868.0"
LEG = "hl-a4ce7b9f7626454087f0"
AGENTS = {"agent1001": "1001"}


def at(event: str, uid: str) -> float:
    return next(e.at for e in CEL if e.event == event and e.uniqueid == uid)


def ev(name: str, t: float, **kw: object) -> Frame:
    return Frame([("Event", name), ("Timestamp", f"{t:.6f}"), *[(k, str(v)) for k, v in kw.items()]])


def seen_until(stop: str) -> list[Fact]:
    """What the engine wrote before it died: the caller's channel and answer, its queueing and (from ``offer``
    on) the offer to agent 1001; from ``leg`` on also the agent leg's channel, from ``bridged`` its bridge."""
    m = CallModel()
    c = dict(Channel="PJSIP/trunk-00000000", Uniqueid=CALLER, Linkedid=CALLER, Context="from-trunk",
             Exten="4001234567", CallerIDNum="13800138000")  # fmt: skip
    facts = m.apply(ev("Newchannel", at("CHAN_START", CALLER), ChannelState=4, **c), 0)
    facts += m.apply(ev("Newstate", at("ANSWER", CALLER), ChannelState=6, **c), 0)
    facts.append(Fact("call.queued", at("ANSWER", CALLER) + 2, CALLER, CALLER, f"queued:{CALLER}",
                      {"service": "hotline"}))  # fmt: skip
    if stop == "queued":
        return facts
    m.associate(LEG, CALLER, "agent", "1001")
    facts.append(Fact("agent.offer", at("CHAN_START", LEG) - 0.01, CALLER, LEG, f"offer:{LEG}",
                      {"agent": "1001", "leg": LEG, "service": "hotline"}))  # fmt: skip
    if stop == "offer":
        return facts
    a = dict(Channel="PJSIP/agent1001-00000001", Uniqueid=LEG, Linkedid=LEG, Context="agents", Exten="s",
             CallerIDNum="13800138000")  # fmt: skip
    facts += m.apply(ev("Newchannel", at("CHAN_START", LEG), ChannelState=5, **a), 0)
    if stop == "leg":
        return facts
    facts += m.apply(ev("Newstate", at("ANSWER", LEG), ChannelState=6, **a), 0)
    facts += m.apply(ev("BridgeEnter", at("BRIDGE_ENTER", CALLER), BridgeUniqueid="b1", **c), 0)
    return facts


def closed_record(stop: str, cel=CEL, cdr=None):  # type: ignore[no-untyped-def]
    before = seen_until(stop)
    closing = close_call(CALLER, before, cel, cdr or {}, AGENTS)
    return closing, derive_one(CALLER, before + closing.facts)


def test_cel_rows_parse_with_microsecond_times_and_the_hangup_source():
    assert [e.event for e in CEL if e.uniqueid == CALLER] == ["CHAN_START", "ANSWER", "BRIDGE_ENTER", "BRIDGE_EXIT",
                                                              "HANGUP", "CHAN_END"]  # fmt: skip
    hangup = next(e for e in CEL if e.event == "HANGUP" and e.uniqueid == LEG)
    assert hangup.linkedid == CALLER and hangup.extra["hangupsource"] == "PJSIP/trunk-00000000"
    assert hangup.at == 1796143880.195056


def test_a_call_talking_when_the_engine_died_is_closed_exactly_from_cel():
    closing, rec = closed_record("bridged")
    assert closing.closed == RECONSTRUCTED and closing.reason == ""
    assert rec is not None and rec.closed == RECONSTRUCTED
    assert rec.outcome == "answered" and rec.agent_id == "1001" and rec.hangup_side == "caller"
    assert rec.ended_at == round(at("HANGUP", LEG), 3)
    assert rec.connected_at == round(at("BRIDGE_ENTER", LEG), 3)
    assert rec.talk_time == round(at("BRIDGE_EXIT", CALLER) - at("BRIDGE_ENTER", LEG), 3)
    assert all(f.data.get("reconstructed") for f in closing.facts if f.kind != "call.end")


def test_the_same_record_whatever_the_engine_had_written_before_it_died():
    """Idempotent replay: the facts come under the model's keys, so the ledger keeps one of each."""
    records = []
    for stop in ("queued", "offer", "leg", "bridged"):
        store = MemoryStore()
        before = seen_until(stop)
        asyncio.run(store.append(before, 0))
        closing = close_call(CALLER, before, CEL, {}, AGENTS)
        asyncio.run(store.append(closing.facts, 0))
        facts = asyncio.run(store.facts(CALLER))
        keys = [f.key for f in facts]
        assert len(keys) == len(set(keys))
        rec = derive_one(CALLER, facts)
        assert rec is not None
        records.append((rec.outcome, rec.agent_id, rec.connected_at, rec.ended_at, rec.talk_time, rec.hangup_side))
    assert len(set(records)) == 1, records
    assert records[0][:2] == ("answered", "1001")


def test_an_offer_the_engine_made_but_never_wrote_comes_back_from_the_leg():
    closing, rec = closed_record("queued")
    offers = [f for f in closing.facts if f.kind == "agent.offer"]
    assert [(f.uniqueid, f.data["agent"], f.data["service"]) for f in offers] == [(LEG, "1001", "hotline")]
    assert rec is not None and rec.agent_id == "1001" and rec.outcome == "answered"


def test_without_cel_the_cdr_end_closes_it_to_the_second():
    end = float(int(at("HANGUP", CALLER)))
    closing, rec = closed_record("bridged", cel=[], cdr={CALLER: CdrCall(CALLER, 1796143868.0, end)})
    assert closing.closed == RECONSTRUCTED
    assert closing.facts[-1].data["source"] == "cdr"
    assert rec is not None and rec.ended_at == end and rec.closed == RECONSTRUCTED


def test_without_any_record_it_is_approximate_and_says_why():
    before = seen_until("bridged")
    closing, rec = closed_record("bridged", cel=[])
    assert closing.closed == APPROXIMATE and CALLER in closing.reason
    assert rec is not None and rec.closed == APPROXIMATE and rec.closed_reason == closing.reason
    assert rec.ended_at == round(max(f.at for f in before), 3)


def test_cdr_rows_give_each_channel_its_earliest_answer_and_latest_end():
    row = '"","1380","4001234567","from-trunk","","PJSIP/trunk-1","{dst}","AGI","","2026-12-01 08:00:00",' \
          '"{ans}","{end}",10,5,"ANSWERED","DOCUMENTATION","1796.1",""'  # fmt: skip
    text = "\n".join(
        [
            row.format(dst="", ans="2026-12-01 08:00:01", end="2026-12-01 08:00:04"),
            row.format(dst="PJSIP/agent1001-2", ans="2026-12-01 08:00:09", end="2026-12-01 08:00:20"),
        ]
    )
    got = parse_cdr_calls(text)["1796.1"]
    assert (got.answer, got.end) == (1796112001.0, 1796112020.0)


def test_a_degraded_call_is_no_record():
    closing, rec = closed_record("bridged")
    degraded = Fact("ivr.degraded", rec.ended_at + 5, CALLER, CALLER, f"degraded:{CALLER}", {})  # type: ignore[union-attr]
    assert derive_one(CALLER, seen_until("bridged") + closing.facts + [degraded]) is None


def test_reading_a_long_cel_file_starts_near_the_time_asked(tmp_path, monkeypatch):
    import engine.recovery as recovery

    monkeypatch.setattr(recovery, "CHUNK", 256)
    rows = [f'"HANGUP","{1000 + i}.000000","u{i}","u{i}","PJSIP/x-{i}","c","s","1","",""' for i in range(500)]
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(rows) + "\n")
    text = read_since(path, 1400.0)
    got = [e.uniqueid for e in parse_cel(text)]
    assert "u400" in got and "u499" in got
    assert len(got) < 150, "the file was read from its start"
    assert got == sorted(got, key=lambda u: int(u[1:])) and len(got) == len(set(got))
    assert read_since(tmp_path / "none.csv", 0) == ""


def test_a_live_call_gets_what_happened_during_a_gap_and_no_end():
    """AMI cut while the agent answered: the bridge is replayed from CEL; the call is not closed."""
    from engine.model.reconstruct import replay

    until = at("BRIDGE_ENTER", LEG) + 1.0
    added = replay(CALLER, seen_until("offer"), [e for e in CEL if e.at <= until], AGENTS)
    keys = {f.key for f in added}
    assert {f"channel.up:{LEG}", f"bridge.enter:{CALLER}:152796d6-4a7e-4fec-be16-6bac0e2fadcd",
            f"bridge.enter:{LEG}:152796d6-4a7e-4fec-be16-6bac0e2fadcd"} <= keys  # fmt: skip
    assert not any(f.kind in ("call.end", "channel.hangup", "agent.offer") for f in added)
    enter = next(f for f in added if f.key == f"bridge.enter:{LEG}:152796d6-4a7e-4fec-be16-6bac0e2fadcd")
    assert enter.data["peers"] == [CALLER]


def _engine(tmp_path):  # type: ignore[no-untyped-def]
    from engine.app import Engine
    from engine.clock import VirtualClock
    from engine.config import load_site

    site = load_site(Path(__file__).parents[1] / "examples" / "lab-site.toml")
    return Engine(site, VirtualClock(start=at("HANGUP", CALLER) + 30), None, None, MemoryStore())  # type: ignore[arg-type]


def _recovery(eng, cel):  # type: ignore[no-untyped-def]
    """Recovery on the engine's ports, as the composition root builds it."""
    from engine.recovery import Recovery

    return Recovery(actions=eng, calls=eng, ledger=eng, records=eng.store, ends=eng, spawner=eng, clock=eng.clock,
                    cel_file=cel, cdr_file=None, agents_by_endpoint=AGENTS)


def _resync(*channels: dict[str, str]):  # type: ignore[no-untyped-def]
    from engine.asterisk.ami_link import Resync

    return Resync([Frame(list(c.items())) for c in channels], 2, "login")


def test_at_resync_an_open_call_whose_channels_are_gone_is_closed_once(tmp_path):

    eng = _engine(tmp_path)
    cel = tmp_path / "cel.csv"
    cel.write_text((Path(__file__).parent / "fixtures" / "cel" / "answered-call.csv").read_text())
    ended: list[str] = []

    async def hook(call_id: str) -> None:
        ended.append(call_id)

    eng.call_end_hooks.append(hook)
    rec = _recovery(eng, cel)

    async def go() -> None:
        await eng.store.append(seen_until("offer"), 0)
        await rec.on_resync(_resync())
        await rec.on_resync(_resync())  # a second resync finds nothing open
        await asyncio.sleep(0)

    asyncio.run(go())
    (row,) = asyncio.run(eng.store.records())
    assert row["closed"] == "reconstructed" and row["agent_id"] == "1001" and row["outcome"] == "answered"
    assert ended == [CALLER] and rec.closed == {"reconstructed": 1, "approximate": 0}


def test_a_caller_who_arrived_while_ami_was_down_is_learned_with_asterisks_times(tmp_path):

    eng = _engine(tmp_path)
    cel = tmp_path / "cel.csv"
    # only the caller's first rows: it is still waiting at the resync
    cel.write_text("\n".join((Path(__file__).parent / "fixtures" / "cel" / "answered-call.csv").read_text()
                             .splitlines()[:2]) + "\n")  # fmt: skip
    rec = _recovery(eng, cel)
    queued = Fact("call.queued", at("ANSWER", CALLER) + 2, CALLER, CALLER, f"queued:{CALLER}", {"service": "hotline"})
    waiting = {"Channel": "PJSIP/trunk-00000000", "Uniqueid": CALLER, "Linkedid": CALLER, "Context": "engine-wait"}

    async def go() -> list[Fact]:
        await eng.store.append([queued], 0)  # the IVR wrote this while the model could not see the channel
        await rec.on_resync(_resync(waiting))
        return await eng.store.facts(CALLER)

    facts = asyncio.run(go())
    new = next(f for f in facts if f.kind == "channel.new")
    assert new.data["role"] == "caller" and new.at == at("CHAN_START", CALLER) and new.data["caller"] == "13800138000"
    assert next(f for f in facts if f.kind == "channel.up").at == at("ANSWER", CALLER)
    assert not any(f.kind == "call.end" for f in facts)
    assert eng.model.associations[CALLER].role == "caller"
    assert asyncio.run(eng.store.open_calls(0)) == [CALLER]


def test_a_call_into_an_always_on_session_is_closed_though_the_session_channel_lives_on(tmp_path):
    """The offer's leg of a session call is the agent's session channel: it is still up after the caller hung up
    while the engine was away, and must neither keep the call open nor get an end of this call's."""

    eng = _engine(tmp_path)
    session = "1796143800.7"
    chan = "PJSIP/agent1001-00000000"
    rows = [line for line in (Path(__file__).parent / "fixtures" / "cel" / "answered-call.csv").read_text()
            .splitlines() if f'"{CALLER}","{CALLER}"' in line]  # fmt: skip
    rows.insert(0, f'"CHAN_START","1796143800.100000","{session}","{session}","{chan}","agents","s","1001","",""')
    cel = tmp_path / "cel.csv"
    cel.write_text("\n".join(rows) + "\n")
    before = seen_until("queued")
    before.append(Fact("agent.offer", at("ANSWER", CALLER) + 3, CALLER, session, f"offer:{session}:{CALLER}",
                       {"agent": "1001", "leg": session, "service": "hotline", "session": True}))  # fmt: skip
    rec = _recovery(eng, cel)
    live = {"Channel": chan, "Uniqueid": session, "Linkedid": session, "Context": "agents"}

    async def go() -> list[Fact]:
        await eng.store.append(before, 0)
        await rec.on_resync(_resync(live))
        return await eng.store.facts(CALLER)

    facts = asyncio.run(go())
    end = next(f for f in facts if f.kind == "call.end")
    assert end.at == at("HANGUP", CALLER) and end.data["closed"] == RECONSTRUCTED
    assert not [f.key for f in facts if f.uniqueid == session and f.kind != "agent.offer"]


def test_a_cel_row_cut_inside_its_extra_is_skipped_not_kept_without_its_hangup_source():
    text = (Path(__file__).parent / "fixtures" / "cel" / "answered-call.csv").read_text()
    cut = text[: text.index("hangupsource")]  # Asterisk still writing the caller's HANGUP row
    got = parse_cel(cut)
    assert [e.event for e in got] == [e.event for e in CEL[:8]]
    assert not any(e.event == "HANGUP" for e in got)


def test_the_virtual_time_face_closes_no_calls_from_asterisks_files():
    """The virtual PBX keeps no CEL or CDR; a resync hook reading the lab's real files off-thread let the virtual
    clock run on before the model took the listing (a caller handed over meanwhile was dropped by the hand-over)."""
    import composition
    from engine.asterisk.fastagi import FastAgiServer
    from engine.clock import VirtualClock
    from engine.config import load_site
    from sim.pbx.model import VirtualPbx
    from sim.vtime import MemoryAgiTransport, virtual_link

    site = load_site(Path(__file__).parents[1] / "examples" / "lab-site.toml")
    clock = VirtualClock(1800000000.0)
    virtual = composition.build(site, clock, link=virtual_link(VirtualPbx(clock), clock),
                                agi=FastAgiServer(transport=MemoryAgiTransport()),
                                store=MemoryStore(), finish_recordings=False, http=False)  # type: ignore[arg-type]  # fmt: skip
    assert virtual.resync_hooks == [] and "recovery" not in virtual.features
    assert "http" not in virtual.features, "no socket server in virtual time, whatever the site's [http] listen"


def test_open_calls_in_sqlite_are_the_callers_without_an_end(tmp_path):
    from engine.store.store import Store, migrate

    url = f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    migrate(url)

    def new(call: str, at_: float, role: str = "caller") -> Fact:
        return Fact("channel.new", at_, call, call, f"new:{call}", {"role": role})

    async def go() -> tuple[list[str], list[str], list[Fact]]:
        store = Store(url)
        try:
            await store.append([new("a", 100.0), new("b", 101.0), new("c", 102.0, "other"), new("old", 10.0),
                                Fact("call.end", 150.0, "b", "b", "end:b", {}),
                                Fact("recording.started", 5.0, "old", "", "recstart:old", {})], 0)  # fmt: skip
            return await store.open_calls(50.0), await store.open_calls(0.0), await store.facts(None, (), 50.0)
        finally:
            await store.close()

    recent, all_, since = asyncio.run(go())
    assert recent == ["a"] and sorted(all_) == ["a", "old"]
    assert {f.call_id for f in since if f.kind != "store.created"} == {"a", "b", "c"}


def test_a_call_whose_end_was_written_but_not_its_record_gets_its_record_at_start(tmp_path):
    """Killed between the two transactions (the end, then the record): the next start derives the record."""
    from engine.store.store import Store, migrate

    url = f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    migrate(url)
    eng = _engine(tmp_path)

    async def go() -> tuple[list[str], list[dict]]:
        eng.store = Store(url)
        eng.link = SimpleNamespace(ready=asyncio.Event())
        eng.link.ready.set()
        try:
            closing = close_call(CALLER, seen_until("bridged"), CEL, {}, AGENTS)
            await eng.store.append(seen_until("bridged") + closing.facts, 0)  # the end, and no record
            before = await eng.store.unrecorded_calls(0.0)
            await _recovery(eng, None).finish_recordings(lambda call_id: asyncio.sleep(0))
            return before, await eng.store.records()
        finally:
            await eng.store.close()

    before, rows = asyncio.run(go())
    assert before == [CALLER]
    assert [(r["call_id"], r["outcome"], r["agent_id"]) for r in rows] == [(CALLER, "answered", "1001")]


def test_a_caller_the_menu_met_while_ami_was_down_stays_a_caller_when_an_event_comes_before_the_listing(tmp_path):
    """Seen in chaos: the menu queued a caller who came in while AMI was down, and the ACD's dial made an AMI event
    about it before the resync's listing ended. The model learned the channel from that event mid-call, as
    "other" (its context was the waiting room by then), so no later start found the call open: it was never
    closed, and had no record. The menu's own session names it a caller first."""
    from engine.asterisk.agi_codec import Environment
    from engine.asterisk.fastagi import AgiHangup
    from engine.config import load_site
    from ivr.places import IvrPlaces
    from ivr.session import IvrService
    from ivr.settings import IvrSettings
    from ivr.site_menu import SiteMenu

    eng = _engine(tmp_path)
    site = load_site(Path(__file__).parents[1] / "examples" / "lab-site.toml")
    settings = IvrSettings.of(site["ivr"])
    ivr = IvrService(settings, SiteMenu.of(site, settings), IvrPlaces("/p", None, tmp_path / "menu.json", None),
                     ledger=eng, calls=eng, spawner=eng, clock=eng.clock, on_queued=None)  # type: ignore[arg-type]

    class Agi:
        env = Environment({"agi_uniqueid": CALLER, "agi_channel": "PJSIP/trunk-00000000",
                           "agi_context": "from-trunk", "agi_callerid": "13800138000"})  # fmt: skip
        uniqueid, channel = CALLER, "PJSIP/trunk-00000000"

        async def command(self, *args: str) -> None:
            raise AgiHangup  # the session's first command: enough to have met the caller

    waiting = dict(Channel="PJSIP/trunk-00000000", Uniqueid=CALLER, Linkedid=CALLER, Context="engine-wait",
                   Exten="s", CallerIDNum="13800138000")  # fmt: skip
    cel = tmp_path / "cel.csv"
    cel.write_text((Path(__file__).parent / "fixtures" / "cel" / "answered-call.csv").read_text())

    async def go() -> list[Fact]:
        try:
            await ivr(Agi())  # type: ignore[arg-type]
        except AgiHangup:
            pass
        # the link is back: an event about the caller comes before the listing's end
        await eng.store.append(eng.model.apply(ev("Newexten", at("ANSWER", CALLER) + 2, **waiting), 0), 0)
        await _recovery(eng, cel).on_resync(_resync(waiting))
        assert await eng.store.open_calls(0) == [CALLER]
        # the engine dies, the caller hangs up meanwhile; the next engine's first resync lists no channel
        again = _engine(tmp_path)
        again.store = eng.store
        await _recovery(again, cel).on_resync(_resync())
        (row,) = await eng.store.records()
        assert row["call_id"] == CALLER and row["outcome"] == "answered"
        return await eng.store.facts(CALLER)

    facts = asyncio.run(go())
    (new,) = [f for f in facts if f.kind == "channel.new" and f.uniqueid == CALLER]
    assert new.data["role"] == "caller"
    end = next(f for f in facts if f.kind == "call.end")
    assert end.data["closed"] == RECONSTRUCTED
